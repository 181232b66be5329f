--[[ linkIdentity-2.lua: link an identity to a customer. When another customer
already has it, nothing changes and that customer's id comes back.

KEYS[1]  the customer record; KEYS[2] the identities hash
ARGV[1]  key base; ARGV[2] customer id; ARGV[3] identity key; ARGV[4] identity (JSON)
Result   {0, customer, taken by | false} | NOT_FOUND
]]
--!include keys.lua
--!include base.lua
--!include records.lua

return run(function()
  local customer = mustCustomer(ARGV[2])
  local holder = redis.call('HGET', KEYS[2], ARGV[3])
  if holder and holder ~= customer.id then return { 0, customerJson(customer), holder } end
  if not holder then
    customer.identities[#customer.identities + 1] = cjson.decode(ARGV[4])
    redis.call('HSET', KEYS[2], ARGV[3], customer.id)
    changed('customer', customer)
    flush()
  end
  return { 0, customerJson(customer), false }
end)
