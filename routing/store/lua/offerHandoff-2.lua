--[[ offerHandoff-2.lua: the owner asks a colleague to take the conversation
over (a warm hand-off); ownership moves only when they accept.

KEYS[1]  the conversation record; KEYS[2] the colleague's agent record
ARGV[1]  key base; ARGV[2] conversation id; ARGV[3] from (the owner); ARGV[4] to
ARGV[5]  note; ARGV[6] now
Also     keeps a place on the colleague's record on the conversation's channel (reserved) until it ends.
Result   {0, conversation} | INVALID_STATE (not the owner, colleague offline, one pending)
         | INVALID_INPUT (to oneself) | NOT_FOUND
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include pools.lua

return run(function()
  local id, from, to, note, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
  local c = mustConversation(id)
  if c.status ~= 'assigned' or c.ownerId ~= from then
    fail(E.INVALID_STATE, 'agent ' .. from .. ' does not own conversation ' .. id)
  end
  if from == to then fail(E.INVALID_INPUT, 'an agent cannot hand off to themselves', 'toAgentId') end
  local target = mustAgent(to)
  if target.status == 'offline' then
    fail(E.INVALID_STATE, 'agent ' .. to .. ' is offline and cannot take a hand-off')
  end
  if not isnull(c.handoff) then
    fail(E.INVALID_STATE, 'conversation ' .. id .. ' already has a hand-off pending')
  end
  c.handoff = { from = from, to = to, note = note, at = now }
  -- A place on the colleague is kept for it: routing gives them nothing else there meanwhile.
  if not isnull(c.slotChannel) then
    c.handoff.channel = c.slotChannel
    keepPlace(target, c.slotChannel, 1)
  end
  changed('conversation', c)
  flush()
  return { 0, json(c) }
end)
