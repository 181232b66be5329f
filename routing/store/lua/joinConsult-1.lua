--[[ joinConsult-1.lua: an invited colleague joins as a consultant.

KEYS[1]  the conversation record
ARGV[1]  key base; ARGV[2] conversation id; ARGV[3] agent id; ARGV[4] now (ms: their joinedAt)
Result   {0, conversation} | INVALID_STATE (not invited, or not assigned) | NOT_FOUND
]]
--!include keys.lua
--!include base.lua
--!include records.lua

return run(function()
  local id, agentId, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
  local c = mustConversation(id)
  if contains(c.consultants, agentId) then return { 0, json(c) } end
  if not contains(c.invited, agentId) or c.status ~= 'assigned' then
    fail(E.INVALID_STATE, 'agent ' .. agentId .. ' was not invited to consult on conversation ' .. id)
  end
  c.invited = without(c.invited, agentId)
  c.consultants[#c.consultants + 1] = agentId
  setJoined(c, agentId, now)
  changed('conversation', c)
  flush()
  return { 0, json(c) }
end)
