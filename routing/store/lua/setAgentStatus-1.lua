--[[ setAgentStatus-1.lua: available, away or offline. Becoming available
starts their idle time (the pools' order); pools and servers follow.

KEYS[1]  the agent record
ARGV[1]  key base; ARGV[2] agent id; ARGV[3] status; ARGV[4] '1' when a reason follows; ARGV[5] reason
ARGV[6]  now
Result   {0, agent} | NOT_FOUND
Also     counts again the places kept on them for hand-offs (includes/pools.lua `recountKept`).
Reaches  agents by status, pools, servers, the conversations they help on when a place is kept.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include pools.lua

return run(function()
  local a = mustAgent(ARGV[2])
  recountKept(a)
  local reason = nil
  if ARGV[4] == '1' then reason = ARGV[5] end
  setStatus(a, ARGV[3], reason, tonumber(ARGV[6]))
  flush()
  return { 0, json(a) }
end)
