// A yardstick for the Redis store: how fast could one Redis on this machine make a
// claim if a script did only the Redis commands? `npm run bench:floor`.
//
// One Lua script does what the `claim` scenario's `resolve` does, command for command
// (42 calls, as many as the real one makes: read the conversation and its owner, give back the slot, keep the handle
// time, move the resolved conversation's index entries, set the last owner, swap its
// timers; then read the owner's capacity, the channel's best line head, the head's
// conversation and its promises, take the slot, own it, take it out of its line and
// keep the line's indexes, move its index entries, drop its pool entry and timers, and
// return both conversations), on records kept as hashes and with next to no logic: no
// JSON, no shape checks, one line, no skills. It is not Switchboard's data model and
// is never used by it. Set beside `npm run bench -- --store redis --redis-stats`, it
// shows how much of a decision's Redis time is the commands and how much the work the
// real scripts do around them.
//
// Prints, per concurrency, the median over `reps` of: scripts per second (wall clock,
// this process doing nothing else) and Redis's time per script (INFO commandstats).
import { createClient } from 'redis';
import { median } from './stats.js';
import { parseCommandStats } from './stores.js';

const SETUP = `
local P, agents, held, waiting = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
for i = 0, agents - 1 do
  redis.call('HSET', P .. 'agent:a' .. i, 'status', 'available', 'load:chat', 3, 'cap:chat', 3, 'idle', 0)
end
for i = 0, held - 1 do
  redis.call('HSET', P .. 'conv:c' .. i, 'id', 'c' .. i, 'status', 'assigned', 'owner', 'a' .. (i % agents),
    'slot', 'chat', 'assignedAt', 1000, 'customer', 'u' .. i, 'createdAt', i)
end
for i = held, held + waiting - 1 do
  local id = 'c' .. i
  redis.call('HSET', P .. 'conv:' .. id, 'id', id, 'status', 'queued', 'owner', '', 'slot', '', 'customer', 'u' .. i,
    'createdAt', i)
  redis.call('ZADD', P .. 'line:chat:score', i, string.format('%016d', i) .. id)
  redis.call('ZADD', P .. 'line:chat:arrival', i, id)
  redis.call('HSET', P .. 'waiting', id, 'chat')
end
redis.call('ZADD', P .. 'heads:chat', held, 'chat')
return 1`;

/** Resolve conversation ARGV[2] at ARGV[3] and give its owner the head of the line, as `resolve` does. */
const DECIDE = `
local P, C, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local ck = P .. 'conv:' .. C
local f = redis.call('HMGET', ck, 'status', 'owner', 'slot', 'assignedAt', 'customer')
if f[1] ~= 'assigned' then return { -2, C .. ' is ' .. tostring(f[1]) } end
local A, ch, cust = f[2], f[3], f[5]
local ak = P .. 'agent:' .. A
redis.call('HINCRBY', ak, 'load:' .. ch, -1)
local hk = P .. 'handle:' .. ch
if redis.call('RPUSH', hk, now - tonumber(f[4])) > 100 then redis.call('LPOP', hk) end
redis.call('HINCRBY', P .. 'handletotal', ch, now - tonumber(f[4]))
redis.call('HSET', ck, 'status', 'resolved', 'resolvedAt', now, 'slot', '')
redis.call('ZREM', P .. 'status:assigned', C)
redis.call('ZADD', P .. 'status:resolved', now, C)
redis.call('ZREM', P .. 'open:owner:' .. A, C)
redis.call('ZREM', P .. 'open:customer:' .. cust, C)
redis.call('HSET', P .. 'lastowners', cust, now .. '|' .. A)
redis.call('ZREM', P .. 'timers', 'sticky:' .. C)
redis.call('ZADD', P .. 'timers', now + 60000, 'survey:' .. C)
local a = redis.call('HMGET', ak, 'status', 'load:chat', 'cap:chat')
if a[1] ~= 'available' or tonumber(a[2]) >= tonumber(a[3]) then return { 0, redis.call('HGETALL', ck) } end
local heads = redis.call('ZRANGE', P .. 'heads:chat', 0, 3, 'WITHSCORES')
local line = P .. 'line:' .. heads[1]
local head = redis.call('ZRANGE', line .. ':score', 0, 0, 'WITHSCORES')
redis.call('ZRANGE', line .. ':arrival', 0, 0, 'WITHSCORES')
local X = string.sub(head[1], 17)
local xk = P .. 'conv:' .. X
local x = redis.call('HMGET', xk, 'status', 'owner', 'customer')
local promises = redis.call('LRANGE', P .. 'promises:' .. X, 0, -1)
if #promises > 0 then redis.call('MGET', unpack(promises)) end
redis.call('HINCRBY', ak, 'load:chat', 1)
redis.call('HSET', ak, 'idle', now)
redis.call('HSET', xk, 'owner', A, 'status', 'assigned', 'slot', 'chat', 'assignedAt', now, 'queuedAt', '')
redis.call('RPUSH', P .. 'ownership:' .. X, cjson.encode({ to = A, reason = 'routed', at = now }))
redis.call('ZREM', line .. ':score', head[1])
redis.call('ZREM', line .. ':arrival', X)
redis.call('HDEL', P .. 'waiting', X)
redis.call('HINCRBY', P .. 'waitingcount', 'chat', -1)
local next = redis.call('ZRANGE', line .. ':score', 0, 0, 'WITHSCORES')
redis.call('ZADD', P .. 'heads:chat', next[2], heads[1])
local oldest = redis.call('ZRANGE', line .. ':arrival', 0, 0, 'WITHSCORES')
redis.call('ZADD', P .. 'oldest:chat', oldest[2], heads[1])
redis.call('ZREM', P .. 'status:queued', X)
redis.call('ZADD', P .. 'status:assigned', now, X)
redis.call('ZADD', P .. 'owner:' .. A, now, X)
redis.call('ZADD', P .. 'open:owner:' .. A, now, X)
redis.call('HSET', P .. 'lastowners', x[3], now .. '|' .. A)
redis.call('ZREM', P .. 'pool:chat', A)
redis.call('ZREM', P .. 'timers', 'overflow:' .. X, 'sticky:' .. X)
return { 0, redis.call('HGETALL', ck), redis.call('HGETALL', xk) }`;

export interface FloorOptions {
  url: string;
  agents: number;
  reps: number;
  steps: number;
  concurrency: number[];
}

export interface FloorResult {
  concurrency: number;
  perSecond: number;
  /** Redis's time inside the script, per call (µs). */
  scriptUsec: number;
}

export async function floor(o: FloorOptions): Promise<FloorResult[]> {
  const client = createClient({ url: o.url });
  await client.connect();
  const prefix = `{floor:${process.pid}:${Date.now()}}:`;
  const held = o.agents * 3;
  const decisions = o.steps + o.concurrency.length * o.reps * o.steps;
  try {
    await client.sendCommand([
      'EVAL',
      SETUP,
      '0',
      prefix,
      String(o.agents),
      String(held),
      String(decisions + 16),
    ]);
    const sha = await client.scriptLoad(DECIDE);
    // Conversation i is assigned either from the start (i < held) or by decision i - held; resolving them in
    // order never meets one that is not assigned.
    let next = 0;
    const decide = async (): Promise<void> => {
      const i = next++;
      const out = (await client.evalSha(sha, {
        arguments: [prefix, `c${i}`, String(10_000 + i)],
      })) as unknown[];
      if (out[0] !== 0) throw new Error(`floor: decision ${i} failed: ${String(out[1])}`);
    };
    const scriptStats = async () =>
      parseCommandStats(await client.sendCommand<string>(['INFO', 'commandstats'])).get('evalsha') ?? {
        calls: 0,
        usec: 0,
      };
    for (let i = 0; i < o.steps; i++) await decide(); // warm-up
    const results: FloorResult[] = [];
    for (const concurrency of o.concurrency) {
      const rates: number[] = [];
      const usecs: number[] = [];
      for (let rep = 0; rep < o.reps; rep++) {
        const before = await scriptStats();
        const t0 = performance.now();
        for (let done = 0; done < o.steps; done += concurrency) {
          const batch = Math.min(concurrency, o.steps - done);
          await Promise.all(Array.from({ length: batch }, decide));
        }
        const seconds = (performance.now() - t0) / 1000;
        const after = await scriptStats();
        rates.push(o.steps / seconds);
        usecs.push((after.usec - before.usec) / Math.max(1, after.calls - before.calls));
      }
      results.push({ concurrency, perSecond: median(rates), scriptUsec: median(usecs) });
    }
    return results;
  } finally {
    let cursor = '0';
    do {
      const page = await client.scan(cursor, { MATCH: `${prefix}*`, COUNT: 1000 });
      cursor = String(page.cursor);
      if (page.keys.length > 0) await client.unlink(page.keys);
    } while (cursor !== '0');
    await client.quit();
  }
}

const USAGE = 'usage: npm run bench:floor -- [--agents N] [--reps N] [--steps N] [-c 1,16]';

async function main(args: string[]): Promise<void> {
  const o: FloorOptions = {
    url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    agents: 1000,
    reps: 3,
    steps: 2000,
    concurrency: [1, 16],
  };
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1] ?? ''];
    const n = Number(value);
    if (flag === '-c' || flag === '--concurrency') o.concurrency = value.split(',').map(Number);
    else if (flag === '--agents' && n >= 1) o.agents = n;
    else if (flag === '--reps' && n >= 1) o.reps = n;
    else if (flag === '--steps' && n >= 1) o.steps = n;
    else throw new Error(`${flag} ${value}: not understood\n${USAGE}`);
  }
  if (o.concurrency.some((c) => !Number.isInteger(c) || c < 1))
    throw new Error(`-c: positive integers\n${USAGE}`);
  console.log(
    `Redis floor: a resolve with its claim as 42 bare commands in one script (${o.agents} agents, ` +
      `${o.reps} reps × ${o.steps}; medians)`,
  );
  for (const r of await floor(o)) {
    console.log(
      `  concurrency ${String(r.concurrency).padStart(2)}: ${Math.round(r.perSecond).toLocaleString('en-US')}/s, ` +
        `${r.scriptUsec.toFixed(1)} µs of Redis time per script`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
