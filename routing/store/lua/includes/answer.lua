-- Answering (routing/store/store.ts, "answering"): when a person answers a
-- conversation, its waiting timers go and its open quoted waits settle, kept
-- when answered by their due time, else broken, their timers going too. In two
-- steps, so that a corrupt promise fails the script before its first write:
-- `answering` reads and checks, `answered` writes (after `flush`).

-- The open quoted waits of conversation `id`, settled in memory: {{key, id, record}, ...}.
local function answering(id, now)
  local out = {}
  for _, pid in ipairs(redis.call('LRANGE', K.promisesOf(id), 0, -1)) do
    local key = K.promise(pid)
    local raw = redis.call('GET', key)
    if raw then
      local p = decode(key, raw)
      if type(p.state) ~= 'string' then fail(E.CORRUPT, key, 'field state is missing or has the wrong type') end
      if p.state == 'open' and p.kind == 'wait' then
        if type(p.dueAt) ~= 'number' then fail(E.CORRUPT, key, 'field dueAt is missing or has the wrong type') end
        if now <= p.dueAt then p.state = 'kept' else p.state = 'broken' end
        p.settledAt = now
        out[#out + 1] = { key, pid, p }
      end
    end
  end
  return out
end

-- Write what `answering` settled and drop the timers: the settled promises as one JSON array.
local function answered(id, settled)
  redis.call('ZREM', K.timers(), 'overflow:' .. id, 'sticky:' .. id)
  local raws = {}
  for i, entry in ipairs(settled) do
    local raw = encode(entry[3])
    redis.call('SET', entry[1], raw)
    redis.call('ZREM', K.timers(), 'promise:' .. entry[2], 'promise-warn:' .. entry[2])
    raws[i] = raw
  end
  return '[' .. table.concat(raws, ',') .. ']'
end
