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
  local bucket, rank = placeInLine(ARGV[2])
  if not bucket then return { 0 } end
  local servers = tonumber(redis.call('HGET', K.servers(), bucket) or '0')
  local channel = lineChannel(bucket)
  local count = redis.call('LLEN', K.handleTimes(channel))
  return { 0, rank + 1, servers, channel, count, string.format('%.17g', handleTotal(channel)) }
end)
