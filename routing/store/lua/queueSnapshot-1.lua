--[[ queueSnapshot-1.lua: where a waiting conversation stands: its 1-based place
in its line, and the servers (capacity of the available agents skilled for it).

KEYS[1]  the waiting hash
ARGV[1]  key base; ARGV[2] conversation id
Result   {0, position, servers, channel, handle count, handle total ms} | {0} when it is not in line
Reads    its line, the servers hash, how many handle times the channel keeps and their sum.
]]
--!include keys.lua
--!include base.lua
--!include line.lua
--!include handle.lua

return run(function()
  local id = ARGV[2]
  local bucket = redis.call('HGET', KEYS[1], id)
  if not bucket then return { 0 } end
  local arrival = redis.call('ZSCORE', K.lineByArrival(bucket), id)
  local rank = arrival and redis.call('ZRANK', K.lineByScore(bucket), pad(tonumber(arrival)) .. id)
  if not rank then return { 0 } end
  local servers = tonumber(redis.call('HGET', K.servers(), bucket) or '0')
  local channel = lineChannel(bucket)
  local count = redis.call('LLEN', K.handleTimes(channel))
  return { 0, rank + 1, servers, channel, count, string.format('%.17g', handleTotal(channel)) }
end)
