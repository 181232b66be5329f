--[[ touchConversation-1.lua: the customer reached out on a channel: record it
once among the channels used and make it the last one.

KEYS[1]  the conversation record
ARGV[1]  key base; ARGV[2] conversation id; ARGV[3] channel; ARGV[4] now
Result   {0, conversation} | NOT_FOUND
]]
--!include keys.lua
--!include base.lua
--!include records.lua

return run(function()
  local c = mustConversation(ARGV[2])
  local channel = ARGV[3]
  if not contains(c.channels, channel) then c.channels[#c.channels + 1] = channel end
  c.lastChannel = channel
  c.lastContactAt = tonumber(ARGV[4])
  changed('conversation', c)
  flush()
  return { 0, json(c) }
end)
