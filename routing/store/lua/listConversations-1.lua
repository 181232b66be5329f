--[[ listConversations-1.lua: conversations filtered by status, owner and
customer, oldest first (createdAt, then id), the last `limit` of them. Reads
the narrowest index (customer, owner, status, all) from its newest end.

KEYS[1]  the conversations index
ARGV[1]  key base; ARGV[2] status or ''; ARGV[3] owner id or ''; ARGV[4] customer id or ''
ARGV[5]  limit (0: all); ARGV[6] created at or after (ms), or '' (any time)
ARGV[7]  created before (ms), or '' (up to the newest); ARGV[8] with ARGV[7]: the id that, created at that very
         time, bounds it (those with a lower id, in byte order, are before it)
Result   {0, id1, conversation1, id2, conversation2, ...} oldest first
]]
--!include keys.lua
--!include base.lua
--!include records.lua

return run(function()
  local status, owner, customer, limit = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
  local index, byStatus, byOwner = KEYS[1], status ~= '', owner ~= ''
  if customer ~= '' then
    index = K.conversationsByCustomer(customer)
  elseif byOwner and (status == 'queued' or status == 'assigned') then
    -- The open ones they own: not the whole history of what they owned.
    index, byOwner = K.openByOwner(owner), false
  elseif byOwner then
    index, byOwner = K.conversationsByOwner(owner), false
  elseif byStatus then
    index, byStatus = K.conversationsByStatus(status), false
  end
  -- Every index is scored by createdAt: those created since are its newest `count`.
  local count = -1
  if ARGV[6] ~= '' then count = redis.call('ZCOUNT', index, ARGV[6], '+inf') end
  local found = {}
  local start = 0
  -- Before a (time, id): pass over the newest entries that are not, as an index orders equal times (by id).
  if ARGV[7] ~= '' then
    start = redis.call('ZCOUNT', index, '(' .. ARGV[7], '+inf')
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', index, ARGV[7], ARGV[7])) do
      if not bytesLess(id, ARGV[8]) then start = start + 1 end
    end
  end
  while (limit == 0 or #found < limit) and (count < 0 or start < count) do
    local last = start + 255
    if count >= 0 then last = math.min(last, count - 1) end
    local ids = redis.call('ZREVRANGE', index, start, last)
    for _, id in ipairs(ids) do
      if byStatus or byOwner then
        local c = loadConversation(id)
        if c and (not byStatus or c.status == status) and (not byOwner or c.ownerId == owner) then
          found[#found + 1] = { id, json(c) }
        end
      else
        local raw = redis.call('GET', K.conversation(id))
        if raw then found[#found + 1] = { id, raw } end
      end
      if limit ~= 0 and #found >= limit then break end
    end
    if #ids < 256 then break end
    start = start + 256
  end
  local out = { 0 }
  for i = #found, 1, -1 do
    out[#out + 1] = found[i][1]
    out[#out + 1] = found[i][2]
  end
  return out
end)
