--[[ setCustomerBlock-1.lua: block a customer (following merges), or lift their block. Blocking one blocked
already keeps the first block.

KEYS[1]  the customer record
ARGV[1]  key base; ARGV[2] customer id; ARGV[3] the block (JSON: {at, by, reason}), or '' to lift it
Result   {0, customer} | NOT_FOUND
Reaches  the blocked customers' index.
]]
--!include keys.lua
--!include base.lua
--!include records.lua

return run(function()
  local customer = mustCustomer(ARGV[2])
  if ARGV[3] == '' then
    if customer.blocked == nil then return { 0, customerJson(customer) } end
    customer.blocked = nil
    redis.call('ZREM', K.blockedCustomers(), customer.id)
  else
    if customer.blocked ~= nil then return { 0, customerJson(customer) } end
    customer.blocked = cjson.decode(ARGV[3])
    redis.call('ZADD', K.blockedCustomers(), customer.blocked.at, customer.id)
  end
  changed('customer', customer)
  flush()
  return { 0, customerJson(customer) }
end)
