--[[ addCustomerNote-1.lua: append a note to a customer.

KEYS[1]  the customer record
ARGV[1]  key base; ARGV[2] customer id; ARGV[3] note (JSON)
Result   {0, customer} | NOT_FOUND
]]
--!include keys.lua
--!include base.lua
--!include records.lua

return run(function()
  local customer = mustCustomer(ARGV[2])
  customer.notes[#customer.notes + 1] = cjson.decode(ARGV[3])
  changed('customer', customer)
  flush()
  return { 0, customerJson(customer) }
end)
