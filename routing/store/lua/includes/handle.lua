-- handle.lua: recent handle times per channel. The newest `window` are kept in
-- a list (newest last) and their sum beside it (a hash, channel → ms), so that
-- a wait quote reads two numbers instead of the whole list.

-- The sum of the channel's kept handle times: as kept, or added up from the list
-- when no sum is kept yet (a store written before the sum was). An entry that is
-- not a number counts as 0: it only ever fed estimates.
local function handleTotal(channel)
  local total = tonumber(redis.call('HGET', K.handleTotals(), channel))
  if total then return total end
  local sum = 0
  for _, ms in ipairs(redis.call('LRANGE', K.handleTimes(channel), 0, -1)) do sum = sum + (tonumber(ms) or 0) end
  return sum
end

-- Add a handle time on the channel, keeping the newest `window` and their sum.
local function recordHandle(channel, ms, window)
  local key = K.handleTimes(channel)
  local total = handleTotal(channel) + ms
  local n = redis.call('RPUSH', key, ms)
  while n > window do
    total = total - (tonumber(redis.call('LPOP', key)) or 0)
    n = n - 1
  end
  redis.call('HSET', K.handleTotals(), channel, string.format('%.17g', total))
end

-- How many of those ahead in line a place is checked against for ringing (memory.ts RINGING_LOOKAHEAD).
--!keep
local RINGING_LOOKAHEAD = 64

-- Of the servers of a line (`bucket`), those who declined the wait of conversation `id` and stayed available: they
-- are not offered it again (as memory.ts `#snapshot`). Their capacity in the line's servers, and how many of the
-- team they are.
local function declinedServers(id, bucket)
  local c = loadConversation(id)
  local capacity, count = 0, 0
  if not c then return 0, 0 end
  local line = lineInfo(bucket)
  for _, agentId in ipairs(c.declinedBy) do
    local a = loadAgent(agentId)
    if a and a.status == 'available' then
      if meets(a.skills, line.skills) then capacity = capacity + a.capacity[line.channel] end
      if not a.leftAt then count = count + 1 end
    end
  end
  return capacity, count
end

-- Where a waiting conversation stands (queueSnapshot-1.lua's result after its 0): its 1-based place in its line, the
-- servers (less those who declined it), its channel, how many handle times the channel keeps and their sum, and how
-- many available agents of the team declined it; nil when it is not in line.
local function waitSnapshot(id)
  local bucket, rank = placeInLine(id)
  if not bucket then return nil end
  -- Of those ahead (the first RINGING_LOOKAHEAD), the ones ringing an agent (an offer timer set) are being
  -- answered: not counted as waiting ahead (store.ts `QueueSnapshot.position`).
  local ahead = math.min(rank, RINGING_LOOKAHEAD)
  if ahead > 0 then
    local names = {}
    for i, member in ipairs(redis.call('ZRANGE', K.lineByScore(bucket), 0, ahead - 1)) do
      names[i] = 'offer:' .. string.sub(member, 17)
    end
    for _, score in ipairs(redis.call('ZMSCORE', K.timers(), unpack(names))) do
      if score then rank = rank - 1 end
    end
  end
  local declinedCapacity, declined = declinedServers(id, bucket)
  local servers = tonumber(redis.call('HGET', K.servers(), bucket) or '0') - declinedCapacity
  local channel = lineChannel(bucket)
  local count = redis.call('LLEN', K.handleTimes(channel))
  return { rank + 1, servers, channel, count, string.format('%.17g', handleTotal(channel)), declined }
end
