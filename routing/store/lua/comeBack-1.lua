--[[ comeBack-1.lua: an agent is available again, in one step: their status
(setAgentStatus-1.lua), what waited for them as owner (includes/ownership.lua), then
the waiting conversations they can serve (claimNext-1.lua's fill). A claim that
fails (a corrupt waiting record) stops the filling, not the rest.

KEYS[1]  the agent record
ARGV[1]  key base; ARGV[2] agent id; ARGV[3] now; ARGV[4] live channels (JSON array)
ARGV[5]  rules (JSON, as claimNext-1.lua's ARGV[4]); ARGV[6] the most claims to make
ARGV[7]  '1' when a reason follows; ARGV[8] reason
Result   {0, status before, reason before | false, n, m, conversation 1 … n (the ones owner-back changed,
         oldest first), freed agent id 1 … m, agent (after), claim, claim, ...} (claims as claimNext-1.lua's)
         | NOT_FOUND
Reaches  as setAgentStatus-1.lua and claimNext-1.lua together, and the agent's own conversations, their
         waiting lines and their covering colleagues.
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
  local agentId, now = ARGV[2], tonumber(ARGV[3])
  local reason = nil
  if ARGV[7] == '1' then reason = ARGV[8] end
  local a = mustAgent(agentId)
  recountKept(a)
  local out = { 0, a.status, a.statusReason or false }
  local held = ownerBackReads(agentId)
  setStatus(a, 'available', reason, now)
  local updated, freed = ownerBackWrites(held, cjson.decode(ARGV[4]))
  -- Every change so far is written by the filling's flush, even when its first claim fails.
  local claims = claimUpTo(a, now, cjson.decode(ARGV[5]), tonumber(ARGV[6]), {})
  out[4], out[5] = #updated, #freed
  for _, c in ipairs(updated) do out[#out + 1] = json(c) end
  for _, id in ipairs(freed) do out[#out + 1] = id end
  out[#out + 1] = json(a)
  for _, entry in ipairs(claims) do out[#out + 1] = entry end
  return out
end)
