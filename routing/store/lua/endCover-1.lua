--[[ endCover-1.lua: a cover ends (the call is over): the covering agent's
capacity comes back; the conversation leaves the line.

KEYS[1]  the conversation record
ARGV[1]  key base; ARGV[2] conversation id
Result   {0, conversation, covering agent id | false} | NOT_FOUND
Reaches  its waiting line, the covering agent, pools.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include pools.lua
--!include line.lua

return run(function()
  local c = mustConversation(ARGV[2])
  local cover = c.cover
  local agent = (not isnull(cover)) and loadAgent(cover.agentId)
  dequeue(c.id)
  if isnull(cover) then return { 0, json(c), false } end
  c.cover = NULL
  changed('conversation', c)
  if agent then releaseSlot(agent, cover.channel) end
  flush()
  return { 0, json(c), cover.agentId }
end)
