--[[ setWaitingForOwner-1.lua: mark that a contact on an owned conversation
waits for its owner, or clear it (which takes it out of line).

KEYS[1]  the conversation record
ARGV[1]  key base; ARGV[2] conversation id; ARGV[3] since, or '' to clear
Result   {0, conversation} | NOT_FOUND
Reaches  its waiting line.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include line.lua

return run(function()
  local c = mustConversation(ARGV[2])
  if ARGV[3] == '' then
    c.waitingForOwnerSince = NULL
    dequeue(c.id)
  else
    c.waitingForOwnerSince = tonumber(ARGV[3])
  end
  changed('conversation', c)
  flush()
  return { 0, json(c) }
end)
