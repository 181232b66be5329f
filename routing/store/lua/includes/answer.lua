-- Answering (routing/store/store.ts, "answering"): when a person answers a
-- conversation, its waiting timers go and its open quoted waits settle, kept
-- when answered by their due time, else broken, their timers going too. In two
-- steps, so that a corrupt promise fails the script before its first write:
-- `answering` reads and checks, `answered` writes (after `flush`).

-- Read conversation `id`'s promises, a MGET per 256, checking each one's state: `each(key, id, promise)` for every
-- open quoted wait; it returns true to stop.
local function openWaits(id, each)
  local ids = redis.call('LRANGE', K.promisesOf(id), 0, -1)
  for from = 1, #ids, 256 do
    local keys = {}
    for i = from, math.min(#ids, from + 255) do keys[#keys + 1] = K.promise(ids[i]) end
    local raws = redis.call('MGET', unpack(keys))
    for i, key in ipairs(keys) do
      local raw = raws[i]
      if raw then
        local p = decode(key, raw)
        if type(p.state) ~= 'string' then fail(E.CORRUPT, key, 'field state is missing or has the wrong type') end
        if p.state == 'open' and p.kind == 'wait' and each(key, ids[from + i - 1], p) then return end
      end
    end
  end
end

-- True when conversation `id` has an open quoted wait.
local function waitQuoted(id)
  local found = false
  openWaits(id, function()
    found = true
    return true
  end)
  return found
end

-- The open quoted waits of conversation `id`, settled in memory: {{key, id, record}, ...}. Its promises are
-- read in one MGET per 256.
local function answering(id, now)
  local out = {}
  openWaits(id, function(key, promiseId, p)
    if type(p.dueAt) ~= 'number' then fail(E.CORRUPT, key, 'field dueAt is missing or has the wrong type') end
    if now <= p.dueAt then p.state = 'kept' else p.state = 'broken' end
    p.settledAt = now
    out[#out + 1] = { key, promiseId, p }
  end)
  return out
end

-- Write what `answering` settled and drop the timers, in one MSET and one ZREM per 128 promises: the settled
-- promises as one JSON array.
local function answered(id, settled)
  local raws = {}
  local gone = { 'overflow:' .. id, 'sticky:' .. id }
  for from = 1, #settled, 128 do
    local writes = {}
    for i = from, math.min(#settled, from + 127) do
      local entry = settled[i]
      local raw = encode(entry[3])
      writes[#writes + 1], writes[#writes + 2] = entry[1], raw
      gone[#gone + 1], gone[#gone + 2] = 'promise:' .. entry[2], 'promise-warn:' .. entry[2]
      raws[i] = raw
    end
    redis.call('MSET', unpack(writes))
    redis.call('ZREM', K.timers(), unpack(gone))
    gone = {}
  end
  if #gone > 0 then redis.call('ZREM', K.timers(), unpack(gone)) end
  return '[' .. table.concat(raws, ',') .. ']'
end
