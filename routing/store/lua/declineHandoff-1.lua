--[[ declineHandoff-1.lua: the colleague declines the hand-off; the owner stays.

KEYS[1]  the conversation record
ARGV[1]  key base; ARGV[2] conversation id; ARGV[3] agent id
Result   {0, conversation} | INVALID_STATE (no hand-off for them) | NOT_FOUND
Reaches  the colleague's record (the place it kept frees), pools.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include pools.lua
--!include ownership.lua

return run(function()
  local id, agentId = ARGV[2], ARGV[3]
  local c = mustConversation(id)
  if isnull(c.handoff) or c.handoff.to ~= agentId then
    fail(E.INVALID_STATE, 'conversation ' .. id .. ' has no hand-off pending for agent ' .. agentId)
  end
  loadHolders(c)
  endHandoff(c)
  flush()
  return { 0, json(c) }
end)
