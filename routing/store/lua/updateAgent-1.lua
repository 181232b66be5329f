--[[ updateAgent-1.lua: change an agent's profile (name, skills, capacity,
console addresses, the console token's version, team lead, when they left the team); load and status stay. Pools
and servers follow. A console address given as null is taken away.

KEYS[1]  the agent record
ARGV[1]  key base; ARGV[2] agent id; ARGV[3] patch (JSON)
Result   {0, agent} | NOT_FOUND
Reaches  pools, servers.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include pools.lua

local PROFILE = {
  name = true, skills = true, capacity = true, slackUserId = true, email = true, phone = true, clientIdentity = true,
  tokenVersion = true, lead = true, leftAt = true,
}

return run(function()
  local a = mustAgent(ARGV[2])
  local patch = cjson.decode(ARGV[3])
  local patched = copyTable(a)
  for field, value in pairs(patch) do
    if PROFILE[field] then
      if value == NULL then value = nil end
      patched[field] = value
    end
  end
  checkAgent(KEYS[1], patched)
  for field in pairs(PROFILE) do a[field] = patched[field] end
  changed('agent', a)
  flush()
  return { 0, json(a) }
end)
