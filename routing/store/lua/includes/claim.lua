-- Claiming (claimNext-1.lua, and resolve-1.lua's fill): the best waiting
-- conversation a freed agent can serve, on any channel where they have capacity
-- left. The best is the lowest rank {hard-capped ? 0 : 1, score, arrival} (past
-- the hard cap: {0, arrival, arrival}), then the channel order (voice, sms,
-- chat, email), then the order the lines were created in: the memory store's
-- result exactly. Only the lines that can still win are looked at.

-- A line's number (its creation order, the last tie-break between lines), read only when two ranks tie on
-- everything else.
local LINE_NUMBERS = {}
local function lineNumber(bucket)
  local n = LINE_NUMBERS[bucket]
  if not n then
    n = tonumber(redis.call('HGET', K.lines(), bucket)) or 0
    LINE_NUMBERS[bucket] = n
  end
  return n
end

-- x before y: {level, key, arrival, channel, line (bucket key)}.
local function less(x, y)
  for i = 1, 4 do
    if x[i] ~= y[i] then return x[i] < y[i] end
  end
  return lineNumber(x[5]) < lineNumber(y[5])
end

-- x no later than y on the first three: the line may still win on the tie-break.
local function notAfter(x1, x2, x3, y)
  if x1 ~= y[1] then return x1 < y[1] end
  if x2 ~= y[2] then return x2 < y[2] end
  return x3 <= y[3]
end

-- The conversation id this agent would take from a line, with whether they are skilled for it, its rank, the
-- line's oldest arrival and whether it is the line's head (false: it is not; nil: not known), or nil. Read
-- from the line's indexes alone: ids in `skip` (found not eligible) are passed over, and the caller checks
-- the record of the one that wins (`claim`).
local function lineHead(bucket, agent, now, rules, skip)
  local byArrival = K.lineByArrival(bucket)
  local first = redis.call('ZRANGE', byArrival, 0, 0, 'WITHSCORES')
  if #first == 0 then return nil end
  local oldest = tonumber(first[2])
  local matched = meets(agent.skills, lineSkills(bucket))
  -- Not skilled for it and nothing here has overflowed yet: nothing for this agent.
  if not matched and now - oldest < rules.overflowAfterMs then return nil end
  -- The oldest, read already, is what the two arrival-order searches below find first: taken as it is (a
  -- claim passes over ids in `skip` only after it found them not eligible, so this is the common case).
  local firstId = first[1]
  -- Hard cap first: whoever has waited longest past the cap, in arrival order.
  if now - oldest >= rules.hardCapMs then
    if not skip[firstId] then return firstId, matched, { 0, oldest, oldest }, oldest end
    for id, arrival in ordered(byArrival) do
      if now - arrival < rules.hardCapMs then break end
      if not matched and now - arrival < rules.overflowAfterMs then break end
      if not skip[id] then return id, matched, { 0, arrival, arrival }, oldest end
    end
  end
  if matched then
    local head = true
    for member, score in ordered(K.lineByScore(bucket)) do
      local id = string.sub(member, 17)
      if not skip[id] then
        return id, matched, { 1, score, tonumber(string.sub(member, 1, 16)) }, oldest, head
      end
      head = false
    end
    return nil
  end
  -- Not skilled for this line: only what has overflowed to the whole team, oldest first (the oldest has: see
  -- above).
  if not skip[firstId] then
    local score = redis.call('ZSCORE', K.lineByScore(bucket), pad(oldest) .. firstId)
    return firstId, matched, { 1, tonumber(score), oldest }, oldest
  end
  for id, arrival in ordered(byArrival) do
    if now - arrival < rules.overflowAfterMs then break end
    if not skip[id] then
      local score = redis.call('ZSCORE', K.lineByScore(bucket), pad(arrival) .. id)
      return id, matched, { 1, tonumber(score), arrival }, oldest
    end
  end
  return nil
end

-- The best line head for the agent on any channel where they have capacity left, passing over the ids in
-- `skip`: {id, matched, rank, channel, at (where it waits)}, or nil.
local function bestHead(agent, now, rules, skip)
  local best
  for channelIndex, channel in ipairs(CHANNELS) do
    if hasRoom(agent, channel) then
      local seen = {}
      local function consider(bucket)
        seen[bucket] = true
        local id, matched, rank, oldest, head = lineHead(bucket, agent, now, rules, skip)
        if not id then return end
        rank[4] = channelIndex
        rank[5] = bucket
        if not best or less(rank, best.rank) then
          -- Where it waits, as line.lua `dequeue` takes it (a rank's third entry is the arrival).
          local at = { bucket = bucket, arrival = rank[3], oldest = oldest, head = head }
          best = { id = id, matched = matched, rank = rank, channel = channel, at = at }
        end
      end
      -- Lines whose oldest waited past the hard cap, oldest first.
      local capped = redis.call('ZRANGEBYSCORE', K.lineOldest(channel), '-inf', now - rules.hardCapMs, 'WITHSCORES')
      for i = 1, #capped, 2 do
        local oldest = tonumber(capped[i + 1])
        if best and not notAfter(0, oldest, oldest, best.rank) then break end
        consider(capped[i])
      end
      -- The others, best head first, while a head may still beat the best.
      if not best or best.rank[1] == 1 then
        for bucket, head in ordered(K.lineHeads(channel)) do
          if best and (best.rank[1] == 0 or head > best.rank[2]) then break end
          if not seen[bucket] then consider(bucket) end
        end
      end
    end
  end
  return best
end

-- One claim for the agent: its five result entries (the conversation as its record, written by the
-- caller's `flush`), or nil when nothing is left for them.
local function claim(agent, now, rules)
  if agent.status ~= 'available' then return nil end
  -- The best head by the lines' indexes; when its record says it is not for this agent (ringing, declined
  -- by them, their own), passed over and looked for again. The first eligible one of each line is what
  -- competes, as when every record is read.
  local skip, best = {}, nil
  while true do
    best = bestHead(agent, now, rules, skip)
    if not best then return nil end
    local c = loadConversation(best.id)
    if c and eligible(c, agent.id) then
      best.conversation = c
      break
    end
    skip[best.id] = true
  end
  local c, channel = best.conversation, best.channel
  local reason = claimReason(c, best.matched)
  local offerMs = rules.offerTimeoutMs[channel]
  if offerMs and c.status ~= 'assigned' then
    takeSlot(agent, channel, now)
    c.offer = { agentId = agent.id, at = now, expiresAt = now + offerMs, reason = reason, channel = channel }
    changed('conversation', c)
    redis.call('ZADD', K.timers(), now + offerMs, 'offer:' .. c.id)
    return { 'offered', agent.id, reason, c, '[]' }
  end
  local settled = answering(c.id, now)
  takeSlot(agent, channel, now)
  if c.status == 'assigned' then
    coverConversation(c, agent.id, channel, now, best.at)
  else
    own(c, agent.id, channel, reason, now, best.at)
  end
  return { 'assigned', agent.id, reason, c, answered(c.id, settled) }
end

-- Claims for the agent until they are full, nothing waits that they can serve, or `limit` claims are made;
-- then every changed record is written (`flush`, the caller's changes too) and the claims' entries are
-- appended to `out`. A claim that fails (a corrupt record) fails before its first write: what came before
-- it (the caller's changes, earlier claims) stands and the failure meets the next claim on its own. With
-- `raise`, a failure of the first claim is the script's error instead.
local function claimUpTo(agent, now, rules, limit, out, raise)
  local made = {}
  for n = 1, limit do
    local ok, got = pcall(claim, agent, now, rules)
    if not ok then
      if raise and n == 1 then error(got, 0) end
      break
    end
    if not got then break end
    made[n] = got
  end
  flush()
  for _, got in ipairs(made) do
    local n = #out
    out[n + 1], out[n + 2], out[n + 3], out[n + 4], out[n + 5] = got[1], got[2], got[3], json(got[4]), got[5]
  end
  return out
end
