--[[ openConversationOf-1.lua: the customer's open (queued or assigned)
conversation that was active last.

KEYS[1]  the customer's open-conversations index
ARGV[1]  key base; ARGV[2] customer id
Result   {0, conversation} | {0} when none is open
]]
--!include keys.lua
--!include base.lua
--!include records.lua

return run(function()
  local best
  for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    local c = loadConversation(id)
    if c and (c.status == 'queued' or c.status == 'assigned') and (not best or c.lastContactAt > best.lastContactAt) then
      best = c
    end
  end
  if not best then return { 0 } end
  return { 0, json(best) }
end)
