-- line.lua: the waiting lines. One line (bucket) per channel and set of
-- required skills, kept as two sorted sets, as the memory store keeps two
-- indexes: by score (member = 16-digit arrival + id, so equal scores go by
-- arrival, then id) and by arrival (member = id). Per channel, the lines'
-- heads (best score) and oldest arrivals are kept in two more sorted sets, so
-- that a claim looks at the few lines that can win instead of all of them.

local function pad(arrival)
  return string.format('%016d', arrival)
end

-- When this wait started: the customer's place in line (as rules.ts `waitingSince`).
local function waitingSince(c)
  if c.status == 'assigned' then
    if not isnull(c.waitingForOwnerSince) then return c.waitingForOwnerSince end
    return c.lastContactAt
  end
  if not isnull(c.queuedAt) then return c.queuedAt end
  return c.createdAt
end

-- Create a line the first time a conversation waits in it: its number (creation
-- order, the tie-break between lines) and its servers, counted from the
-- capacity of the available agents grouped by skills.
local function ensureLine(bucket)
  if redis.call('HEXISTS', K.lines(), bucket) == 1 then return end
  redis.call('HSET', K.lines(), bucket, redis.call('HLEN', K.lines()) + 1)
  indexLine(bucket)
  local required = lineSkills(bucket)
  local caps = redis.call('HGETALL', K.capacityBySkills(lineChannel(bucket)))
  local servers = 0
  for i = 1, #caps, 2 do
    if meets(parseSkills(caps[i]), required) then servers = servers + tonumber(caps[i + 1]) end
  end
  redis.call('HSET', K.servers(), bucket, servers)
end

-- Keep the channel's head and oldest index right after the line changed. With `gone` (where the conversation
-- that just left was: see `dequeue`), only what its leaving can have changed: the head when it was the head
-- or may have been, the oldest when it was the oldest.
local function refreshLine(bucket, gone)
  local channel = lineChannel(bucket)
  local oldestMoved = not gone or gone.arrival <= gone.oldest
  if not gone or gone.head ~= false then
    local head = redis.call('ZRANGE', K.lineByScore(bucket), 0, 0, 'WITHSCORES')
    if #head == 0 then
      redis.call('ZREM', K.lineHeads(channel), bucket)
      redis.call('ZREM', K.lineOldest(channel), bucket)
      return
    end
    redis.call('ZADD', K.lineHeads(channel), head[2], bucket)
  end
  if oldestMoved then
    local oldest = redis.call('ZRANGE', K.lineByArrival(bucket), 0, 0, 'WITHSCORES')
    redis.call('ZADD', K.lineOldest(channel), oldest[2], bucket)
  end
end

-- Take conversation `id` out of its line, if it waits in one. `at`, when the caller found it in a line
-- (includes/claim.lua `lineHead`): {bucket, arrival, oldest = the line's oldest arrival, head = false when
-- it was not the line's head (nil: not known)}.
local function dequeue(id, at)
  local bucket, arrival
  if at then
    bucket, arrival = at.bucket, at.arrival
  else
    bucket = redis.call('HGET', K.waiting(), id)
    if not bucket then return end
    arrival = tonumber(redis.call('ZSCORE', K.lineByArrival(bucket), id))
  end
  if arrival then redis.call('ZREM', K.lineByScore(bucket), pad(arrival) .. id) end
  redis.call('ZREM', K.lineByArrival(bucket), id)
  redis.call('HDEL', K.waiting(), id)
  redis.call('HINCRBY', K.waitingCount(), lineChannel(bucket), -1)
  refreshLine(bucket, at)
end

-- Put a conversation in line on `channel` with `score`. Already waiting on that
-- channel: it keeps its place. Waiting on another (the customer switched): the
-- same place (its arrival) in the new line.
local function enqueue(c, channel, score)
  local current = redis.call('HGET', K.waiting(), c.id)
  if current then
    if lineChannel(current) == channel then return end
    dequeue(c.id)
  end
  local bucket = bucketKey(channel, c.skills)
  ensureLine(bucket)
  local arrival = waitingSince(c)
  redis.call('ZADD', K.lineByScore(bucket), score, pad(arrival) .. c.id)
  redis.call('ZADD', K.lineByArrival(bucket), arrival, c.id)
  redis.call('HSET', K.waiting(), c.id, bucket)
  redis.call('HINCRBY', K.waitingCount(), channel, 1)
  refreshLine(bucket)
end

-- Where a conversation waits: its line (bucket key) and its 0-based rank there, or nil when it is not in line.
local function placeInLine(id)
  local bucket = redis.call('HGET', K.waiting(), id)
  if not bucket then return nil end
  local arrival = redis.call('ZSCORE', K.lineByArrival(bucket), id)
  local rank = arrival and redis.call('ZRANK', K.lineByScore(bucket), pad(tonumber(arrival)) .. id)
  if not rank then return nil end
  return bucket, rank
end

-- Members and scores of a sorted set in order, a page at a time: `for member, score in ordered(key)`. Pages
-- start at 4 entries and double up to 64: most loops stop within the first few (a claim's search of the
-- lines' heads stops at the first head that cannot win), and every entry read costs a reply converted.
local function ordered(key)
  local start, size, page, i = 0, 4, {}, 1
  return function()
    if i > #page then
      if #page > 0 and #page < 2 * size then return nil end
      if #page > 0 then
        start = start + size
        size = math.min(2 * size, 64)
      end
      page = redis.call('ZRANGE', key, start, start + size - 1, 'WITHSCORES')
      i = 1
      if #page == 0 then return nil end
    end
    local member, score = page[i], tonumber(page[i + 1])
    i = i + 2
    return member, score
  end
end
