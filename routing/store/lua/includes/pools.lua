-- pools.lua: the capacity an agent holds, their status, and picking the
-- longest-idle free agent. The pools themselves follow the agent's record when
-- it is written (records.lua, `movePools`).

-- Hold one unit of the agent's capacity on `channel` (checked before the first write); unless
-- `touchIdle` is false, their idle time starts again.
local function takeSlot(a, channel, now, touchIdle)
  a.load[channel] = a.load[channel] + 1
  if touchIdle ~= false then a.idleSince = now end
  changed('agent', a)
end

-- Keep one more (`delta` 1) or one fewer (-1) place on `channel` for a hand-off offered to the agent.
local function keepPlace(a, channel, delta)
  local r = a.reserved or { voice = 0, sms = 0, chat = 0, email = 0 }
  r[channel] = math.max(0, r[channel] + delta)
  a.reserved = r
  changed('agent', a)
end

-- The places kept on the agent, counted again from the hand-offs offered to them (their helping index), when any
-- is kept: a place that a process of an older version left kept (it ended the hand-off without giving the place
-- back) is given back. A conversation that cannot be read keeps nothing. Before the first write.
local function recountKept(a)
  local r = a.reserved
  if not r or (r.voice == 0 and r.sms == 0 and r.chat == 0 and r.email == 0) then return end
  local counts = { voice = 0, sms = 0, chat = 0, email = 0 }
  for _, id in ipairs(redis.call('ZRANGE', K.helpingIn(a.id), 0, -1)) do
    local ok, c = pcall(loadConversation, id)
    local h = ok and c and c.status == 'assigned' and c.handoff
    if h and not isnull(h) and h.to == a.id and h.channel then counts[h.channel] = counts[h.channel] + 1 end
  end
  for _, channel in ipairs(CHANNELS) do
    if counts[channel] ~= r[channel] then
      a.reserved = counts
      changed('agent', a)
      return
    end
  end
end

local function releaseSlot(a, channel)
  a.load[channel] = math.max(0, a.load[channel] - 1)
  changed('agent', a)
end

local function setStatus(a, status, reason, now)
  if a.leftAt and status ~= 'offline' then fail(E.INVALID_STATE, 'agent ' .. a.id .. ' left the team') end
  if status == 'available' and a.status ~= 'available' then
    a.availableSince = now
    a.idleSince = now
  end
  if status ~= 'available' then a.availableSince = nil end
  a.status = status
  a.statusReason = reason
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
