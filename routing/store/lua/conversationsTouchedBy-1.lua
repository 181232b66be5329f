--[[ conversationsTouchedBy-1.lua: the conversations an agent took, passed on or
resolved as owner at or after a time (the index includes/records.lua
`indexTouched` keeps), read in one MGET per 256.

KEYS[1]  the agent's touched index
ARGV[1]  key base; ARGV[2] since (ms)
Result   {0, id1, conversation1 | false, id2, conversation2 | false, ...} latest first
]]
--!include keys.lua

local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', ARGV[2])
local out = { 0 }
for from = 1, #ids, 256 do
  local keys = {}
  for i = from, math.min(#ids, from + 255) do keys[#keys + 1] = K.conversation(ids[i]) end
  local raws = redis.call('MGET', unpack(keys))
  for i = 1, #keys do
    out[#out + 1] = ids[from + i - 1]
    out[#out + 1] = raws[i]
  end
end
return out
