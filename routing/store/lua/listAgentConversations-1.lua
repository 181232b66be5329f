--[[ listAgentConversations-1.lua: the assigned conversations an agent is on:
owns, covers, consults on, is invited to or is offered (a hand-off); oldest
first (createdAt, then id). Read from the agent's two indexes, not from every
conversation. The first call on a store written before the helpers' index was
kept builds that index from every assigned conversation (one that cannot be
read is left out of it).

KEYS[1]  the agent's open owned conversations (index)
ARGV[1]  key base; ARGV[2] agent id
Result   {0, id1, conversation1, id2, conversation2, ...}
Reaches  the agent's helping index; once, every assigned conversation and the marker that it was built.
]]
--!include keys.lua
--!include base.lua
--!include records.lua

local function build()
  for _, id in ipairs(redis.call('ZRANGE', K.conversationsByStatus('assigned'), 0, -1)) do
    local raw = redis.call('GET', K.conversation(id))
    local ok, c = pcall(cjson.decode, raw or '')
    if ok and type(c) == 'table' and pcall(checkConversation, K.conversation(id), c) then
      for agentId in pairs(helpersOf(c) or {}) do redis.call('ZADD', K.helpingIn(agentId), c.createdAt, id) end
    end
  end
  redis.call('SET', K.helpingIndexed(), '1')
end

return run(function()
  local agentId = ARGV[2]
  if redis.call('EXISTS', K.helpingIndexed()) == 0 then build() end
  local seen, found = {}, {}
  for _, key in ipairs({ KEYS[1], K.helpingIn(agentId) }) do
    for _, id in ipairs(redis.call('ZRANGE', key, 0, -1)) do
      if not seen[id] then
        seen[id] = true
        local c = loadConversation(id)
        if c and c.status == 'assigned' and (c.ownerId == agentId or (helpersOf(c) or {})[agentId]) then
          found[#found + 1] = c
        end
      end
    end
  end
  table.sort(found, function(x, y)
    if x.createdAt ~= y.createdAt then return x.createdAt < y.createdAt end
    return bytesLess(x.id, y.id)
  end)
  local out = { 0 }
  for _, c in ipairs(found) do
    out[#out + 1] = c.id
    out[#out + 1] = json(c)
  end
  return out
end)
