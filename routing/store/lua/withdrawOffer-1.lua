--[[ withdrawOffer-1.lua: an unanswered offer ends: the agent's capacity comes
back, and they may be set away; one who stays available is not asked again for
this wait (one set away is, once back). The conversation keeps its place in line.

KEYS[1]  the conversation record
ARGV[1]  key base; ARGV[2] conversation id; ARGV[3] agent id; ARGV[4] now
ARGV[5]  the agent's new status, or '' to leave it; ARGV[6] its reason
Result   {0, conversation} | {0} when the agent has no offer on it
Reaches  the agent, pools, servers, the conversation indexes.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include pools.lua

return run(function()
  local id, agentId, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
  local status, reason = ARGV[5], ARGV[6]
  local c = loadConversation(id)
  if not c or isnull(c.offer) or c.offer.agentId ~= agentId then return { 0 } end
  local agent = loadAgent(agentId)
  local channel = c.offer.channel
  c.offer = NULL
  changed('conversation', c)
  if agent then
    releaseSlot(agent, channel)
    -- One who left the team meanwhile stays offline.
    if status ~= '' and not agent.leftAt then setStatus(agent, status, reason, now) end
  end
  -- As memory.ts withdrawOffer: only one who stays available is passed over for the rest of this wait.
  if (not agent or agent.status == 'available') and not contains(c.declinedBy, agentId) then
    c.declinedBy[#c.declinedBy + 1] = agentId
  end
  flush()
  -- Its timer goes with it: a conversation with one is ringing (includes/handle.lua `waitSnapshot`).
  redis.call('ZREM', K.timers(), 'offer:' .. id)
  return { 0, json(c) }
end)
