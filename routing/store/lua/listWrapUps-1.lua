--[[ listWrapUps-1.lua: the after-call work not yet up, read from the wrapup
timers (member wrapup:<conversation id>, score: when it is up), which every
setWrapUp sets with the record in one step: so records set by any version of
Switchboard are found, with no index of their own to keep. Only the timers due
in the window are read (after-call work is up at most wrapUpMaxSeconds after
its call).

KEYS[1]  the timers sorted set
ARGV[1]  key base; ARGV[2] now (excluded); ARGV[3] the end of the window (included)
Result   {0, id1, wrapUp1, conversation1, id2, wrapUp2, conversation2, ...}: the record and the
         conversation's JSON as stored; one whose record or conversation is gone is left out.
]]
--!include keys.lua
--!include base.lua

return run(function()
  local out = { 0 }
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[2], ARGV[3])) do
    local id = string.match(member, '^wrapup:(.+)$')
    if id then
      local record = redis.call('GET', K.wrapUp(id))
      local conversation = redis.call('GET', K.conversation(id))
      if record and conversation then
        out[#out + 1] = id
        out[#out + 1] = record
        out[#out + 1] = conversation
      end
    end
  end
  return out
end)
