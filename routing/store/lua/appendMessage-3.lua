--[[ appendMessage-3.lua: store a message once per (channel, externalId) when it
has one; a repeat returns the stored message.

KEYS[1]  the external-id hash; KEYS[2] the conversation record; KEYS[3] the message record
ARGV[1]  key base; ARGV[2] message id; ARGV[3] conversation id
ARGV[4]  external key (channel:externalId) or ''; ARGV[5] message (JSON, stored as given)
ARGV[6]  when its delivery timer is due (a message a channel sends itself), or ''; ARGV[7] the message's time (ms):
         the conversation's customer is active then
Also     schedules that timer (`delivery:<id>`) when the message is stored, not for a repeat.
Result   {0, message, 0 | 1 (duplicate), message id} | NOT_FOUND (conversation) | CONFLICT duplicate_id
Reaches  the conversation's message list, its customer's activity; a repeat's stored message.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include messages.lua

return run(function()
  local id, conversationId, external, raw = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
  local stored, prior = priorMessage(KEYS[1], external)
  if stored then return { 0, stored, 1, prior } end
  -- The conversation's customer, from its JSON without decoding it: the key appears only at the top level of a
  -- conversation record, and JSON escapes every quote inside a string. (A record written another way is decoded.)
  local conversation = redis.call('GET', KEYS[2])
  if not conversation then fail(E.NOT_FOUND, 'conversation', conversationId) end
  local customerId = string.match(conversation, '"customerId":"([%w_%-]+)"')
  if not customerId then customerId = mustConversation(conversationId).customerId end
  checkNewMessage(KEYS[3], id)
  local at = messageTime(ARGV[7])
  storeMessage(KEYS[1], KEYS[3], id, conversationId, external, raw, customerId, at)
  if ARGV[6] ~= '' then redis.call('ZADD', K.timers(), tonumber(ARGV[6]), 'delivery:' .. id) end
  return { 0, raw, 0, id }
end)
