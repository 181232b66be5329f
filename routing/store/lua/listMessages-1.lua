--[[ listMessages-1.lua: a conversation's messages in append order.

KEYS[1]  the conversation's message list
ARGV[1]  key base
Result   {0, id1, message1 | false, id2, message2 | false, ...}
]]
--!include keys.lua
--!include base.lua

return run(function()
  local out = { 0 }
  for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
    out[#out + 1] = id
    out[#out + 1] = redis.call('GET', K.message(id))
  end
  return out
end)
