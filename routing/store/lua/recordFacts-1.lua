--[[ recordFacts-1.lua: record facts on a customer; per key the later fact wins
(by its time). Sets the name when given.

KEYS[1]  the customer record
ARGV[1]  key base; ARGV[2] customer id; ARGV[3] facts (JSON object)
ARGV[4]  '1' when a name follows; ARGV[5] name
Result   {0, customer} | NOT_FOUND
]]
--!include keys.lua
--!include base.lua
--!include records.lua

return run(function()
  local customer = mustCustomer(ARGV[2])
  local facts = cjson.decode(ARGV[3])
  local names = {}
  for key in pairs(facts) do names[#names + 1] = key end
  table.sort(names, bytesLess)
  for _, key in ipairs(names) do
    local fact, prior = facts[key], customer.facts[key]
    if not prior or prior.at <= fact.at then customer.facts[key] = fact end
  end
  if ARGV[4] == '1' then customer.name = ARGV[5] end
  changed('customer', customer)
  flush()
  return { 0, customerJson(customer) }
end)
