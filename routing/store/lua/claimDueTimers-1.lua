--[[ claimDueTimers-1.lua: remove and return the timers due at `now`, oldest
first (due time, then kind:ref): each is returned to one caller only, however
many processes tick at once.

KEYS[1]  the timers sorted set (member kind:ref, score dueAt)
ARGV[1]  key base; ARGV[2] now; ARGV[3] limit
Result   {0, member1, dueAt1, member2, dueAt2, ...}
]]
--!include keys.lua
--!include base.lua

return run(function()
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
  local out = { 0 }
  for i = 1, #due, 2 do
    redis.call('ZREM', KEYS[1], due[i])
    out[#out + 1] = due[i]
    out[#out + 1] = due[i + 1]
  end
  return out
end)
