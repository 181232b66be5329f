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

return run(function()
  local ownerId, live = ARGV[2], cjson.decode(ARGV[3])
  -- Every record read and checked before the first write.
  local held = {}
  for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    local c = loadConversation(id)
    if c and c.status == 'assigned' and c.ownerId == ownerId then
      held[#held + 1] = c
      if not isnull(c.cover) then loadAgent(c.cover.agentId) end
    end
  end
  local updated, freed = {}, {}
  for _, c in ipairs(held) do
    redis.call('ZREM', K.timers(), 'sticky:' .. c.id)
    local touched = false
    if not isnull(c.waitingForOwnerSince) then
      c.waitingForOwnerSince = NULL
      dequeue(c.id)
      touched = true
    end
    local cover = c.cover
    if not isnull(cover) and not contains(live, cover.channel) then
      dequeue(c.id)
      c.cover = NULL
      local agent = loadAgent(cover.agentId)
      if agent then releaseSlot(agent, cover.channel) end
      freed[#freed + 1] = cover.agentId
      touched = true
    end
    if touched then
      changed('conversation', c)
      updated[#updated + 1] = c
    end
  end
  flush()
  local out = { 0, #updated }
  for _, c in ipairs(updated) do out[#out + 1] = json(c) end
  for _, agentId in ipairs(freed) do out[#out + 1] = agentId end
  return out
end)
