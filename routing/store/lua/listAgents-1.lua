--[[ listAgents-1.lua: a page of the agent records, in creation order (the store reads a long list page by
page, so that no one script holds Redis for the whole of it).

KEYS[1]  the agent list
ARGV[1]  key base; ARGV[2] the first one's place in the list (0-based); ARGV[3] how many at most
Result   {0, id1, agent1 | false, id2, agent2 | false, ...}
]]
--!include keys.lua
--!include base.lua

return run(function()
  local first = tonumber(ARGV[2])
  local ids = redis.call('LRANGE', KEYS[1], first, first + tonumber(ARGV[3]) - 1)
  local out = { 0 }
  for _, id in ipairs(ids) do
    out[#out + 1] = id
    out[#out + 1] = redis.call('GET', K.agent(id))
  end
  return out
end)
