--[[ eraseCustomer-1.lua: erase a customer (following merges) and everything kept about them
(Store.eraseCustomer): their record and those of the customers merged into it, their identities, last owner
and block, their conversations with every index entry and timer, the conversations' messages with their
external ids, and their promises with their timers. Everything is read and checked before the first write.

KEYS[1]  the customer record (of the id as given)
ARGV[1]  key base; ARGV[2] customer id; ARGV[3] the timer kinds whose ref is a conversation id (comma-separated)
ARGV[4]  only when last active before this time (ms), or '' (whenever)
Result   {0, customer ids (JSON array), conversation ids (JSON array, oldest first), id1, message1, id2, message2, ...}
         | CONFLICT open_conversation (one is queued or assigned) | CONFLICT active (ARGV[4]) | NOT_FOUND | CORRUPT
Reaches  the customers merged into it, the identities, last owners, activity and blocked customers' indexes, their
         conversations and every index of them, the messages and external ids, the promises, the timers.
]]
--!include keys.lua
--!include base.lua
--!include records.lua

return run(function()
  local keep = mustCustomer(ARGV[2])
  if ARGV[4] ~= '' then
    local at = tonumber(redis.call('ZSCORE', K.customerActivity(), keep.id))
    if at and at >= tonumber(ARGV[4]) then
      fail(E.CONFLICT, 'active', 'customer ' .. keep.id .. ' was active at ' .. string.format('%d', at))
    end
  end
  -- The customers merged into it: every merge notes "merged customer <id> into this one" (by system) on the one
  -- kept, and a later merge carries that customer's notes over, so the kept one names every id merged into it,
  -- directly or not. Only an id whose merges lead here is taken.
  local ids, seen = { keep.id }, { [keep.id] = true }
  for _, note in ipairs(keep.notes) do
    local id = note.by == 'system' and string.match(note.text, '^merged customer (.+) into this one$')
    if id and not seen[id] and loadCustomer(id) then
      local found = findCustomer(id)
      if found and found.id == keep.id then
        seen[id] = true
        ids[#ids + 1] = id
      end
    end
  end

  local conversations = {}
  for _, id in ipairs(redis.call('ZRANGE', K.conversationsByCustomer(keep.id), 0, -1)) do
    local c = loadConversation(id)
    if c then
      if isOpenStatus(c.status) then
        fail(E.CONFLICT, 'open_conversation',
          'customer ' .. keep.id .. ' has conversation ' .. id .. ' ' .. c.status .. ': close it before erasing them')
      end
      conversations[#conversations + 1] = c
    end
  end
  -- Their messages (as stored, for the reply) and promises: read and checked before anything goes.
  local out = { 0, '', '' }
  local gone, timers, external = {}, {}, {}
  local conversationIds = {}
  for _, c in ipairs(conversations) do
    conversationIds[#conversationIds + 1] = c.id
    for _, id in ipairs(redis.call('LRANGE', K.messagesOf(c.id), 0, -1)) do
      local key = K.message(id)
      local raw = redis.call('GET', key)
      if raw then
        local m = decode(key, raw)
        if type(m.channel) ~= 'string' then fail(E.CORRUPT, key, 'field channel is missing or has the wrong type') end
        if not absentOr(m.externalId, 'string') then
          fail(E.CORRUPT, key, 'field externalId is missing or has the wrong type')
        end
        if m.externalId then external[#external + 1] = m.channel .. ':' .. m.externalId end
        out[#out + 1], out[#out + 2] = id, raw
        gone[#gone + 1] = key
      end
      timers[#timers + 1] = 'delivery:' .. id
    end
    for _, id in ipairs(redis.call('LRANGE', K.promisesOf(c.id), 0, -1)) do
      gone[#gone + 1] = K.promise(id)
      timers[#timers + 1], timers[#timers + 2] = 'promise:' .. id, 'promise-warn:' .. id
    end
    for kind in string.gmatch(ARGV[3], '[^,]+') do
      timers[#timers + 1] = kind .. ':' .. c.id
    end
    gone[#gone + 1] = K.wrapUp(c.id)
  end

  -- Now the writes: nothing below fails.
  local function each(list, step, call)
    for from = 1, #list, step do call(unpack(list, from, math.min(#list, from + step - 1))) end
  end
  each(gone, 256, function(...) redis.call('DEL', ...) end)
  each(timers, 256, function(...) redis.call('ZREM', K.timers(), ...) end)
  each(external, 256, function(...) redis.call('HDEL', K.externalIds(), ...) end)
  for _, c in ipairs(conversations) do
    local id = c.id
    redis.call('DEL', K.conversation(id), K.messagesOf(id), K.promisesOf(id))
    redis.call('ZREM', K.conversations(), id)
    redis.call('ZREM', K.conversationsByStatus(c.status), id)
    if not isnull(c.ownerId) then
      redis.call('ZREM', K.conversationsByOwner(c.ownerId), id)
      redis.call('ZREM', K.openByOwner(c.ownerId), id)
      redis.call('ZREM', K.touchedBy(c.ownerId), id)
    end
    for _, move in ipairs(c.ownership) do
      redis.call('ZREM', K.touchedBy(move.to), id)
      if not isnull(move.from) then redis.call('ZREM', K.touchedBy(move.from), id) end
    end
    for agentId in pairs(helpersOf(c) or {}) do redis.call('ZREM', K.helpingIn(agentId), id) end
  end
  redis.call('DEL', K.conversationsByCustomer(keep.id), K.openByCustomer(keep.id))
  for _, identity in ipairs(keep.identities) do
    redis.call('HDEL', K.identities(), identity.channel .. ':' .. identity.address)
  end
  for _, id in ipairs(ids) do
    redis.call('DEL', K.customer(id))
    redis.call('HDEL', K.lastOwners(), id)
    redis.call('ZREM', K.blockedCustomers(), id)
    redis.call('ZREM', K.customerActivity(), id)
  end
  out[2], out[3] = cjson.encode(ids), cjson.encode(conversationIds)
  -- cjson writes an empty list as {}.
  if #conversationIds == 0 then out[3] = '[]' end
  return out
end)
