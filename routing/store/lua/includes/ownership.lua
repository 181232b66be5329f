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

-- Load the agents whose capacity `releaseHolders` gives back (before the first write).
local function loadHolders(c)
  if not isnull(c.ownerId) then loadAgent(c.ownerId) end
  if not isnull(c.cover) then loadAgent(c.cover.agentId) end
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

-- Whether a waiting conversation may go to this agent: not ringing, not missed by them, not their own.
local function eligible(c, agentId)
  return isnull(c.offer)
    and not contains(c.declinedBy, agentId)
    and not (c.status == 'assigned' and c.ownerId == agentId)
end
