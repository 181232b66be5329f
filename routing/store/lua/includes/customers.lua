-- customers.lua: finding a customer by an identity, or creating one with it
-- (resolveCustomer-2.lua, startContact-5.lua).

-- The customer who owns identity `identityKey` (channel:address) in the hash `identities` (following merges), or nil.
local function identityCustomer(identities, identityKey)
  local existing = redis.call('HGET', identities, identityKey)
  if not existing then return nil end
  local customer = findCustomer(existing)
  if not customer then fail(E.NOT_FOUND, 'customer', existing) end
  return customer
end

-- As `identityCustomer`, as JSON.
local function identityOwner(identities, identityKey)
  local customer = identityCustomer(identities, identityKey)
  return customer and customerJson(customer)
end

-- The customer `customerRaw` (JSON) to store under `customerKey`, with the identity `identityRaw` (JSON) among
-- theirs: the record and its JSON. Refused (before any write) when its id or one of its identities is taken.
local function checkNewCustomer(identities, customerKey, identityRaw, customerRaw)
  local identity = cjson.decode(identityRaw)
  local customer = cjson.decode(customerRaw)
  if redis.call('EXISTS', customerKey) == 1 then
    fail(E.CONFLICT, 'duplicate_id', 'customer ' .. customer.id .. ' already exists')
  end
  local has = false
  for _, i in ipairs(customer.identities) do
    if i.channel == identity.channel and i.address == identity.address then has = true end
  end
  if not has then customer.identities[#customer.identities + 1] = identity end
  for _, i in ipairs(customer.identities) do
    if redis.call('HEXISTS', identities, i.channel .. ':' .. i.address) == 1 then
      fail(E.CONFLICT, 'identity_taken', 'identity ' .. i.channel .. ':' .. i.address .. ' already belongs to a customer')
    end
  end
  return customer, has and customerRaw or encode(customer)
end

-- Store the customer `checkNewCustomer` answered, found by each of their identities, active from their creation
-- (or from `activeAt`, the later time of their first message, when given).
local function storeNewCustomer(identities, customerKey, customer, raw, activeAt)
  redis.call('SET', customerKey, raw)
  for _, i in ipairs(customer.identities) do
    redis.call('HSET', identities, i.channel .. ':' .. i.address, customer.id)
  end
  local at = activeAt
  if type(customer.createdAt) == 'number' and (not at or customer.createdAt > at) then at = customer.createdAt end
  if at then active(customer.id, at) end
end

-- The owner of `identityKey` as JSON, and 0; or the customer `customerRaw` created with the identity, and 1
-- (`identityOwner`, `checkNewCustomer`, `storeNewCustomer`).
local function resolveCustomer(identities, customerKey, identityKey, identityRaw, customerRaw)
  local found = identityOwner(identities, identityKey)
  if found then return found, 0 end
  local customer, raw = checkNewCustomer(identities, customerKey, identityRaw, customerRaw)
  storeNewCustomer(identities, customerKey, customer, raw)
  return raw, 1
end
