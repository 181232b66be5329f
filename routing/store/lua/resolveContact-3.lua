--[[ resolveContact-3.lua: the first step of an inbound contact. A message stored
under its external key already (a repeated delivery) comes back and nothing else
happens; else the customer is found or created as in resolveCustomer-2.lua.

KEYS[1]  the identities hash; KEYS[2] the new customer's record; KEYS[3] the external-id hash
ARGV[1]  key base; ARGV[2] identity key (channel:address); ARGV[3] identity (JSON)
ARGV[4]  the customer to create (JSON); ARGV[5] the contact's external key (channel:externalId)
Result   {0, 1 (duplicate), stored message, its id} | {0, 0, customer, 0 | 1 (created)}
         | CONFLICT duplicate_id | identity_taken
Reaches  the found customer (following merges); a repeat's stored message.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include messages.lua
--!include customers.lua

return run(function()
  local stored, id = priorMessage(KEYS[3], ARGV[5])
  if stored then return { 0, 1, stored, id } end
  local raw, created = resolveCustomer(KEYS[1], KEYS[2], ARGV[2], ARGV[3], ARGV[4])
  return { 0, 0, raw, created }
end)
