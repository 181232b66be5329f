--[[ acceptHandoff-2.lua: the colleague accepts the hand-off: ownership and the
owner's slot move to them (a cover they held ends and its slot comes back).
Nothing changes when they have no capacity left on the conversation's channel.

KEYS[1]  the conversation record; KEYS[2] the accepting agent's record
ARGV[1]  key base; ARGV[2] conversation id; ARGV[3] agent id; ARGV[4] now
Result   {0, conversation} | INVALID_STATE (no hand-off for them) | NO_CAPACITY | NOT_FOUND
Reaches  the previous owner, pools, servers, the conversation indexes.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include pools.lua
--!include ownership.lua

return run(function()
  local id, agentId, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
  local c = mustConversation(id)
  local handoff = c.handoff
  if isnull(handoff) or handoff.to ~= agentId or c.status ~= 'assigned' then
    fail(E.INVALID_STATE, 'conversation ' .. id .. ' has no hand-off pending for agent ' .. agentId)
  end
  local target = mustAgent(agentId)
  local channel = c.slotChannel
  if isnull(channel) then channel = nil end
  -- The colleague covering it becomes its owner: the cover ends and its slot comes back.
  local covering = nil
  if not isnull(c.cover) and c.cover.agentId == agentId then covering = c.cover end
  local freed = 0
  if covering and covering.channel == channel then freed = 1 end
  if channel and target.load[channel] - freed >= target.capacity[channel] then
    fail(E.NO_CAPACITY, agentId, 'no ' .. channel .. ' capacity left to accept conversation ' .. id)
  end
  local previous = (not isnull(c.ownerId)) and loadAgent(c.ownerId)
  if covering then
    releaseSlot(target, covering.channel)
    c.cover = NULL
  end
  endHandoff(c)
  if channel and previous then releaseSlot(previous, channel) end
  if channel then takeSlot(target, channel, now, false) end
  c.ownership[#c.ownership + 1] = { from = c.ownerId, to = agentId, reason = 'handoff', at = now }
  c.ownerId = agentId
  c.consultants = without(c.consultants, agentId)
  c.invited = without(c.invited, agentId)
  dropJoined(c, agentId)
  changed('conversation', c)
  flush()
  return { 0, json(c) }
end)
