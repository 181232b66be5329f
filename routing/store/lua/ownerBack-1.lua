--[[ ownerBack-1.lua: an owner is available again, and what waited for them is
theirs. For each conversation they own and hold (assigned): its sticky timer
goes; a wait for them ends (it leaves the line); a colleague's cover on a
channel that is not live ends (the colleague's capacity comes back).

KEYS[1]  the owner's open conversations index
ARGV[1]  key base; ARGV[2] agent id; ARGV[3] live channels (JSON array)
Result   {0, n, conversation 1 … n (the ones that changed, oldest first), freed agent ids …}
Reaches  its conversations, their waiting lines, the covering agents, pools, the timers.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include pools.lua
--!include line.lua
--!include ownership.lua

return run(function()
  local held = ownerBackReads(ARGV[2])
  local updated, freed = ownerBackWrites(held, cjson.decode(ARGV[3]))
  flush()
  local out = { 0, #updated }
  for _, c in ipairs(updated) do out[#out + 1] = json(c) end
  for _, agentId in ipairs(freed) do out[#out + 1] = agentId end
  return out
end)
