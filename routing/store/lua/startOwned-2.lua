--[[ startOwned-2.lua: a conversation an agent starts, writing to a customer first
(Store `startOwned`): stored and assigned to the agent at once (reason
`outbound`), holding one unit of their capacity on its last channel. Everything is
read and checked before the first write.

KEYS[1]  the conversation record; KEYS[2] the agent record
ARGV[1]  key base; ARGV[2] conversation (JSON, as createConversation-2.lua's: waiting, nobody's yet)
ARGV[3]  agent id; ARGV[4] now
Result   {0, conversation} | CONFLICT duplicate_id | NOT_FOUND (customer, agent)
         | CONFLICT open_conversation (the customer has one open) | NO_CAPACITY (none left on its channel)
Reaches  the customer (following merges) and their open conversations, the conversation indexes, the agent's
         pools, the customers' last owners.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include pools.lua
--!include line.lua
--!include ownership.lua

return run(function()
  local raw, agentId, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
  local c = checkNewConversation(KEYS[1], raw)
  if c.status ~= 'queued' or not isnull(c.ownerId) then
    fail(E.INVALID_INPUT, 'a conversation an agent starts is new: waiting and nobody\'s', 'conversation.status')
  end
  local open = redis.call('ZRANGE', K.openByCustomer(c.customerId), 0, 0)
  if #open > 0 then
    fail(E.CONFLICT, 'open_conversation', 'customer ' .. c.customerId .. ' has conversation ' .. open[1] .. ' open')
  end
  local agent = mustAgent(agentId)
  local channel = c.lastChannel
  if agent.load[channel] >= agent.capacity[channel] then
    fail(E.NO_CAPACITY, agentId, 'no ' .. channel .. ' capacity left')
  end
  storeNewConversation(KEYS[1], raw, c)
  takeSlot(agent, channel, now)
  own(c, agentId, channel, 'outbound', now)
  flush()
  return { 0, json(c) }
end)
