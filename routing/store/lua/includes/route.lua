-- route.lua: one routing decision for a conversation (route-1.lua, startContact-5.lua). The first candidate
-- available with capacity takes it (assign: ownership now; offer: ringing, capacity held; cover: a colleague
-- answers for the owner); else it waits in line, its overflow timer due at `overflowAt` (nil: none). Its result
-- as route-1.lua's.

local function routeDecision(id, channel, candidates, mode, now, score, overflowAt)
  local c = mustConversation(id)
  local routable
  if mode.type == 'cover' then
    routable = c.status == 'assigned' and isnull(c.cover)
  else
    routable = c.status == 'queued' and isnull(c.offer)
  end
  if not routable then return { 0, 'skipped', json(c) } end
  -- Whoever declined this wait and stayed available is not asked again; an owner never covers for themselves.
  local function excluded(agentId)
    return contains(c.declinedBy, agentId) or (c.status == 'assigned' and agentId == c.ownerId)
  end
  local agent, reason
  for _, candidate in ipairs(candidates) do
    if candidate.kind == 'agent' then
      local a = loadAgent(candidate.agentId)
      if a and a.status == 'available' and hasRoom(a, channel) and not excluded(a.id) then
        agent = a
      end
    else
      agent = pickFromPool(channel, candidate.skills, excluded)
    end
    if agent then
      reason = candidate.reason
      break
    end
  end
  if not agent then
    local quoted = waitQuoted(id)
    enqueue(c, channel, score)
    if overflowAt then redis.call('ZADD', K.timers(), overflowAt, 'overflow:' .. id) end
    local out = { 0, 'queued', json(c), quoted and 1 or 0 }
    local snapshot = waitSnapshot(id)
    if snapshot then
      for i = 1, #snapshot do out[4 + i] = snapshot[i] end
    end
    return out
  end
  if mode.type == 'assign' then
    local settled = answering(id, now)
    local previous = c.ownerId
    takeSlot(agent, channel, now)
    own(c, agent.id, channel, reason, now)
    flush()
    return { 0, 'assigned', agent.id, reason, (not isnull(previous)) and previous, json(c), answered(id, settled) }
  elseif mode.type == 'offer' then
    takeSlot(agent, channel, now)
    c.offer = { agentId = agent.id, at = now, expiresAt = mode.expiresAt, reason = reason, channel = channel }
    changed('conversation', c)
    enqueue(c, channel, score)
    flush()
    redis.call('ZADD', K.timers(), mode.expiresAt, 'offer:' .. id)
    return { 0, 'offered', agent.id, reason, json(c) }
  end
  local settled = answering(id, now)
  takeSlot(agent, channel, now)
  coverConversation(c, agent.id, channel, now)
  flush()
  return { 0, 'covered', agent.id, json(c), answered(id, settled) }
end
