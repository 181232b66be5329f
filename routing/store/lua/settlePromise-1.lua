--[[ settlePromise-1.lua: settle an open promise (kept, broken, void), once.

KEYS[1]  the promise record
ARGV[1]  key base; ARGV[2] promise id; ARGV[3] state; ARGV[4] now
Result   {0, promise} | {0} when it does not exist or is settled already
]]
--!include keys.lua
--!include base.lua

return run(function()
  local raw = redis.call('GET', KEYS[1])
  if not raw then return { 0 } end
  local p = decode(KEYS[1], raw)
  if type(p.state) ~= 'string' then fail(E.CORRUPT, KEYS[1], 'field state is missing or has the wrong type') end
  if p.state ~= 'open' then return { 0 } end
  p.state = ARGV[3]
  p.settledAt = tonumber(ARGV[4])
  raw = encode(p)
  redis.call('SET', KEYS[1], raw)
  return { 0, raw }
end)
