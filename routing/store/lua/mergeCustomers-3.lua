--[[ mergeCustomers-3.lua: move the identities, facts, notes and conversations
of one customer onto another; nothing is lost (a fact that loses is kept in a
note). The merged customer keeps its record, marked `mergedInto`.

KEYS[1]  the kept customer's record; KEYS[2] the other's record; KEYS[3] the identities hash
ARGV[1]  key base; ARGV[2] kept customer id; ARGV[3] other customer id; ARGV[4] now
Result   {0, kept customer} | INVALID_INPUT (into itself) | NOT_FOUND
Reaches  the other's conversations, both customers' conversation indexes, last owners and activity, the
         blocked customers' index.
]]
--!include keys.lua
--!include base.lua
--!include records.lua

return run(function()
  local keepId, otherId, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
  if keepId == otherId then fail(E.INVALID_INPUT, 'a customer cannot be merged into itself', 'otherCustomerId') end
  local keep = withLastOwner(mustCustomer(keepId))
  local other = withLastOwner(mustCustomer(otherId))
  -- An id merged before leads to its keeper: merging it again would merge a customer into itself.
  if keep.id == other.id then
    fail(E.INVALID_INPUT, 'customer ' .. otherId .. ' is already merged into ' .. keep.id, 'otherCustomerId')
  end
  local moved = redis.call('ZRANGE', K.conversationsByCustomer(other.id), 0, -1)
  local conversations = {}
  for _, id in ipairs(moved) do conversations[#conversations + 1] = loadConversation(id) end

  for _, identity in ipairs(other.identities) do
    local has = false
    for _, mine in ipairs(keep.identities) do
      if mine.channel == identity.channel and mine.address == identity.address then has = true end
    end
    if not has then keep.identities[#keep.identities + 1] = identity end
    redis.call('HSET', KEYS[3], identity.channel .. ':' .. identity.address, keep.id)
  end
  local names = {}
  for key in pairs(other.facts) do names[#names + 1] = key end
  table.sort(names, bytesLess)
  for _, key in ipairs(names) do
    local fact, mine = other.facts[key], keep.facts[key]
    if not mine or mine.at < fact.at then
      if mine and mine.value ~= fact.value then
        keep.notes[#keep.notes + 1] = {
          text = 'merged: ' .. key .. ' was "' .. mine.value .. '" (' .. mine.source .. ')', by = 'system', at = now,
        }
      end
      keep.facts[key] = fact
    elseif mine.value ~= fact.value then
      keep.notes[#keep.notes + 1] = {
        text = 'merged: ' .. key .. ' was also "' .. fact.value .. '" (' .. fact.source .. ')', by = 'system', at = now,
      }
    end
  end
  for _, note in ipairs(other.notes) do keep.notes[#keep.notes + 1] = note end
  keep.notes[#keep.notes + 1] = { text = 'merged customer ' .. other.id .. ' into this one', by = 'system', at = now }
  if (keep.name == nil or keep.name == '') and other.name ~= nil and other.name ~= '' then keep.name = other.name end
  -- Whom the team blocked stays blocked, under whichever id.
  if keep.blocked == nil and other.blocked ~= nil then
    keep.blocked = other.blocked
    redis.call('ZADD', K.blockedCustomers(), keep.blocked.at, keep.id)
  end
  redis.call('ZREM', K.blockedCustomers(), other.id)
  if other.lastOwnerAt ~= nil and (keep.lastOwnerAt == nil or other.lastOwnerAt > keep.lastOwnerAt) then
    if other.lastOwnerId ~= nil then keep.lastOwnerId = other.lastOwnerId end
    keep.lastOwnerAt = other.lastOwnerAt
  end
  for _, c in ipairs(conversations) do
    c.customerId = keep.id
    changed('conversation', c)
  end
  redis.call('DEL', K.conversationsByCustomer(other.id), K.openByCustomer(other.id))
  other.identities = {}
  other.mergedInto = keep.id
  -- The last owner lives in the hash only: the kept one's entry, none for the merged one.
  if keep.lastOwnerId ~= nil and keep.lastOwnerAt ~= nil then
    setLastOwner(keep.id, keep.lastOwnerId, keep.lastOwnerAt)
  end
  redis.call('HDEL', K.lastOwners(), other.id)
  -- One activity for the two: the later of theirs, under the kept id.
  local otherActive = redis.call('ZSCORE', K.customerActivity(), other.id)
  if otherActive then active(keep.id, tonumber(otherActive)) end
  redis.call('ZREM', K.customerActivity(), other.id)
  keep.lastOwnerId, keep.lastOwnerAt, other.lastOwnerId, other.lastOwnerAt = nil, nil, nil, nil
  changed('customer', keep)
  changed('customer', other)
  flush()
  return { 0, customerJson(keep) }
end)
