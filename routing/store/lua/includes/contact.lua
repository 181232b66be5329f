-- contact.lua: what an inbound contact from a known customer does to their
-- records (startContact-5.lua; openConversationOf-1.lua and
-- touchConversation-1.lua are its parts on their own).

-- The customer's open (queued or assigned) conversation that was active last, or nil.
local function openConversation(customerId)
  local best
  for _, id in ipairs(redis.call('ZRANGE', K.openByCustomer(customerId), 0, -1)) do
    local c = loadConversation(id)
    if c and isOpenStatus(c.status) and (not best or c.lastContactAt > best.lastContactAt) then
      best = c
    end
  end
  return best
end

-- The conversation `id` names when it is this customer's and open, else nil ('' names none).
local function namedConversation(id, customerId)
  if id == '' then return nil end
  local c = loadConversation(id)
  if c and c.customerId == customerId and isOpenStatus(c.status) then return c end
  return nil
end

-- The customer's conversation created last (createdAt, then id: listConversations-1.lua's last), or nil.
local function latestConversation(customerId)
  local index, start = K.conversationsByCustomer(customerId), 0
  while true do
    local ids = redis.call('ZREVRANGE', index, start, start + 15)
    if #ids == 0 then return nil end
    for _, id in ipairs(ids) do
      local c = loadConversation(id)
      if c then return c end
    end
    start = start + 16
  end
end

-- The facts of `taught` (a fact key → fact object) the customer has none of yet, recorded; a name among them
-- sets their name to `name`. Marks the customer changed when it learnt anything.
local function learnFacts(customer, taught, name)
  local learnt = false
  for key, fact in pairs(taught) do
    if customer.facts[key] == nil then
      customer.facts[key] = fact
      learnt = true
      if key == 'name' and name then customer.name = name end
    end
  end
  if learnt then changed('customer', customer) end
end

-- The customer reached out on `channel`: recorded once among the channels used, and made the last one.
local function touchConversation(c, channel, now)
  if not contains(c.channels, channel) then c.channels[#c.channels + 1] = channel end
  c.lastChannel = channel
  c.lastContactAt = now
  changed('conversation', c)
end
