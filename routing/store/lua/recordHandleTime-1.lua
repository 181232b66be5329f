--[[ recordHandleTime-1.lua: add a handle time on a channel, keeping the newest `window`.

KEYS[1]  the channel's handle-time list
ARGV[1]  key base; ARGV[2] milliseconds; ARGV[3] window; ARGV[4] the channel
Result   {0}
Also     keeps the sum of the kept times (includes/handle.lua).
]]
--!include keys.lua
--!include base.lua
--!include handle.lua

return run(function()
  recordHandle(ARGV[4], math.max(0, tonumber(ARGV[2])), tonumber(ARGV[3]))
  return { 0 }
end)
