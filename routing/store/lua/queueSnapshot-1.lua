--[[ queueSnapshot-1.lua: where a waiting conversation stands: its 1-based place
in its line, and the servers (capacity of the available agents skilled for it).

KEYS[1]  the waiting hash
ARGV[1]  key base; ARGV[2] conversation id
Result   {0, position, servers, channel, handle count, handle total ms} | {0} when it is not in line
Reads    its line, the servers hash, how many handle times the channel keeps and their sum.
]]
--!include keys.lua
--!include base.lua
--!include line.lua
--!include handle.lua

return run(function()
  local snapshot = waitSnapshot(ARGV[2])
  if not snapshot then return { 0 } end
  return { 0, unpack(snapshot) }
end)
