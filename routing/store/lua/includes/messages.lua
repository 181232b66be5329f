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
-- the conversation's customer `customerId` active at the message's time `at`.
local function storeMessage(externalIds, key, id, conversationId, external, raw, customerId, at)
  redis.call('SET', key, raw)
  redis.call('RPUSH', K.messagesOf(conversationId), id)
  if external ~= '' then redis.call('HSET', externalIds, external, id) end
  active(customerId, at)
end

-- A message's time, from its JSON (a message as the store keeps it always has one).
local function messageTime(key, raw)
  local m = decode(key, raw)
  if type(m.at) ~= 'number' then fail(E.CORRUPT, key, 'field at is missing or has the wrong type') end
  return m.at
end
