--[[ updateDelivery-1.lua: replace a message's delivery state, unless that would take a delivered
message back to sent or pending (then the stored message, unchanged).

KEYS[1]  the message record
ARGV[1]  key base; ARGV[2] message id; ARGV[3] delivery (JSON)
Result   {0, message} | NOT_FOUND
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
  local delivery = cjson.decode(ARGV[3])
  -- Reports arrive out of order (carriers, two processes): delivered never goes back to sent or pending
  -- (routing/store/rules.ts wouldRegress). A failure always applies.
  if m.delivery.state == 'delivered' and (delivery.state == 'sent' or delivery.state == 'pending') then
    return { 0, raw }
  end
  m.delivery = delivery
  raw = encode(m)
  redis.call('SET', KEYS[1], raw)
  return { 0, raw }
end)
