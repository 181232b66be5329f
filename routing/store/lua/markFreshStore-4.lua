--[[ markFreshStore-4.lua: run when a process connects. A store with no
conversation yet keeps the helpers' index (includes/records.lua
`indexConversation`) from its first one: marked as built, so that
listAgentConversations-1.lua has nothing to build from what came before. A
store with no customer yet keeps every customer's activity (base.lua `active`)
from its first one: marked as learned, so that learnActivity-1.lua has nothing
to learn.

KEYS[1]  the conversations index; KEYS[2] the mark that the helpers' index is built
KEYS[3]  the identities hash; KEYS[4] the mark that every customer's activity is known
ARGV[1]  key base
Result   {0, 1 | 0, 1 | 0}: whether each mark was set now (0: stored before, or marked already)
]]
local helpers, activity = 0, 0
if redis.call('EXISTS', KEYS[1]) == 0 then helpers = redis.call('SETNX', KEYS[2], '1') end
if redis.call('EXISTS', KEYS[3]) == 0 then activity = redis.call('SETNX', KEYS[4], '1') end
return { 0, helpers, activity }
