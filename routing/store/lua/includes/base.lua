-- base.lua: what every script shares. Errors, JSON in and out, small list and
-- skill helpers. (`P`, the hash-tagged key base from ARGV[1], and `K`, the key
-- builder, are inlined before this by the loader.)

local NULL = cjson.null
-- Constants: a function library builds them once.
--!keep
local CHANNELS = { 'voice', 'sms', 'chat', 'email' }

-- Error codes: routing/store/redis.ts maps each to an error class (SCRIPT_ERRORS).
-- A script returns { code, a, b } for an error and { 0, ... } for a result.
--!keep
local E = {
  NOT_FOUND = -1, -- a = entity, b = id
  INVALID_STATE = -2, -- a = message
  NO_CAPACITY = -3, -- a = agent id, b = message
  CONFLICT = -4, -- a = code, b = message
  INVALID_INPUT = -5, -- a = message, b = field
  CORRUPT = -6, -- a = key, b = detail
  NOT_OWNER = -7, -- a = agent id, b = conversation id
}

-- Abort the script with an error result. Only ever called before the first write, or inside a claim
-- that includes/claim.lua's `claimUpTo` runs under pcall (what came before the claim stands).
local function fail(code, a, b)
  error({ sb = { code, a or false, b or false } }, 0)
end

-- Runs a script's body: its result, or the error result `fail` raised.
local function run(body)
  local ok, result = pcall(body)
  if ok then return result end
  if type(result) == 'table' and result.sb then return result.sb end
  error(result, 0)
end

local function isnull(v)
  return v == nil or v == NULL
end

-- A record as JSON. cjson cannot tell an empty array from an empty object and
-- writes both as {}: an empty list field is stored as {}, and the reader
-- (redis-connection.ts `parseRecord`) takes {} in a record's list field as the
-- empty list. Writing [] here instead (cutting the empty fields out of the text
-- and appending them) cost one and a half times the encoding itself (6.2 against
-- 2.4 µs for a waiting conversation, measured inside Redis).
local function encode(value)
  return cjson.encode(value)
end

-- A JSON object read from `key`, or a corrupt-record error naming it.
local function decode(key, raw)
  local ok, value = pcall(cjson.decode, raw)
  if not ok then fail(E.CORRUPT, key, 'not valid JSON') end
  if type(value) ~= 'table' then fail(E.CORRUPT, key, 'not a JSON object') end
  return value
end

-- Customer `customerId` was active at `at` (ms; a number, or a string of digits as given): created, or a message
-- to or from them stored. A later activity they had stands (keys.lua `customerActivity`).
local function active(customerId, at)
  if type(at) == 'number' then at = string.format('%d', at) end
  redis.call('ZADD', K.customerActivity(), 'GT', at, customerId)
end

local function contains(list, value)
  for _, v in ipairs(list) do
    if v == value then return true end
  end
  return false
end

-- A new list without `value`.
local function without(list, value)
  local out = {}
  for _, v in ipairs(list) do
    if v ~= value then out[#out + 1] = v end
  end
  return out
end

-- A conversation's `joinedAt` (when each consultant joined, each invited colleague was invited): `agentId` at `now`.
local function setJoined(c, agentId, now)
  if type(c.joinedAt) ~= 'table' then c.joinedAt = {} end
  c.joinedAt[agentId] = now
end

-- `agentId` no longer consults on the conversation nor is invited: their `joinedAt` goes (the field with its last).
local function dropJoined(c, agentId)
  if type(c.joinedAt) ~= 'table' or c.joinedAt[agentId] == nil then return end
  c.joinedAt[agentId] = nil
  if next(c.joinedAt) == nil then c.joinedAt = nil end
end

-- Byte order, as Redis and JavaScript compare these ASCII names (Lua's `<` follows the locale).
local function bytesLess(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- The names of a set of skills, in byte order.
local function skillNames(skills)
  local names = {}
  for name in pairs(skills) do names[#names + 1] = name end
  table.sort(names, bytesLess)
  return names
end

-- `name:level,…` sorted by name: a set of skills as it appears in a line's bucket key.
local function skillsKey(skills)
  local names = skillNames(skills)
  local parts = {}
  for i, name in ipairs(names) do parts[i] = name .. ':' .. tostring(skills[name]) end
  return table.concat(parts, ',')
end

-- A set of skills from `name:level,…` (never to be changed: it may be shared).
local function parseSkills(text)
  local skills = {}
  for name, level in string.gmatch(text, '([^,:]+):([^,]+)') do skills[name] = tonumber(level) end
  return skills
end

-- Whether routing may give the agent (or an agent's snapshot) something on the channel: a place free that no
-- hand-off keeps (`reserved`, absent: none kept).
local function hasRoom(a, channel)
  local kept = a.reserved and a.reserved[channel] or 0
  return a.load[channel] + kept < a.capacity[channel]
end

-- True when every required skill is met at its minimum level.
local function meets(have, required)
  for name, min in pairs(required) do
    if (have[name] or -1) < min then return false end
  end
  return true
end

-- A waiting line's bucket key is `channel|skill:level,…`. Its channel and skills, read from the key once per
-- function library (a status change looks at every line the agent may serve; the same few hundred lines
-- come back call after call). Bounded: it starts afresh past 4,096 keys.
--!keep
local LINE_INFO = { n = 0, of = {} }
local function lineInfo(bucket)
  local info = LINE_INFO.of[bucket]
  if info then return info end
  info = { channel = string.match(bucket, '^([^|]*)|'), skills = parseSkills(string.match(bucket, '|(.*)$')) }
  if LINE_INFO.n >= 4096 then LINE_INFO.n, LINE_INFO.of = 0, {} end
  LINE_INFO.n = LINE_INFO.n + 1
  LINE_INFO.of[bucket] = info
  return info
end

local function lineChannel(bucket)
  return lineInfo(bucket).channel
end

-- The line's required skills (shared: never to be changed).
local function lineSkills(bucket)
  return lineInfo(bucket).skills
end

local function bucketKey(channel, skills)
  return channel .. '|' .. skillsKey(skills)
end

-- ---- the lines' names index (keys.lua `lineNames`): lines by the names of the skills they require, so that an
-- agent's status change looks only at the lines whose every required skill the agent has. Lines are never
-- removed.

-- Index a line just created (line.lua `ensureLine`).
local function indexLine(bucket)
  local names = table.concat(skillNames(lineSkills(bucket)), ',')
  local held = redis.call('HGET', K.lineNames(), names)
  redis.call('HSET', K.lineNames(), names, held and (held .. '\n' .. bucket) or bucket)
  redis.call('HINCRBY', K.lineNames(), '#', 1)
end

-- Index every line again (lines created before the index was kept): when the index does not count every line.
local function ensureLineNames()
  local lines = redis.call('HLEN', K.lines())
  if tonumber(redis.call('HGET', K.lineNames(), '#') or '0') == lines then return end
  redis.call('DEL', K.lineNames())
  local byNames = {}
  for _, bucket in ipairs(redis.call('HKEYS', K.lines())) do
    local names = table.concat(skillNames(lineSkills(bucket)), ',')
    local list = byNames[names]
    if not list then
      list = {}
      byNames[names] = list
    end
    list[#list + 1] = bucket
  end
  for names, list in pairs(byNames) do redis.call('HSET', K.lineNames(), names, table.concat(list, '\n')) end
  redis.call('HSET', K.lineNames(), '#', lines)
end

-- The lines an agent with `skills` may be skilled for: those whose required skill names are all theirs (the
-- caller checks the levels). With more than 8 skill names (256 subsets to look up), every line.
local function linesFor(skills)
  local names = skillNames(skills)
  if #names > 8 then return redis.call('HKEYS', K.lines()) end
  ensureLineNames()
  -- Every subset of the names, in their order: the index's field names.
  local fields = {}
  for mask = 0, 2 ^ #names - 1 do
    local picked, m = {}, mask
    for i = 1, #names do
      if m % 2 == 1 then picked[#picked + 1] = names[i] end
      m = math.floor(m / 2)
    end
    fields[#fields + 1] = table.concat(picked, ',')
  end
  local out = {}
  for _, held in ipairs(redis.call('HMGET', K.lineNames(), unpack(fields))) do
    if held then
      for bucket in string.gmatch(held, '[^\n]+') do out[#out + 1] = bucket end
    end
  end
  return out
end

