--[[ acceptOffer-1.lua: the ringing agent answers: ownership on the offered
channel, keeping the capacity the offer held.

KEYS[1]  the conversation record
ARGV[1]  key base; ARGV[2] conversation id; ARGV[3] agent id; ARGV[4] now
Result   {0, conversation, settled (JSON array of promises)} | INVALID_STATE when it has no open
         offer for the agent | NOT_FOUND
Also     cancels its offer timer and answers it (includes/answer.lua).
Reaches  its waiting line, the customer's last owner, the conversation indexes.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include pools.lua
--!include line.lua
--!include ownership.lua
--!include answer.lua

return run(function()
  local id, agentId, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
  local c = mustConversation(id)
  local offer = c.offer
  if isnull(offer) or offer.agentId ~= agentId then
    fail(E.INVALID_STATE, 'conversation ' .. id .. ' has no open offer for agent ' .. agentId)
  end
  local settled = answering(id, now)
  c.offer = NULL
  own(c, agentId, offer.channel, offer.reason, now)
  flush()
  redis.call('ZREM', K.timers(), 'offer:' .. id)
  return { 0, json(c), answered(id, settled) }
end)
