--[[ route-1.lua: one routing decision for a conversation. The first candidate
available with capacity takes it (assign: ownership now; offer: ringing,
capacity held; cover: a colleague answers for the owner); else it waits in line.

KEYS[1]  the conversation record
ARGV[1]  key base; ARGV[2] conversation id; ARGV[3] channel
ARGV[4]  candidates (JSON: [{kind:'agent',agentId,reason} | {kind:'pool',skills,reason}])
ARGV[5]  mode (JSON: {type:'assign'} | {type:'offer',expiresAt} | {type:'cover'})
ARGV[6]  now; ARGV[7] score (its place when it waits); ARGV[8] when it waits, its overflow timer's due time, or ''
Result   {0, 'assigned', agentId, reason, previousOwnerId | false, conversation, settled}
         {0, 'offered', agentId, reason, conversation} | {0, 'covered', agentId, conversation, settled}
         (settled: JSON array of the promises answering settled, includes/answer.lua; an offer
         schedules its offer timer)
         {0, 'queued', conversation, 1 | 0 (a quoted wait is open), <queueSnapshot-1.lua's result after its 0>}
         | {0, 'skipped', conversation}; errors as in base.lua
Reaches  candidate agents, pools, waiting lines, the customer's last owner, the conversation indexes.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include pools.lua
--!include line.lua
--!include handle.lua
--!include ownership.lua
--!include answer.lua
--!include route.lua

return run(function()
  return routeDecision(
    ARGV[2], ARGV[3], cjson.decode(ARGV[4]), cjson.decode(ARGV[5]), tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8])
  )
end)
