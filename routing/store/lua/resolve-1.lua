--[[ resolve-1.lua: the owner resolves it: capacity back (owner and covering
colleague), handle time recorded, out of line, the customer's last owner set.

KEYS[1]  the conversation record
ARGV[1]  key base; ARGV[2] conversation id; ARGV[3] now; ARGV[4] follow-up time or ''
ARGV[5]  how many handle times to keep per channel; ARGV[6] when to send the survey, or ''
ARGV[7]  the agent who must be its owner, or '' (anyone)
ARGV[8]  rules (JSON, as claimNext-1.lua's ARGV[4]) to fill the owner's freed capacity, or ''
ARGV[9]  the most claims to make for the owner (see includes/claim.lua)
Also     cancels its sticky timer and schedules its survey timer (with ARGV[6]).
Result   {0, conversation, covering agent id | false, the colleague whose place a hand-off kept, freed now | false,
         claim, claim, ...} (claims as claimNext-1.lua's)
         | NOT_OWNER when ARGV[7] is not its owner
         | INVALID_STATE when not assigned | NOT_FOUND
Reaches  the holders' agent records, pools, handle times, its waiting line, the customers' last owners, indexes.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include pools.lua
--!include line.lua
--!include handle.lua
--!include ownership.lua
--!include answer.lua
--!include claim.lua

return run(function()
  local id, now, window = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[5])
  local followUpAt = NULL
  if ARGV[4] ~= '' then followUpAt = tonumber(ARGV[4]) end
  local c = mustConversation(id)
  if ARGV[7] ~= '' and (c.ownerId ~= ARGV[7] or c.status ~= 'assigned') then
    fail(E.NOT_OWNER, ARGV[7], id)
  end
  if c.status ~= 'assigned' then
    fail(E.INVALID_STATE, 'conversation ' .. id .. ' is ' .. c.status .. '; only an assigned one can be resolved')
  end
  loadHolders(c)
  if not isnull(c.slotChannel) and not isnull(c.assignedAt) then
    recordHandle(c.slotChannel, math.max(0, now - c.assignedAt), window)
  end
  local coverer = (not isnull(c.cover)) and c.cover.agentId
  local keptFor = (not isnull(c.handoff)) and c.handoff.channel and c.handoff.to or false
  releaseHolders(c)
  dequeue(c.id)
  c.status = 'resolved'
  c.resolvedAt = now
  c.followUpAt = followUpAt
  c.waitingForOwnerSince = NULL
  c.consultants = {}
  c.invited = {}
  c.joinedAt = nil
  endHandoff(c)
  if not isnull(c.ownerId) then setLastOwner(c.customerId, c.ownerId, now) end
  redis.call('ZREM', K.timers(), 'sticky:' .. id)
  if ARGV[6] ~= '' then redis.call('ZADD', K.timers(), tonumber(ARGV[6]), 'survey:' .. id) end
  -- The owner's next conversations; a corrupt one met there stops the filling, not the resolve.
  local claims = {}
  if ARGV[8] ~= '' and not isnull(c.ownerId) then
    local owner = loadAgent(c.ownerId)
    if owner then claimUpTo(owner, now, cjson.decode(ARGV[8]), tonumber(ARGV[9]), claims) end
  end
  flush()
  local out = { 0, json(c), coverer, keptFor }
  for i = 1, #claims do out[i + 4] = claims[i] end
  return out
end)
