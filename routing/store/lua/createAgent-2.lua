--[[ createAgent-2.lua: store a new agent and put them in the pools they belong to.

KEYS[1]  the agent record; KEYS[2] the agent list
ARGV[1]  key base; ARGV[2] agent id; ARGV[3] agent (JSON, stored as given)
Result   {0, agent} | CONFLICT duplicate_id
Reaches  agents by status, pools, servers.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include pools.lua

return run(function()
  local id, raw = ARGV[2], ARGV[3]
  if redis.call('EXISTS', KEYS[1]) == 1 then fail(E.CONFLICT, 'duplicate_id', 'agent ' .. id .. ' already exists') end
  local a = decode(KEYS[1], raw)
  checkAgent(KEYS[1], a)
  redis.call('SET', KEYS[1], raw)
  redis.call('RPUSH', KEYS[2], id)
  movePools(a, nil)
  indexAgentStatus(a, nil)
  return { 0, raw }
end)
