--[[ markFreshStore-2.lua: run when a process connects. A store with no
conversation yet keeps the helpers' index (includes/records.lua
`indexConversation`) from its first one: marked as built, so that
listAgentConversations-1.lua has nothing to build from what came before.

KEYS[1]  the conversations index; KEYS[2] the mark that the helpers' index is built
ARGV[1]  key base
Result   {0, 1} when marked now | {0, 0} (conversations were stored before, or marked already)
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return { 0, 0 } end
return { 0, redis.call('SETNX', KEYS[2], '1') }
