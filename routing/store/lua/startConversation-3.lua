--[[ startConversation-3.lua: a new conversation and its first message, stored
together; when the message's external key is stored already (a repeated
delivery), nothing is stored and the stored message comes back.

KEYS[1]  the conversation record; KEYS[2] the external-id hash; KEYS[3] the message record
ARGV[1]  key base; ARGV[2] conversation (JSON, stored as given)
ARGV[3]  message id; ARGV[4] external key (channel:externalId) or ''; ARGV[5] message (JSON, stored as given,
         its conversation being this one); ARGV[6] the message's time (ms): the customer is active then
Result   {0, 0, conversation, message, message id} | {0, 1 (duplicate), false, stored message, its id}
         | CONFLICT duplicate_id (conversation or message) | NOT_FOUND (customer)
Reaches  the customer (following merges), the conversation indexes, its message list, the customers' activity;
         a repeat's stored message.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include messages.lua

return run(function()
  local raw, id, external, message = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
  local stored, prior = priorMessage(KEYS[2], external)
  if stored then return { 0, 1, false, stored, prior } end
  local c = checkNewConversation(KEYS[1], raw)
  checkNewMessage(KEYS[3], id)
  local at = messageTime(ARGV[6])
  storeNewConversation(KEYS[1], raw, c)
  storeMessage(KEYS[2], KEYS[3], id, c.id, external, message, c.customerId, at)
  return { 0, 0, raw, message, id }
end)
