--[[ getCustomer-1.lua: a customer by id, following merges (an old id keeps working).

KEYS[1]  the customer record under that id
ARGV[1]  key base; ARGV[2] customer id
Result   {0, customer id, customer} | {0} when there is none
]]
--!include keys.lua
--!include base.lua
--!include records.lua

return run(function()
  local customer = findCustomer(ARGV[2])
  if not customer then return { 0 } end
  return { 0, customer.id, customerJson(customer) }
end)
