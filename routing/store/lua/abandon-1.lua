--[[ abandon-1.lua: the customer left while waiting: out of line, and a ringing
agent's capacity comes back.

KEYS[1]  the conversation record
ARGV[1]  key base; ARGV[2] conversation id; ARGV[3] now; ARGV[4] 'block' when the team closed it by blocking
         the customer (kept as closedBy), else ''
Result   {0, conversation} | INVALID_STATE when not waiting | NOT_FOUND
Reaches  its waiting line, the ringing agent, pools, indexes.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include pools.lua
--!include line.lua

return run(function()
  local id, now = ARGV[2], tonumber(ARGV[3])
  local c = mustConversation(id)
  if c.status ~= 'queued' then
    fail(E.INVALID_STATE, 'conversation ' .. id .. ' is ' .. c.status .. '; only a waiting one can be abandoned')
  end
  local agent = (not isnull(c.offer)) and loadAgent(c.offer.agentId)
  dequeue(c.id)
  if not isnull(c.offer) then
    if agent then releaseSlot(agent, c.offer.channel) end
    c.offer = NULL
    -- Its timer goes with it: a conversation with one rings (includes/handle.lua `waitSnapshot`).
    redis.call('ZREM', K.timers(), 'offer:' .. id)
  end
  c.status = 'abandoned'
  c.resolvedAt = now
  if ARGV[4] == 'block' then c.closedBy = 'block' end
  changed('conversation', c)
  flush()
  return { 0, json(c) }
end)
