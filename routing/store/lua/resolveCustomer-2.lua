--[[ resolveCustomer-2.lua: find the customer who owns an identity, or create
the given one with it (atomic: two contacts from one new address make one customer).

KEYS[1]  the identities hash; KEYS[2] the new customer's record
ARGV[1]  key base; ARGV[2] identity key (channel:address); ARGV[3] identity (JSON)
ARGV[4]  the customer to create (JSON)
Result   {0, customer, 0 | 1 (created)} | CONFLICT duplicate_id | identity_taken
Reaches  the found customer (following merges); the customers' activity (a new one's).
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include customers.lua

return run(function()
  local raw, created = resolveCustomer(KEYS[1], KEYS[2], ARGV[2], ARGV[3], ARGV[4])
  return { 0, raw, created }
end)
