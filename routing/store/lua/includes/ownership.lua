-- ownership.lua: owning, covering and letting go, as the memory store does.

-- Make `agentId` the owner (capacity already held) and take it out of line (`at`: where it waits, when
-- known: see `dequeue`); the customer's last owner.
local function own(c, agentId, channel, reason, now, at)
  dequeue(c.id, at)
  c.ownership[#c.ownership + 1] = { from = c.ownerId, to = agentId, reason = reason, at = now }
  c.ownerId = agentId
  c.slotChannel = channel
  c.status = 'assigned'
  c.assignedAt = now
  if isnull(c.firstAssignedAt) then c.firstAssignedAt = now end
  c.queuedAt = NULL
  c.offer = NULL
  c.declinedBy = {}
  c.waitingForOwnerSince = NULL
  c.consultants = without(c.consultants, agentId)
  c.invited = without(c.invited, agentId)
  dropJoined(c, agentId)
  changed('conversation', c)
  setLastOwner(c.customerId, agentId, now)
end

-- A colleague answers for the owner, who stays owner (`at` as `own`'s).
local function coverConversation(c, agentId, channel, now, at)
  dequeue(c.id, at)
  c.cover = { agentId = agentId, channel = channel, since = now }
  c.waitingForOwnerSince = NULL
  changed('conversation', c)
end

-- Load the agents whose capacity `releaseHolders` gives back, and the colleague a hand-off keeps a place on
-- (`endHandoff`), before the first write.
local function loadHolders(c)
  if not isnull(c.ownerId) then loadAgent(c.ownerId) end
  if not isnull(c.cover) then loadAgent(c.cover.agentId) end
  if not isnull(c.handoff) and c.handoff.channel then loadAgent(c.handoff.to) end
end

-- A hand-off offered on the conversation ends (accepted, declined, taken back or moot): the place it kept on
-- the colleague frees (their record loaded already: `loadHolders`).
local function endHandoff(c)
  local handoff = c.handoff
  if isnull(handoff) then return end
  c.handoff = NULL
  changed('conversation', c)
  local target = handoff.channel and loadAgent(handoff.to)
  if target then keepPlace(target, handoff.channel, -1) end
end

-- Give back the owner's and the covering agent's capacity.
local function releaseHolders(c)
  if not isnull(c.ownerId) and not isnull(c.slotChannel) then
    local owner = loadAgent(c.ownerId)
    if owner then releaseSlot(owner, c.slotChannel) end
  end
  c.slotChannel = NULL
  if not isnull(c.cover) then
    local coverer = loadAgent(c.cover.agentId)
    if coverer then releaseSlot(coverer, c.cover.channel) end
    c.cover = NULL
  end
  changed('conversation', c)
end

-- Why an agent freeing up takes a waiting conversation (as rules.ts `claimReason`).
local function claimReason(c, matched)
  if c.status == 'queued' and not isnull(c.ownerId) then return 'owner_offline' end
  if not matched then return 'overflow' end
  if next(c.skills) ~= nil then return 'skills' end
  return 'routed'
end

-- Whether a waiting conversation may go to this agent: not ringing, not declined by them, not their own.
local function eligible(c, agentId)
  return isnull(c.offer)
    and not contains(c.declinedBy, agentId)
    and not (c.status == 'assigned' and c.ownerId == agentId)
end

-- Whether a conversation's JSON shows it assigned to the owner (`owner`: `"ownerId":<their id as JSON>`), not
-- waiting for them and not covered. These keys appear only at the top level of a conversation record, and JSON
-- escapes every quote inside a string, so no text in it can pass for them. (A JSON written another way, or an
-- unusual id, merely fails the test and is decoded.)
local function untouched(raw, owner)
  return string.find(raw, '"status":"assigned"', 1, true) ~= nil
    and string.find(raw, '"waitingForOwnerSince":null', 1, true) ~= nil
    and string.find(raw, '"cover":null', 1, true) ~= nil
    and string.find(raw, owner, 1, true) ~= nil
end

-- An owner is available again (comeBack-1.lua), in two steps so that every record is read and
-- checked before the first write: `ownerBackReads` loads the conversations they own and hold (assigned) and
-- their covering colleagues; `ownerBackWrites` then, for each: its sticky timer goes; a wait for them ends (it
-- leaves the line); a colleague's cover on a channel that is not in `live` ends (the colleague's capacity comes
-- back). It returns the conversations that changed (oldest first) and the freed colleagues' ids.
--
-- Most conversations an owner holds neither wait for them nor are covered: owner-back only drops their sticky
-- timer. Those are told from their JSON without decoding it (`untouched`), which is most of the time an owner's
-- return took.
local function ownerBackReads(ownerId)
  local held = { records = {}, idle = {} }
  local owner = '"ownerId":' .. cjson.encode(ownerId)
  for _, id in ipairs(redis.call('ZRANGE', K.openByOwner(ownerId), 0, -1)) do
    local raw = nil
    if CACHE.conversation[id] == nil then raw = redis.call('GET', K.conversation(id)) end
    if raw and untouched(raw, owner) then
      held.idle[#held.idle + 1] = 'sticky:' .. id
    else
      local c = load('conversation', id, raw)
      if c and c.status == 'assigned' and c.ownerId == ownerId then
        held.records[#held.records + 1] = c
        if not isnull(c.cover) then loadAgent(c.cover.agentId) end
      end
    end
  end
  return held
end

local function ownerBackWrites(held, live)
  local updated, freed = {}, {}
  if #held.idle > 0 then redis.call('ZREM', K.timers(), unpack(held.idle)) end
  for _, c in ipairs(held.records) do
    redis.call('ZREM', K.timers(), 'sticky:' .. c.id)
    local touched = false
    if not isnull(c.waitingForOwnerSince) then
      c.waitingForOwnerSince = NULL
      dequeue(c.id)
      touched = true
    end
    local cover = c.cover
    if not isnull(cover) and not contains(live, cover.channel) then
      dequeue(c.id)
      c.cover = NULL
      local agent = loadAgent(cover.agentId)
      if agent then releaseSlot(agent, cover.channel) end
      freed[#freed + 1] = cover.agentId
      touched = true
    end
    if touched then
      changed('conversation', c)
      updated[#updated + 1] = c
    end
  end
  return updated, freed
end

