--[[ openConversationOf-1.lua: the customer's open (queued or assigned)
conversation that was active last.

KEYS[1]  the customer's open-conversations index
ARGV[1]  key base; ARGV[2] customer id
Result   {0, conversation} | {0} when none is open
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include contact.lua

return run(function()
  local best = openConversation(ARGV[2])
  if not best then return { 0 } end
  return { 0, json(best) }
end)
