-- messages.lua: a message is stored once per (channel, externalId) when it has
-- one (appendMessage-3.lua, startConversation-3.lua).

-- The message stored under external key `external` (channel:externalId; '': none) in the hash `externalIds`:
-- its JSON and id, or nil.
local function priorMessage(externalIds, external)
  if external == '' then return nil end
  local prior = redis.call('HGET', externalIds, external)
  if not prior then return nil end
  local stored = redis.call('GET', K.message(prior))
  if not stored then return nil end
  return stored, prior
end

-- Refuse a message id already taken (before the first write).
local function checkNewMessage(key, id)
  if redis.call('EXISTS', key) == 1 then fail(E.CONFLICT, 'duplicate_id', 'message ' .. id .. ' already exists') end
end

-- Store message `id` (JSON, as given) under `key`, last in its conversation's list, found by its external key;
-- the conversation's customer `customerId` active at the message's time `at` (nil: the caller says so).
local function storeMessage(externalIds, key, id, conversationId, external, raw, customerId, at)
  redis.call('SET', key, raw)
  redis.call('RPUSH', K.messagesOf(conversationId), id)
  if external ~= '' then redis.call('HSET', externalIds, external, id) end
  if customerId then active(customerId, at) end
end

-- A message's time as the caller passed it beside the message (`arg`: whole milliseconds), checked before the
-- first write.
local function messageTime(arg)
  if not string.match(arg, '^%d+$') then fail(E.INVALID_INPUT, 'the message time must be whole milliseconds', 'at') end
  return arg
end
