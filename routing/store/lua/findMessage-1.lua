--[[ findMessage-1.lua: the message stored under (channel, externalId), if any.

KEYS[1]  the external-id hash
ARGV[1]  key base; ARGV[2] external key (channel:externalId)
Result   {0, message id, message} | {0}
]]
--!include keys.lua
--!include base.lua

return run(function()
  local id = redis.call('HGET', KEYS[1], ARGV[2])
  if not id then return { 0 } end
  local raw = redis.call('GET', K.message(id))
  if not raw then return { 0 } end
  return { 0, id, raw }
end)
