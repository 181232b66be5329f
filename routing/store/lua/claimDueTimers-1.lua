--[[ claimDueTimers-1.lua: claim the timers due at `now`, oldest first (due
time, then kind:ref): each is returned to one caller only, however many
processes tick at once. Without a lease (ARGV[4] 0) a claimed timer is removed;
with one, it stays, due again at the lease's end, so that a process that dies
(or loses Redis) before it has fired it leaves it to another then; the caller
removes it once fired (finishTimers-1.lua). Only timers of the kinds the caller
knows are claimed: during a rolling upgrade, a kind only the newer processes
know waits for one of them instead of being taken and dropped by an older one.

KEYS[1]  the timers sorted set (member kind:ref, score dueAt)
ARGV[1]  key base; ARGV[2] now; ARGV[3] limit; ARGV[4] the lease's end (0: no
         lease); ARGV[5..] the kinds the caller knows
Result   {0, member1, dueAt1, member2, dueAt2, ...}
]]
--!include keys.lua
--!include base.lua

return run(function()
  local limit = tonumber(ARGV[3])
  local lease = tonumber(ARGV[4])
  local known = {}
  for i = 5, #ARGV do known[ARGV[i]] = true end
  local out = { 0 }
  local skipped, claimed = 0, 0
  while claimed < limit do
    local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'WITHSCORES', 'LIMIT', skipped, limit - claimed)
    if #due == 0 then break end
    for i = 1, #due, 2 do
      local member = due[i]
      if known[string.match(member, '^([^:]*):')] then
        if lease > 0 then
          redis.call('ZADD', KEYS[1], ARGV[4], member)
        else
          redis.call('ZREM', KEYS[1], member)
        end
        out[#out + 1] = member
        out[#out + 1] = due[i + 1]
        claimed = claimed + 1
      else
        skipped = skipped + 1
      end
    end
  end
  return out
end)
