--[[ stats-1.lua: what waits, per channel, and the agents per status.

KEYS[1]  the waiting hash
ARGV[1]  key base
Result   {0, waiting, voice, sms, chat, email, available, away, offline}
]]
--!include keys.lua
--!include base.lua

return run(function()
  local out = { 0, redis.call('HLEN', KEYS[1]) }
  for _, channel in ipairs(CHANNELS) do
    out[#out + 1] = tonumber(redis.call('HGET', K.waitingCount(), channel) or '0')
  end
  for _, status in ipairs({ 'available', 'away', 'offline' }) do
    out[#out + 1] = redis.call('SCARD', K.agentsByStatus(status))
  end
  return out
end)
