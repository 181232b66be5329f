--[[ finishTimers-1.lua: remove timers a caller claimed with a lease and has
fired, each only while it is still due at that lease's end: one scheduled again
meanwhile (by the timer's own work or by another process) is kept.

KEYS[1]  the timers sorted set (member kind:ref, score dueAt)
ARGV[1]  key base; ARGV[2] the lease's end; ARGV[3..] the members (kind:ref)
Result   {0, how many were removed}
]]
--!include keys.lua
--!include base.lua

return run(function()
  local lease = tonumber(ARGV[2])
  local removed = 0
  for i = 3, #ARGV do
    local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
    if score and tonumber(score) == lease then
      redis.call('ZREM', KEYS[1], ARGV[i])
      removed = removed + 1
    end
  end
  return { 0, removed }
end)
