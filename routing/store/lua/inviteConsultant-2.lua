--[[ inviteConsultant-2.lua: the owner invites a colleague to consult (no
capacity, no ownership).

KEYS[1]  the conversation record; KEYS[2] the colleague's agent record
ARGV[1]  key base; ARGV[2] conversation id; ARGV[3] agent id; ARGV[4] now (ms: their joinedAt)
Result   {0, conversation} | INVALID_STATE (not assigned) | INVALID_INPUT (the owner) | NOT_FOUND
]]
--!include keys.lua
--!include base.lua
--!include records.lua

return run(function()
  local id, agentId, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
  local c = mustConversation(id)
  mustAgent(agentId)
  if c.status ~= 'assigned' then fail(E.INVALID_STATE, 'conversation ' .. id .. ' is not assigned') end
  if c.ownerId == agentId then fail(E.INVALID_INPUT, 'the owner cannot consult themselves', 'agentId') end
  if not contains(c.consultants, agentId) and not contains(c.invited, agentId) then
    c.invited[#c.invited + 1] = agentId
    setJoined(c, agentId, now)
    changed('conversation', c)
    flush()
  end
  return { 0, json(c) }
end)
