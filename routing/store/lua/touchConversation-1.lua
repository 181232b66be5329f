--[[ touchConversation-1.lua: the customer reached out on a channel: record it
once among the channels used and make it the last one.

KEYS[1]  the conversation record
ARGV[1]  key base; ARGV[2] conversation id; ARGV[3] channel; ARGV[4] now
Result   {0, conversation} | NOT_FOUND
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include contact.lua

return run(function()
  local c = mustConversation(ARGV[2])
  touchConversation(c, ARGV[3], tonumber(ARGV[4]))
  flush()
  return { 0, json(c) }
end)
