--[[ listBlockedCustomers-1.lua: the blocked customers, the latest blocked first.

KEYS[1]  the blocked customers' index
ARGV[1]  key base; ARGV[2] the most to list
Result   {0, customer id, customer, customer id, customer, ...}
]]
--!include keys.lua
--!include base.lua
--!include records.lua

return run(function()
  local out, limit = { 0 }, tonumber(ARGV[2])
  if limit < 1 then return out end
  for _, id in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, limit - 1)) do
    local customer = loadCustomer(id)
    if customer then
      out[#out + 1] = customer.id
      out[#out + 1] = customerJson(customer)
    end
  end
  return out
end)
