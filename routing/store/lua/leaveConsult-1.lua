--[[ leaveConsult-1.lua: a consultant leaves, or an invitation is declined.

KEYS[1]  the conversation record
ARGV[1]  key base; ARGV[2] conversation id; ARGV[3] agent id
Result   {0, conversation} | NOT_FOUND
]]
--!include keys.lua
--!include base.lua
--!include records.lua

return run(function()
  local id, agentId = ARGV[2], ARGV[3]
  local c = mustConversation(id)
  c.invited = without(c.invited, agentId)
  c.consultants = without(c.consultants, agentId)
  dropJoined(c, agentId)
  changed('conversation', c)
  flush()
  return { 0, json(c) }
end)
