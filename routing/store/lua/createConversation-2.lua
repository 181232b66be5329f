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
  local c = decode(KEYS[1], raw)
  checkConversation(KEYS[1], c)
  if redis.call('EXISTS', KEYS[1]) == 1 then
    fail(E.CONFLICT, 'duplicate_id', 'conversation ' .. c.id .. ' already exists')
  end
  mustCustomer(c.customerId)
  redis.call('SET', KEYS[1], raw)
  indexConversation(c, nil)
  return { 0, raw }
end)
