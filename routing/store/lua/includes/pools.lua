-- pools.lua: the free agents per channel and per channel+skill (sorted sets,
-- score idleSince: longest idle first), and the capacity an agent holds.

-- Out of every pool, for the skills the agent has now.
local function unindexAgent(a)
  for _, channel in ipairs(CHANNELS) do
    redis.call('ZREM', K.pool(channel), a.id)
    for skill in pairs(a.skills) do redis.call('ZREM', K.skillPool(channel, skill), a.id) end
  end
end

-- Into the pools of every channel where the agent is available with capacity left; out of the others.
-- (Skills unchanged since the last time: after a change of skills, `unindexAgent` first.)
local function indexAgent(a)
  local free = a.status == 'available'
  for _, channel in ipairs(CHANNELS) do
    if free and a.load[channel] < a.capacity[channel] then
      redis.call('ZADD', K.pool(channel), a.idleSince, a.id)
      for skill in pairs(a.skills) do redis.call('ZADD', K.skillPool(channel, skill), a.idleSince, a.id) end
    else
      redis.call('ZREM', K.pool(channel), a.id)
      for skill in pairs(a.skills) do redis.call('ZREM', K.skillPool(channel, skill), a.id) end
    end
  end
end

-- The agent in or out of one channel's pools (idleSince unchanged since they were indexed).
local function indexAgentOn(a, channel)
  if a.status == 'available' and a.load[channel] < a.capacity[channel] then
    redis.call('ZADD', K.pool(channel), a.idleSince, a.id)
    for skill in pairs(a.skills) do redis.call('ZADD', K.skillPool(channel, skill), a.idleSince, a.id) end
  else
    redis.call('ZREM', K.pool(channel), a.id)
    for skill in pairs(a.skills) do redis.call('ZREM', K.skillPool(channel, skill), a.id) end
  end
end

-- Hold one unit of the agent's capacity on `channel` (checked before the first write). A new
-- idle time moves them in every pool they are in; otherwise only this channel's can change.
local function takeSlot(a, channel, now, touchIdle)
  a.load[channel] = a.load[channel] + 1
  if touchIdle ~= false and a.idleSince ~= now then
    a.idleSince = now
    indexAgent(a)
  else
    indexAgentOn(a, channel)
  end
  changed('agent', a)
end

local function releaseSlot(a, channel)
  a.load[channel] = math.max(0, a.load[channel] - 1)
  indexAgentOn(a, channel)
  changed('agent', a)
end

local function setStatus(a, status, reason, now)
  if status == 'available' and a.status ~= 'available' then
    a.availableSince = now
    a.idleSince = now
  end
  if status ~= 'available' then a.availableSince = nil end
  a.status = status
  a.statusReason = reason
  indexAgent(a)
  changed('agent', a)
end

-- The longest-idle free agent on the channel with the skills, not skipped: scans the smallest pool.
local function pickFromPool(channel, skills, skip)
  local pool = K.pool(channel)
  local size = redis.call('ZCARD', pool)
  for skill in pairs(skills) do
    local key = K.skillPool(channel, skill)
    local n = redis.call('ZCARD', key)
    if n == 0 then return nil end
    if n < size then pool, size = key, n end
  end
  local start, page = 0, 4
  while true do
    local ids = redis.call('ZRANGE', pool, start, start + page - 1)
    for _, id in ipairs(ids) do
      if not skip(id) then
        local a = loadAgent(id)
        if a and meets(a.skills, skills) then return a end
      end
    end
    if #ids < page then return nil end
    start = start + page
    page = 64
  end
end
