-- records.lua: loading records (checked, cached per script run) and writing
-- them back once at the end (`flush`), keeping every index that depends on a
-- record's fields: conversations by status, owner and customer; agents by
-- status; the free agents' pools; the capacity behind each waiting line
-- (servers).
--
-- A script loads every record it may change before its first write, so a
-- corrupt record stops it before anything is written.

-- ---------------------------------------------------------------- shape checks
-- Plain functions, no tables of checks: a script builds its helpers on every
-- run, so they must cost nothing until called.

local function corrupt(key, field)
  fail(E.CORRUPT, key, 'field ' .. field .. ' is missing or has the wrong type')
end

local function isChannel(v)
  return v == 'voice' or v == 'sms' or v == 'chat' or v == 'email'
end

-- A JSON array (an empty one decodes as an empty table) whose items have Lua type `itemType`.
local function isList(v, itemType)
  if type(v) ~= 'table' then return false end
  for k, x in pairs(v) do
    if type(k) ~= 'number' or type(x) ~= itemType then return false end
  end
  return true
end

-- A JSON object of numbers (skills).
local function isNumbers(v)
  if type(v) ~= 'table' then return false end
  for k, x in pairs(v) do
    if type(k) ~= 'string' or type(x) ~= 'number' then return false end
  end
  return true
end

local function isPerChannel(v)
  return type(v) == 'table' and type(v.voice) == 'number' and type(v.sms) == 'number'
    and type(v.chat) == 'number' and type(v.email) == 'number'
end

local function nullOr(v, t)
  return v == NULL or type(v) == t
end

local function absentOr(v, t)
  return v == nil or type(v) == t
end

local function isCover(v)
  return v == NULL or (type(v) == 'table' and type(v.agentId) == 'string' and isChannel(v.channel)
    and type(v.since) == 'number')
end

local function isOffer(v)
  return v == NULL or (type(v) == 'table' and type(v.agentId) == 'string' and isChannel(v.channel)
    and type(v.at) == 'number' and type(v.expiresAt) == 'number' and type(v.reason) == 'string')
end

local function isHandoff(v)
  return v == NULL or (type(v) == 'table' and type(v.from) == 'string' and type(v.to) == 'string'
    and type(v.note) == 'string' and type(v.at) == 'number' and (v.channel == nil or isChannel(v.channel)))
end

local function isOwnership(v)
  if not isList(v, 'table') then return false end
  for _, m in ipairs(v) do
    if not (nullOr(m.from, 'string') and type(m.to) == 'string' and type(m.reason) == 'string'
      and type(m.at) == 'number') then
      return false
    end
  end
  return true
end

local function checkConversation(key, c)
  if type(c.id) ~= 'string' then return corrupt(key, 'id') end
  if type(c.customerId) ~= 'string' then return corrupt(key, 'customerId') end
  local s = c.status
  if s ~= 'queued' and s ~= 'assigned' and s ~= 'resolved' and s ~= 'abandoned' then return corrupt(key, 'status') end
  if not nullOr(c.ownerId, 'string') then return corrupt(key, 'ownerId') end
  if not (c.slotChannel == NULL or isChannel(c.slotChannel)) then return corrupt(key, 'slotChannel') end
  if not isCover(c.cover) then return corrupt(key, 'cover') end
  if not isList(c.consultants, 'string') then return corrupt(key, 'consultants') end
  if not isList(c.invited, 'string') then return corrupt(key, 'invited') end
  if not (c.joinedAt == nil or isNumbers(c.joinedAt)) then return corrupt(key, 'joinedAt') end
  if not isList(c.channels, 'string') then return corrupt(key, 'channels') end
  if not isChannel(c.lastChannel) then return corrupt(key, 'lastChannel') end
  if not isNumbers(c.skills) then return corrupt(key, 'skills') end
  if type(c.priority) ~= 'number' then return corrupt(key, 'priority') end
  if type(c.createdAt) ~= 'number' then return corrupt(key, 'createdAt') end
  if type(c.lastContactAt) ~= 'number' then return corrupt(key, 'lastContactAt') end
  if not nullOr(c.queuedAt, 'number') then return corrupt(key, 'queuedAt') end
  if not nullOr(c.waitingForOwnerSince, 'number') then return corrupt(key, 'waitingForOwnerSince') end
  if not nullOr(c.assignedAt, 'number') then return corrupt(key, 'assignedAt') end
  if not nullOr(c.firstAssignedAt, 'number') then return corrupt(key, 'firstAssignedAt') end
  if not nullOr(c.resolvedAt, 'number') then return corrupt(key, 'resolvedAt') end
  if not nullOr(c.followUpAt, 'number') then return corrupt(key, 'followUpAt') end
  if not isOffer(c.offer) then return corrupt(key, 'offer') end
  if not isHandoff(c.handoff) then return corrupt(key, 'handoff') end
  if not isOwnership(c.ownership) then return corrupt(key, 'ownership') end
  if not isList(c.declinedBy, 'string') then return corrupt(key, 'declinedBy') end
  if not absentOr(c.repeatOf, 'string') then return corrupt(key, 'repeatOf') end
  if not absentOr(c.followUpOf, 'table') then return corrupt(key, 'followUpOf') end
  if not absentOr(c.survey, 'table') then return corrupt(key, 'survey') end
  if not absentOr(c.closedBy, 'string') then return corrupt(key, 'closedBy') end
end

local function checkAgent(key, a)
  if type(a.id) ~= 'string' then return corrupt(key, 'id') end
  if type(a.name) ~= 'string' then return corrupt(key, 'name') end
  if not isNumbers(a.skills) then return corrupt(key, 'skills') end
  if not isPerChannel(a.capacity) then return corrupt(key, 'capacity') end
  local s = a.status
  if s ~= 'available' and s ~= 'away' and s ~= 'offline' then return corrupt(key, 'status') end
  if not absentOr(a.statusReason, 'string') then return corrupt(key, 'statusReason') end
  if not isPerChannel(a.load) then return corrupt(key, 'load') end
  if not (a.reserved == nil or isPerChannel(a.reserved)) then return corrupt(key, 'reserved') end
  if type(a.idleSince) ~= 'number' then return corrupt(key, 'idleSince') end
  if not absentOr(a.availableSince, 'number') then return corrupt(key, 'availableSince') end
  if not absentOr(a.slackUserId, 'string') then return corrupt(key, 'slackUserId') end
  if not absentOr(a.email, 'string') then return corrupt(key, 'email') end
  if not absentOr(a.phone, 'string') then return corrupt(key, 'phone') end
  if not absentOr(a.clientIdentity, 'string') then return corrupt(key, 'clientIdentity') end
  if not absentOr(a.tokenVersion, 'number') then return corrupt(key, 'tokenVersion') end
  if not absentOr(a.lead, 'boolean') then return corrupt(key, 'lead') end
  if not absentOr(a.leftAt, 'number') then return corrupt(key, 'leftAt') end
  if type(a.createdAt) ~= 'number' then return corrupt(key, 'createdAt') end
end

local function checkCustomer(key, c)
  if type(c.id) ~= 'string' then return corrupt(key, 'id') end
  if not absentOr(c.name, 'string') then return corrupt(key, 'name') end
  if not isList(c.identities, 'table') then return corrupt(key, 'identities') end
  for _, i in ipairs(c.identities) do
    if type(i.channel) ~= 'string' or type(i.address) ~= 'string' then return corrupt(key, 'identities') end
  end
  if type(c.facts) ~= 'table' then return corrupt(key, 'facts') end
  for k, f in pairs(c.facts) do
    if type(k) ~= 'string' or type(f) ~= 'table' or type(f.value) ~= 'string' or type(f.source) ~= 'string'
      or type(f.at) ~= 'number' then
      return corrupt(key, 'facts')
    end
  end
  if not isList(c.notes, 'table') then return corrupt(key, 'notes') end
  for _, n in ipairs(c.notes) do
    if type(n.text) ~= 'string' or type(n.by) ~= 'string' or type(n.at) ~= 'number' then
      return corrupt(key, 'notes')
    end
  end
  if not absentOr(c.lastOwnerId, 'string') then return corrupt(key, 'lastOwnerId') end
  if not absentOr(c.lastOwnerAt, 'number') then return corrupt(key, 'lastOwnerAt') end
  if not absentOr(c.mergedInto, 'string') then return corrupt(key, 'mergedInto') end
  local b = c.blocked
  if not (b == nil or (type(b) == 'table' and type(b.at) == 'number' and type(b.by) == 'string'
    and type(b.reason) == 'string')) then
    return corrupt(key, 'blocked')
  end
  if type(c.createdAt) ~= 'number' then return corrupt(key, 'createdAt') end
end

-- ---------------------------------------------------------------- loading

-- Per kind: id → record (false: known to be missing); the raw JSON as read; the
-- indexed fields as they were when read (to move index entries on flush).
local CACHE = { conversation = {}, agent = {}, customer = {} }
local RAW = {}
local WAS = {}

-- Per kind, its key and its check (the key builder's functions read the key base when called).
--!keep
local KEY_OF = { conversation = K.conversation, agent = K.agent, customer = K.customer }
--!keep
local CHECK_OF = { conversation = checkConversation, agent = checkAgent, customer = checkCustomer }

local function copyTable(t)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

-- The agents on a conversation besides its owner (covering, consulting, invited, offered a hand-off), as a
-- set; nil when there are none.
local function helpersOf(c)
  local out
  if not isnull(c.cover) then out = { [c.cover.agentId] = true } end
  for _, id in ipairs(c.consultants) do
    out = out or {}
    out[id] = true
  end
  for _, id in ipairs(c.invited) do
    out = out or {}
    out[id] = true
  end
  if not isnull(c.handoff) then
    out = out or {}
    out[c.handoff.to] = true
  end
  return out
end
local function remember(kind, record)
  if kind == 'conversation' then
    WAS[record] = {
      status = record.status, ownerId = record.ownerId, customerId = record.customerId,
      ownerships = #record.ownership, helpers = helpersOf(record),
    }
  elseif kind == 'agent' then
    -- Skills and capacity are never changed in place (updateAgent-1.lua gives the record new tables): the
    -- tables themselves are what they were. The load is (includes/pools.lua `takeSlot`): a copy.
    local l, r = record.load, record.reserved
    WAS[record] = {
      status = record.status, skills = record.skills, capacity = record.capacity,
      ['load'] = { voice = l.voice, sms = l.sms, chat = l.chat, email = l.email }, -- (a key, not the function)
      reserved = r and { voice = r.voice, sms = r.sms, chat = r.chat, email = r.email },
      idleSince = record.idleSince, leftAt = record.leftAt,
    }
  end
end

-- The record of `kind` stored under `id` (nil when there is none), read once per script run; `known`: its JSON,
-- when the caller read it already.
local function load(kind, id, known)
  local cached = CACHE[kind][id]
  if cached ~= nil then return cached or nil end
  local key = KEY_OF[kind](id)
  local raw = known or redis.call('GET', key)
  if not raw then
    CACHE[kind][id] = false
    return nil
  end
  local record = decode(key, raw)
  CHECK_OF[kind](key, record)
  if record.id ~= id then fail(E.CORRUPT, key, 'holds the record of ' .. tostring(record.id)) end
  CACHE[kind][id] = record
  RAW[record] = raw
  remember(kind, record)
  return record
end

local function loadConversation(id) return load('conversation', id) end
local function loadAgent(id) return load('agent', id) end
-- The customer stored under exactly this id (merged or not).
local function loadCustomer(id) return load('customer', id) end

local function mustConversation(id)
  local c = load('conversation', id)
  if not c then fail(E.NOT_FOUND, 'conversation', id) end
  return c
end

local function mustAgent(id)
  local a = load('agent', id)
  if not a then fail(E.NOT_FOUND, 'agent', id) end
  return a
end

-- The customer behind an id, following merges (an old id keeps working), as the memory store does.
local function findCustomer(id)
  local c = load('customer', id)
  local hops = 0
  while c and c.mergedInto and hops < 16 do
    c = load('customer', c.mergedInto)
    hops = hops + 1
  end
  return c
end

local function mustCustomer(id)
  local c = findCustomer(id)
  if not c then fail(E.NOT_FOUND, 'customer', id) end
  return c
end

-- ---------------------------------------------------------------- writing

local DIRTY = {}
local DIRTY_KIND = {}

local function changed(kind, record)
  if DIRTY_KIND[record] then return end
  DIRTY_KIND[record] = kind
  DIRTY[#DIRTY + 1] = record
  RAW[record] = nil
end

-- The record's JSON as stored now (after `flush`, the written one).
local function json(record)
  return RAW[record] or encode(record)
end

-- ---- a customer's last owner: in its own hash (keys.lua `lastOwners`), not in the record. A record written
-- before the hash was may still hold lastOwnerId/lastOwnerAt; an entry in the hash is newer.

-- The last owner of the customer stored under `id`: agent id and time, or nil when the hash has none.
local function lastOwnerOf(id)
  local entry = redis.call('HGET', K.lastOwners(), id)
  if not entry then return nil end
  local at, agentId = string.match(entry, '^(%d+)|(.+)$')
  if not at then fail(E.CORRUPT, K.lastOwners(), 'the entry of ' .. id .. ' is not <time>|<agent id>') end
  return agentId, tonumber(at)
end

-- The customer's last owner is now `agentId` (see `lastOwnerOf`). Called with a conversation's customer, which
-- exists: a conversation is stored only for an existing customer (createConversation-2.lua), a merged one
-- keeps its record, and an erased one (eraseCustomer-1.lua) goes with every conversation of theirs.
local function setLastOwner(customerId, agentId, now)
  redis.call('HSET', K.lastOwners(), customerId, string.format('%d', now) .. '|' .. agentId)
end

-- The hash's last owner onto the customer record in memory (what a script that writes the record keeps).
local function withLastOwner(customer)
  local agentId, at = lastOwnerOf(customer.id)
  if agentId then customer.lastOwnerId, customer.lastOwnerAt = agentId, at end
  return customer
end

-- A customer as JSON for a reply: the record with its last owner from the hash.
local function customerJson(customer)
  local agentId, at = lastOwnerOf(customer.id)
  if not agentId then return json(customer) end
  if customer.lastOwnerId == nil and customer.lastOwnerAt == nil then
    local raw = json(customer)
    return string.sub(raw, 1, -2) .. ',"lastOwnerId":' .. cjson.encode(agentId) .. ',"lastOwnerAt":'
      .. string.format('%d', at) .. '}'
  end
  local copy = copyTable(customer)
  copy.lastOwnerId, copy.lastOwnerAt = agentId, at
  return encode(copy)
end

local function isOpenStatus(status)
  return status == 'queued' or status == 'assigned'
end

-- How long an agent's touched index (`indexTouched`) keeps an entry: a week of figures and a day to spare.
--!keep
local TOUCHED_KEEP_MS = 8 * 24 * 3600 * 1000
-- What agents did with a conversation, for their figures: each ownership change since `was` (nil: every one)
-- marks it for the agent it went to and the one it left, and its resolving for its owner, each at the
-- latest time (ZADD GT). Resolving one also drops the owner's entries older than TOUCHED_KEEP_MS.
local function indexTouched(c, was)
  local id = c.id
  for i = (was and was.ownerships or 0) + 1, #c.ownership do
    local m = c.ownership[i]
    redis.call('ZADD', K.touchedBy(m.to), 'GT', m.at, id)
    if not isnull(m.from) and m.from ~= m.to then redis.call('ZADD', K.touchedBy(m.from), 'GT', m.at, id) end
  end
  if c.status == 'resolved' and (not was or was.status ~= 'resolved') and not isnull(c.ownerId)
    and type(c.resolvedAt) == 'number' then
    local key = K.touchedBy(c.ownerId)
    redis.call('ZADD', key, 'GT', c.resolvedAt, id)
    redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. string.format('%d', c.resolvedAt - TOUCHED_KEEP_MS))
  end
end
-- A conversation's index entries, from `was` (nil: not indexed yet) to now.
local function indexConversation(c, was)
  local id, at = c.id, c.createdAt
  if not was then redis.call('ZADD', K.conversations(), at, id) end
  local oldStatus = was and was.status
  if oldStatus ~= c.status then
    if oldStatus then redis.call('ZREM', K.conversationsByStatus(oldStatus), id) end
    redis.call('ZADD', K.conversationsByStatus(c.status), at, id)
  end
  local oldOwner = was and was.ownerId
  if isnull(oldOwner) then oldOwner = nil end
  local owner = c.ownerId
  if isnull(owner) then owner = nil end
  local wasOpen = oldStatus and isOpenStatus(oldStatus)
  local open = isOpenStatus(c.status)
  if oldOwner ~= owner then
    if oldOwner then redis.call('ZREM', K.conversationsByOwner(oldOwner), id) end
    if owner then redis.call('ZADD', K.conversationsByOwner(owner), at, id) end
  end
  if oldOwner ~= owner or wasOpen ~= open then
    if oldOwner and wasOpen then redis.call('ZREM', K.openByOwner(oldOwner), id) end
    if owner and open then redis.call('ZADD', K.openByOwner(owner), at, id) end
  end
  local oldCustomer = was and was.customerId
  if oldCustomer ~= c.customerId then
    if oldCustomer then
      redis.call('ZREM', K.conversationsByCustomer(oldCustomer), id)
      if wasOpen then redis.call('ZREM', K.openByCustomer(oldCustomer), id) end
    end
    redis.call('ZADD', K.conversationsByCustomer(c.customerId), at, id)
    if open then redis.call('ZADD', K.openByCustomer(c.customerId), at, id) end
  elseif wasOpen ~= open then
    if open then
      redis.call('ZADD', K.openByCustomer(c.customerId), at, id)
    else
      redis.call('ZREM', K.openByCustomer(c.customerId), id)
    end
  end
  indexTouched(c, was)
  local helpers, before = helpersOf(c), was and was.helpers
  if before then
    for agentId in pairs(before) do
      if not (helpers and helpers[agentId]) then redis.call('ZREM', K.helpingIn(agentId), id) end
    end
  end
  if helpers then
    for agentId in pairs(helpers) do
      if not (before and before[agentId]) then redis.call('ZADD', K.helpingIn(agentId), at, id) end
    end
  end
end

-- A new conversation from its JSON (stored as given): checked, and refused when its id is taken (before the first
-- write). Its customer is the caller's to check (`checkNewConversation`).
local function checkConversationJson(key, raw)
  local c = decode(key, raw)
  checkConversation(key, c)
  if redis.call('EXISTS', key) == 1 then
    fail(E.CONFLICT, 'duplicate_id', 'conversation ' .. c.id .. ' already exists')
  end
  return c
end

-- As `checkConversationJson`, and refused too when its customer is unknown.
local function checkNewConversation(key, raw)
  local c = checkConversationJson(key, raw)
  mustCustomer(c.customerId)
  return c
end

-- Store the conversation `checkNewConversation` read from `raw` and index it; the rest of the script finds it
-- loaded (`load`).
local function storeNewConversation(key, raw, c)
  redis.call('SET', key, raw)
  indexConversation(c, nil)
  CACHE.conversation[c.id] = c
  RAW[c] = raw
  remember('conversation', c)
end

-- ---- servers: the capacity of the available agents skilled for each waiting line.

local function sameSkills(x, y)
  for k, v in pairs(x) do
    if y[k] ~= v then return false end
  end
  for k in pairs(y) do
    if x[k] == nil then return false end
  end
  return true
end

-- What an agent adds to the servers: their skills and capacity while available.
local function serving(shape)
  if shape and shape.status == 'available' then return shape end
  return nil
end

local function addServing(shape, sign)
  local profile = skillsKey(shape.skills)
  for _, channel in ipairs(CHANNELS) do
    local cap = shape.capacity[channel]
    if cap ~= 0 then
      local key = K.capacityBySkills(channel)
      if redis.call('HINCRBY', key, profile, sign * cap) == 0 then redis.call('HDEL', key, profile) end
    end
  end
  local servers = K.servers()
  for _, bucket in ipairs(linesFor(shape.skills)) do
    local line = lineInfo(bucket)
    local cap = shape.capacity[line.channel]
    if cap ~= 0 and meets(shape.skills, line.skills) then redis.call('HINCRBY', servers, bucket, sign * cap) end
  end
end

-- An agent changed from `was` (nil: just created) to `a`: move the servers by the difference.
local function adjustServers(was, a)
  local before, after = serving(was), serving(a)
  if before and after and sameSkills(before.skills, after.skills) and sameSkills(before.capacity, after.capacity) then
    return
  end
  if before then addServing(before, -1) end
  if after then addServing(after, 1) end
end

-- The agents by status count the team: one who left it (leftAt) is in none.
local function indexAgentStatus(a, was)
  local old = was and not was.leftAt and was.status or nil
  local new = not a.leftAt and a.status or nil
  if old ~= new then
    if old then redis.call('SREM', K.agentsByStatus(old), a.id) end
    if new then redis.call('SADD', K.agentsByStatus(new), a.id) end
  end
  adjustServers(was, a)
end

-- ---- pools: the free agents per channel and per channel+skill (sorted sets, score idleSince: longest
-- idle first). An agent is in a channel's pools while available with capacity left on it.

local function inPool(shape, channel)
  return shape.status == 'available' and hasRoom(shape, channel)
end

-- An agent changed from `was` (nil: just created) to `a`: out of the pools they left, into the ones they
-- joined, moved where their idle time changed, skill pools following their skills. Only what changed is
-- touched.
local function movePools(a, was)
  local id, idle = a.id, a.idleSince
  for _, channel in ipairs(CHANNELS) do
    local before = was and inPool(was, channel)
    local after = inPool(a, channel)
    if after then
      local moved = not before or was.idleSince ~= idle
      if moved then redis.call('ZADD', K.pool(channel), idle, id) end
      for skill in pairs(a.skills) do
        if moved or was.skills[skill] == nil then redis.call('ZADD', K.skillPool(channel, skill), idle, id) end
      end
    end
    if before then
      if not after then redis.call('ZREM', K.pool(channel), id) end
      for skill in pairs(was.skills) do
        if not after or a.skills[skill] == nil then redis.call('ZREM', K.skillPool(channel, skill), id) end
      end
    end
  end
end

-- Write every changed record and move its index entries. Call once, after the last change.
local function flush()
  for _, record in ipairs(DIRTY) do
    local kind = DIRTY_KIND[record]
    local raw = encode(record)
    redis.call('SET', KEY_OF[kind](record.id), raw)
    RAW[record] = raw
    if kind == 'conversation' then
      indexConversation(record, WAS[record])
    elseif kind == 'agent' then
      indexAgentStatus(record, WAS[record])
      movePools(record, WAS[record])
    end
    remember(kind, record)
    DIRTY_KIND[record] = nil
  end
  DIRTY = {}
end
