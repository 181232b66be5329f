--[[ addPromise-2.lua: store a promise (as given) and list it under its conversation.

KEYS[1]  the promise record; KEYS[2] the conversation's promise list
ARGV[1]  key base; ARGV[2] promise id; ARGV[3] promise (JSON)
Result   {0, promise}
]]
--!include keys.lua
--!include base.lua

return run(function()
  redis.call('SET', KEYS[1], ARGV[3])
  redis.call('RPUSH', KEYS[2], ARGV[2])
  return { 0, ARGV[3] }
end)
