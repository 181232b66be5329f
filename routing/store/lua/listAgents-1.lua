--[[ listAgents-1.lua: every agent record, in creation order.

KEYS[1]  the agent list
ARGV[1]  key base
Result   {0, id1, agent1 | false, id2, agent2 | false, ...}
]]
--!include keys.lua
--!include base.lua

return run(function()
  local ids = redis.call('LRANGE', KEYS[1], 0, -1)
  local out = { 0 }
  for _, id in ipairs(ids) do
    out[#out + 1] = id
    out[#out + 1] = redis.call('GET', K.agent(id))
  end
  return out
end)
