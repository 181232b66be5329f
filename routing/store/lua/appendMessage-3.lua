--[[ appendMessage-3.lua: store a message once per (channel, externalId) when it
has one; a repeat returns the stored message.

KEYS[1]  the external-id hash; KEYS[2] the conversation record; KEYS[3] the message record
ARGV[1]  key base; ARGV[2] message id; ARGV[3] conversation id
ARGV[4]  external key (channel:externalId) or ''; ARGV[5] message (JSON, stored as given)
Result   {0, message, 0 | 1 (duplicate)} | NOT_FOUND (conversation) | CONFLICT duplicate_id
Reaches  the conversation's message list; a repeat's stored message.
]]
--!include keys.lua
--!include base.lua

return run(function()
  local id, conversationId, external, raw = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
  if external ~= '' then
    local prior = redis.call('HGET', KEYS[1], external)
    if prior then
      local stored = redis.call('GET', K.message(prior))
      if stored then return { 0, stored, 1, prior } end
    end
  end
  if redis.call('EXISTS', KEYS[2]) == 0 then fail(E.NOT_FOUND, 'conversation', conversationId) end
  if redis.call('EXISTS', KEYS[3]) == 1 then fail(E.CONFLICT, 'duplicate_id', 'message ' .. id .. ' already exists') end
  redis.call('SET', KEYS[3], raw)
  redis.call('RPUSH', K.messagesOf(conversationId), id)
  if external ~= '' then redis.call('HSET', KEYS[1], external, id) end
  return { 0, raw, 0, id }
end)
