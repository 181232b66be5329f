--[[ resolveCustomer-2.lua: find the customer who owns an identity, or create
the given one with it (atomic: two contacts from one new address make one customer).

KEYS[1]  the identities hash; KEYS[2] the new customer's record
ARGV[1]  key base; ARGV[2] identity key (channel:address); ARGV[3] identity (JSON)
ARGV[4]  the customer to create (JSON)
Result   {0, customer, 0 | 1 (created)} | CONFLICT duplicate_id | identity_taken
Reaches  the found customer (following merges).
]]
--!include keys.lua
--!include base.lua
--!include records.lua

return run(function()
  local existing = redis.call('HGET', KEYS[1], ARGV[2])
  if existing then
    local customer = findCustomer(existing)
    if not customer then fail(E.NOT_FOUND, 'customer', existing) end
    return { 0, customerJson(customer), 0 }
  end
  local identity = cjson.decode(ARGV[3])
  local customer = cjson.decode(ARGV[4])
  if redis.call('EXISTS', KEYS[2]) == 1 then
    fail(E.CONFLICT, 'duplicate_id', 'customer ' .. customer.id .. ' already exists')
  end
  local has = false
  for _, i in ipairs(customer.identities) do
    if i.channel == identity.channel and i.address == identity.address then has = true end
  end
  if not has then customer.identities[#customer.identities + 1] = identity end
  for _, i in ipairs(customer.identities) do
    if redis.call('HEXISTS', KEYS[1], i.channel .. ':' .. i.address) == 1 then
      fail(E.CONFLICT, 'identity_taken', 'identity ' .. i.channel .. ':' .. i.address .. ' already belongs to a customer')
    end
  end
  local raw = has and ARGV[4] or encode(customer)
  redis.call('SET', KEYS[2], raw)
  for _, i in ipairs(customer.identities) do
    redis.call('HSET', KEYS[1], i.channel .. ':' .. i.address, customer.id)
  end
  return { 0, raw, 1 }
end)
