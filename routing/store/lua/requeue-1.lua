--[[ requeue-1.lua: the owner is gone for good: their (and a covering
colleague's) capacity comes back and the conversation waits in line again,
keeping the place of a contact that already waited for the owner.

KEYS[1]  the conversation record
ARGV[1]  key base; ARGV[2] conversation id; ARGV[3] now; ARGV[4] score; ARGV[5] when its wait began, or ''
         (then when it began waiting for its owner, else its last contact)
Result   {0, conversation} | INVALID_STATE when not assigned | NOT_FOUND
Reaches  the holders' agent records, pools, waiting lines, indexes.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include pools.lua
--!include line.lua
--!include ownership.lua

return run(function()
  local id, score = ARGV[2], ARGV[4]
  local c = mustConversation(id)
  if c.status ~= 'assigned' then fail(E.INVALID_STATE, 'conversation ' .. id .. ' is not assigned') end
  loadHolders(c)
  releaseHolders(c)
  c.status = 'queued'
  if ARGV[5] ~= '' then
    c.queuedAt = tonumber(ARGV[5])
  elseif isnull(c.waitingForOwnerSince) then
    c.queuedAt = c.lastContactAt
  else
    c.queuedAt = c.waitingForOwnerSince
  end
  c.waitingForOwnerSince = NULL
  c.assignedAt = NULL
  endHandoff(c)
  c.declinedBy = {}
  enqueue(c, c.lastChannel, score)
  flush()
  return { 0, json(c) }
end)
