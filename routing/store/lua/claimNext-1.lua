--[[ claimNext-1.lua: give a freed agent the best waiting conversation they can
serve, on any channel where they have capacity left.

The best is the lowest rank {hard-capped ? 0 : 1, score, arrival} (past the hard
cap: {0, arrival, arrival}), then the channel order (voice, sms, chat, email),
then the order the lines were created in: the memory store's result exactly.
Only the lines that can still win are looked at: the hard-capped ones oldest
first, then the others best head first, stopping when a line's best possible
rank cannot beat the best found.

With a limit over 1 (`fill`), it claims again until the agent has no capacity
left, nothing waits that they can serve, or the limit is reached. A claim that
assigns answers the conversation (includes/answer.lua); an offer schedules its
offer timer.

KEYS[1]  the agent record
ARGV[1]  key base; ARGV[2] agent id; ARGV[3] now
ARGV[4]  rules (JSON: {overflowAfterMs, hardCapMs, offerTimeoutMs: {channel: ms}})
ARGV[5]  the most claims to make (1: claimNext)
Result   {0, claim, claim, ...}, each claim five entries: 'assigned' | 'offered', agentId, reason,
         conversation, settled (JSON array of promises; '[]' for an offer); {0} when nothing
Reaches  the channel's line heads and lines, waiting conversations, pools, the customers' last owners, indexes,
         the conversation's promises, the timers.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include pools.lua
--!include line.lua
--!include ownership.lua
--!include answer.lua
--!include claim.lua

return run(function()
  local agentId, now, rules = ARGV[2], tonumber(ARGV[3]), cjson.decode(ARGV[4])
  local limit = tonumber(ARGV[5]) or 1
  local agent = loadAgent(agentId)
  if not agent then return { 0 } end
  return claimUpTo(agent, now, rules, limit, { 0 }, true)
end)
