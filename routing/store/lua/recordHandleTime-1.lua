--[[ recordHandleTime-1.lua: add a handle time on a channel, keeping the newest `window`.

KEYS[1]  the channel's handle-time list
ARGV[1]  key base; ARGV[2] milliseconds; ARGV[3] window
Result   {0}
]]
--!include keys.lua
--!include base.lua

return run(function()
  redis.call('RPUSH', KEYS[1], math.max(0, tonumber(ARGV[2])))
  redis.call('LTRIM', KEYS[1], -tonumber(ARGV[3]), -1)
  return { 0 }
end)
