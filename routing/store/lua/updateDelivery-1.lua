--[[ updateDelivery-1.lua: replace a message's delivery state, unless that would take a delivered
message back to sent or pending, or a later send attempt than ARGV[4] has begun (then the stored
message, unchanged); with ARGV[5], its delivery timer in the same step.

KEYS[1]  the message record
ARGV[1]  key base; ARGV[2] message id; ARGV[3] delivery (JSON)
ARGV[4]  the most send attempts it may already have (its delivery's `attempts`), or '' (any)
ARGV[5]  its delivery timer: when due (a number), 'cancel', or '' (left as it is)
Result   {0, message, 1 (applied) | 0 (unchanged)} | NOT_FOUND
]]
--!include keys.lua
--!include base.lua

return run(function()
  local raw = redis.call('GET', KEYS[1])
  if not raw then fail(E.NOT_FOUND, 'message', ARGV[2]) end
  local m = decode(KEYS[1], raw)
  if type(m.delivery) ~= 'table' or (m.attachments ~= nil and type(m.attachments) ~= 'table') then
    fail(E.CORRUPT, KEYS[1], 'not a message')
  end
  local attempts = m.delivery.attempts
  if attempts == nil then attempts = 0 end
  if type(attempts) ~= 'number' then fail(E.CORRUPT, KEYS[1], 'field delivery.attempts has the wrong type') end
  local delivery = cjson.decode(ARGV[3])
  -- Reports arrive out of order (carriers, two processes): delivered never goes back to sent or pending
  -- (routing/store/rules.ts wouldRegress). A failure always applies.
  if m.delivery.state == 'delivered' and (delivery.state == 'sent' or delivery.state == 'pending') then
    return { 0, raw, 0 }
  end
  -- What an attempt reports is old news once a later one began (another process may be sending it).
  if ARGV[4] ~= '' and attempts > tonumber(ARGV[4]) then return { 0, raw, 0 } end
  m.delivery = delivery
  raw = encode(m)
  redis.call('SET', KEYS[1], raw)
  if ARGV[5] == 'cancel' then
    redis.call('ZREM', K.timers(), 'delivery:' .. ARGV[2])
  elseif ARGV[5] ~= '' then
    redis.call('ZADD', K.timers(), tonumber(ARGV[5]), 'delivery:' .. ARGV[2])
  end
  return { 0, raw, 1 }
end)
