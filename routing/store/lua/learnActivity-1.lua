--[[ learnActivity-1.lua: one step of learning when every customer was last
active, for a store written before their activity was kept (Store
`learnCustomerActivity`). Walks the identities hash (HSCAN, from where the last
step stopped); each customer found (following merges) is active at the later of
their creation and their conversations' last messages, as if it had been kept
(base.lua `active`). A record that cannot be read counts for nothing. Once the
walk is done, the store is marked learned.

KEYS[1]  the identities hash
ARGV[1]  key base; ARGV[2] how many identities to look at (HSCAN COUNT)
Result   {0, 1 (every customer's activity is known) | 0 (more steps to go)}
Reaches  the customers, their conversations' last messages, the activity index, the learning's cursor and mark.
]]
--!include keys.lua
--!include base.lua
--!include records.lua

-- The time of a conversation's last message, or nil when it has none that can be read.
local function lastMessageAt(id)
  local messageId = redis.call('LINDEX', K.messagesOf(id), -1)
  if not messageId then return nil end
  local ok, m = pcall(cjson.decode, redis.call('GET', K.message(messageId)) or '')
  if ok and type(m) == 'table' and type(m.at) == 'number' then return m.at end
  return nil
end

return run(function()
  if redis.call('EXISTS', K.activityLearned()) == 1 then return { 0, 1 } end
  local cursor = redis.call('GET', K.activityCursor()) or '0'
  local page = redis.call('HSCAN', KEYS[1], cursor, 'COUNT', ARGV[2])
  local seen = {}
  for i = 2, #page[2], 2 do
    local ok, customer = pcall(findCustomer, page[2][i])
    if ok and customer and not seen[customer.id] then
      seen[customer.id] = true
      local last = customer.createdAt
      for _, id in ipairs(redis.call('ZRANGE', K.conversationsByCustomer(customer.id), 0, -1)) do
        local at = lastMessageAt(id)
        if at and at > last then last = at end
      end
      active(customer.id, last)
    end
  end
  if page[1] == '0' then
    redis.call('SET', K.activityLearned(), '1')
    redis.call('DEL', K.activityCursor())
    return { 0, 1 }
  end
  redis.call('SET', K.activityCursor(), page[1])
  return { 0, 0 }
end)
