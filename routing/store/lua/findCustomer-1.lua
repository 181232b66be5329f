--[[ findCustomer-1.lua: the customer who has an identity, following merges.

KEYS[1]  the identities hash (channel:address → customer id)
ARGV[1]  key base; ARGV[2] the identity (`channel:address`)
Result   {0, customer id, customer} | {0} when nobody has it
]]
--!include keys.lua
--!include base.lua
--!include records.lua

return run(function()
  local id = redis.call('HGET', KEYS[1], ARGV[2])
  if not id then return { 0 } end
  local customer = findCustomer(id)
  if not customer then return { 0 } end
  return { 0, customer.id, customerJson(customer) }
end)
