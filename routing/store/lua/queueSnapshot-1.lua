--[[ queueSnapshot-1.lua: where a waiting conversation stands: its 1-based place
in its line, and the servers (capacity of the available agents skilled for it,
less those who declined this wait).

KEYS[1]  the waiting hash
ARGV[1]  key base; ARGV[2] conversation id
Result   {0, position, servers, channel, handle count, handle total ms, declined} | {0} when it is not in line
         (declined: how many available agents of the team declined this wait)
Reads    its line, the servers hash, how many handle times the channel keeps and their sum, the
         conversation and the agents who declined it.
]]
--!include keys.lua
--!include base.lua
--!include records.lua
--!include line.lua
--!include handle.lua

return run(function()
  local snapshot = waitSnapshot(ARGV[2])
  if not snapshot then return { 0 } end
  return { 0, unpack(snapshot) }
end)
