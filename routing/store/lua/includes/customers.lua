-- customers.lua: finding a customer by an identity, or creating one with it
-- (resolveCustomer-2.lua, resolveContact-3.lua).

-- The customer who owns identity `identityKey` (channel:address) in the hash `identities`, as JSON, and 0; or
-- the customer `customerRaw` (JSON) stored under `customerKey` with the identity (`identityRaw`, JSON) and 1.
-- Refused before any write when its id or one of its identities is taken.
local function resolveCustomer(identities, customerKey, identityKey, identityRaw, customerRaw)
  local existing = redis.call('HGET', identities, identityKey)
  if existing then
    local customer = findCustomer(existing)
    if not customer then fail(E.NOT_FOUND, 'customer', existing) end
    return customerJson(customer), 0
  end
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
  local raw = has and customerRaw or encode(customer)
  redis.call('SET', customerKey, raw)
  for _, i in ipairs(customer.identities) do
    redis.call('HSET', identities, i.channel .. ':' .. i.address, customer.id)
  end
  return raw, 1
end
