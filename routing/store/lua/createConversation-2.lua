--[[ createConversation-2.lua: store a new conversation (as given) and index it.

KEYS[1]  the conversation record; KEYS[2] the conversations index
ARGV[1]  key base; ARGV[2] conversation (JSON, stored as given)
Result   {0, conversation} | CONFLICT duplicate_id | NOT_FOUND (customer)
Reaches  the customer (following merges), the conversation indexes.
]]
--!include keys.lua
--!include base.lua
--!include records.lua

return run(function()
  local raw = ARGV[2]
  local c = checkNewConversation(KEYS[1], raw)
  storeNewConversation(KEYS[1], raw, c)
  return { 0, raw }
end)
