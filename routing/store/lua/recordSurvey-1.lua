--[[ recordSurvey-1.lua: store the survey sent after resolution on the
conversation, whole, replacing the one before.

KEYS[1]  the conversation record
ARGV[1]  key base; ARGV[2] conversation id; ARGV[3] survey (JSON)
Result   {0, conversation} | NOT_FOUND
]]
--!include keys.lua
--!include base.lua
--!include records.lua

return run(function()
  local c = mustConversation(ARGV[2])
  c.survey = cjson.decode(ARGV[3])
  changed('conversation', c)
  flush()
  return { 0, json(c) }
end)
