--[[ startContact-5.lua: an inbound contact's first step, and often its whole. A message stored under its
external key already (a repeated delivery) comes back and nothing else happens.

A customer found by the identity learns the facts of ARGV[4] they have none of yet (as the router's contact
teaches them; a name among them sets their name). Then, when they have an open conversation (the one ARGV[13]
names when it is theirs and open, else the one active last, as openConversationOf-1.lua), the message is
appended there, as its customer's, and the conversation touched on the contact's channel (as
touchConversation-1.lua): the caller decides what follows with what comes back. When they have none, their
latest conversation comes back and nothing else happens (the caller goes on).

Else the customer is created as in resolveCustomer-2.lua, their conversation started with its first message
as in startConversation-3.lua, and routed as in route-1.lua on its last channel.

Every refusal comes before the first write: an id taken, a corrupt record read. (A corrupt agent record met
by the route fails it with the contact stored, as route-1.lua would after startConversation-3.lua.)

KEYS[1]  the identities hash; KEYS[2] the new customer's record; KEYS[3] the external-id hash
KEYS[4]  the new conversation's record; KEYS[5] its first message's record
ARGV[1]  key base; ARGV[2] identity key (channel:address); ARGV[3] identity (JSON)
ARGV[4]  the customer to create (JSON; for a known customer, what the contact teaches: its facts and name)
ARGV[5]  the contact's external key (channel:externalId) or ''
ARGV[6]  the conversation to start (JSON, stored as given; its customer is ARGV[4]'s)
ARGV[7]  the message id; ARGV[8] the message (JSON, stored as given, its conversation being ARGV[6]'s; for a
         known customer, stored with their open conversation and themselves as its author)
ARGV[9]  candidates, ARGV[10] mode, ARGV[11] now, ARGV[12] score: as route-1.lua's ARGV[4] to ARGV[7]
         (now is the contact's time too)
ARGV[13] the conversation the contact names, or ''; ARGV[14] as route-1.lua's ARGV[8]
ARGV[15] the message's time (ms), when the customer is active
Result   {0, 1 (duplicate), stored message, its id}
         | {0, 0, customer, 0 (found), their latest conversation | false}
         | {0, 0, customer, 2 (found, continued), message, conversation, 1 | 0 (it was last on another
           channel), 1 | 0 (it waits in a line), its owner's agent record | false}
         | {0, 0, customer, 1 (created), message, <route-1.lua's result after its 0>}
         | {0, 0, customer, 3 (found, blocked: nothing stored or learnt)}
         | CONFLICT duplicate_id | identity_taken | INVALID_INPUT (the conversation is another customer's)
Reaches  the found customer (following merges), their conversations and the owner of the open one; a
         repeat's stored message; what route-1.lua reaches.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include messages.lua
--!include customers.lua
--!include contact.lua
--!include pools.lua
--!include line.lua
--!include handle.lua
--!include ownership.lua
--!include answer.lua
--!include route.lua

-- A known customer's contact (see the header).
local function continueContact(customer, external)
  local taught = cjson.decode(ARGV[4])
  local c = namedConversation(ARGV[13], customer.id) or openConversation(customer.id)
  if not c then
    local latest = latestConversation(customer.id)
    learnFacts(customer, taught.facts, taught.name)
    flush()
    return { 0, 0, customerJson(customer), 0, latest and json(latest) or false }
  end
  checkNewMessage(KEYS[5], ARGV[7])
  local message = cjson.decode(ARGV[8])
  local at = messageTime(ARGV[15])
  local owner = false
  if c.status == 'assigned' and not isnull(c.ownerId) then owner = loadAgent(c.ownerId) or false end
  local switched = c.lastChannel ~= message.channel
  local inLine = placeInLine(c.id) ~= nil
  learnFacts(customer, taught.facts, taught.name)
  touchConversation(c, message.channel, tonumber(ARGV[11]))
  flush()
  local name = customer.name
  if isnull(name) or name == '' then name = nil end
  message.conversationId = c.id
  message.author = { type = 'customer', id = customer.id, name = name }
  local raw = encode(message)
  storeMessage(KEYS[3], KEYS[5], ARGV[7], c.id, external, raw, customer.id, at)
  return {
    0, 0, customerJson(customer), 2, raw, json(c), switched and 1 or 0, inLine and 1 or 0, owner and json(owner) or false,
  }
end

return run(function()
  local external = ARGV[5]
  local stored, prior = priorMessage(KEYS[3], external)
  if stored then return { 0, 1, stored, prior } end
  local found = identityCustomer(KEYS[1], ARGV[2])
  if found and found.blocked ~= nil then return { 0, 0, customerJson(found), 3 } end
  if found then return continueContact(found, external) end
  local c = checkConversationJson(KEYS[4], ARGV[6])
  checkNewMessage(KEYS[5], ARGV[7])
  local at = tonumber(messageTime(ARGV[15]))
  local customer, customerRaw = checkNewCustomer(KEYS[1], KEYS[2], ARGV[3], ARGV[4])
  if c.customerId ~= customer.id then
    fail(E.INVALID_INPUT, 'the conversation must be the new customer\'s', 'conversation.customerId')
  end
  local candidates, mode = cjson.decode(ARGV[9]), cjson.decode(ARGV[10])
  storeNewCustomer(KEYS[1], KEYS[2], customer, customerRaw, at)
  storeNewConversation(KEYS[4], ARGV[6], c)
  storeMessage(KEYS[3], KEYS[5], ARGV[7], c.id, external, ARGV[8])
  local routed = routeDecision(c.id, c.lastChannel, candidates, mode, tonumber(ARGV[11]), ARGV[12], tonumber(ARGV[14]))
  local out = { 0, 0, customerRaw, 1, ARGV[8] }
  for i = 2, #routed do out[#out + 1] = routed[i] end
  return out
end)
