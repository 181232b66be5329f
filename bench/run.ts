// Routing benchmark: routing decisions through the real Router and a Store, with
// a manual clock and sequential ids. `npm run bench [-- --quick] [-- --json]`.
//
// Scenarios (each at every agents × waiting size):
//   claim   All agents busy, `waiting` conversations in line (mixed channels in proportion
//           to the capacity on them, mixed skills and priorities). One decision: an agent
//           resolves a conversation (drawn at random beforehand, untimed) and the router gives
//           them the next waiting one they can serve (a ringing call is answered). A new
//           contact on the same channel then arrives (untimed), so every channel's line keeps
//           its length.
//   arrive  `waiting` emails in line (every agent's email capacity in use); chats, SMS
//           and calls arrive while about a third of the live capacity is free. One
//           decision: a contact comes in through `router.contact` and is assigned to a
//           free agent in the same request (or queued when nobody fits). A random live
//           conversation is then resolved (untimed) so capacity keeps turning over.
//   return  As `claim`, but an agent steps away, finishes a conversation and a new contact
//           takes its place in line (untimed). One decision: the agent is back
//           (`setAgentStatus(available)`): what waited for them as owner is theirs again and
//           the router gives them the next waiting conversation.
//   wait    As `claim`'s world. One decision: a contact comes in through `router.contact`
//           while every agent is busy, and waits with an honest quote (its place in line and
//           a pessimistic wait, promised). A random held conversation is then resolved
//           (untimed), its agent taking the next waiting one, so the line keeps its length.
//           Its rate counts the contacts told their wait (the assign/s and assigned columns);
//           the assignment targets do not apply to it.
//   reply   As `claim`'s world, but nothing is resolved. One decision: the customer of an
//           owned SMS, chat or email conversation (drawn at random beforehand, untimed) writes
//           again through `router.contact`, and the message reaches its owner, who is there.
//           The most common contact of a working day. Its rate counts the messages that
//           reached their owner (in the table's assign/s and assigned columns); the
//           assignment targets do not apply to it.
//
// Every decision is timed with process.hrtime.bigint(). Assignments per second is
// assignments made inside the timed decisions over the time spent in them. After a
// warm-up, `reps` repetitions of `steps` decisions run; each figure is the median
// across repetitions.
//
// `--concurrency N` (`-c N`, default 1) runs the decisions in batches of N, as a server
// handling N requests at once would (node-redis pipelines what is sent in the same
// tick). Each of the N lanes is prepared in turn (untimed), their N decisions start
// together and the batch is timed from the first start to the last end, then each lane's
// follow-up runs in turn (untimed). Assignments per second is then assignments made
// inside the timed batches over the time spent in them; p50 and p99 are still per
// decision, each from its own start to its own end. In `return` the lanes of a batch bring
// back different agents. With N = 1 a batch is one decision, timed as above.
//
// `--redis-stats` (Redis store) reads the server's INFO commandstats before and after every timed
// batch (untimed, on a connection of its own) and prints what Redis did per decision: the time
// inside scripts (which includes the commands they call) and every command's calls; and, from INFO cpu,
// the CPU the server process used per decision and how busy it was over the batches' time (near
// 100 %: Redis is what limits the rate).
import { cpus, loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Channel } from '../shared/model.js';
import { median, Samples } from './stats.js';
import { type ServerCounters, storeFactory } from './stores.js';
import { type ChannelMix, EMAIL_ONLY, LIVE_CHANNELS, Rng } from './workload.js';
import { type Held, World } from './world.js';

type ScenarioName = 'claim' | 'arrive' | 'return' | 'wait' | 'reply';
const SCENARIOS: ScenarioName[] = ['claim', 'arrive', 'return', 'wait', 'reply'];
/** Scenarios whose decisions are not assignments: the assignment targets do not apply. */
const NOT_ASSIGNING: ScenarioName[] = ['wait', 'reply'];
const LIVE: Channel[] = ['voice', 'sms', 'chat'];
/** Where a customer writes again while a conversation is theirs (`reply`). */
const WRITTEN: Channel[] = ['sms', 'chat', 'email'];
const EVERY: Channel[] = ['voice', 'sms', 'chat', 'email'];
/** How much waiting time the line spans: past overflow (120 s), short of the hard cap (600 s). */
const LINE_SPAN_MS = 480_000;

interface Options {
  json: boolean;
  quick: boolean;
  stores: string[];
  scenarios: ScenarioName[];
  agents: number[];
  waiting: number[];
  reps: number;
  steps: number;
  warmup: number;
  concurrency: number[];
  /** Read the Redis server's command counters around every timed batch (`--redis-stats`). */
  redisStats: boolean;
}

/** What Redis did per timed decision: every command's calls and time (a script's time includes its calls'). */
type PerDecision = Array<{ command: string; calls: number; usec: number }>;

/** The Redis server process's CPU over the timed batches: per decision, and as a share of the batches' time. */
interface RedisCpu {
  userUsec: number;
  sysUsec: number;
  /** (user + sys) / the timed batches' wall time. */
  busy: number;
}

interface Result {
  scenario: ScenarioName;
  store: string;
  agents: number;
  waiting: number;
  /** Decisions in flight at once. */
  concurrency: number;
  assignmentsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Range of p99 across repetitions. */
  p99Range: [number, number];
  /** Share of decisions that ended in an assignment (with concurrency: min(assignments, N) per batch of N). */
  assignedShare: number;
  setupSeconds: number;
  /** With `--redis-stats`: Redis's work per decision over every timed batch, most time first. */
  redis?: PerDecision;
  redisCpu?: RedisCpu;
  /** This process's CPU (user + system, every thread) per timed decision, in microseconds. */
  processCpuUsec: number;
}

const USAGE = `usage: npm run bench -- [--quick] [--json] [--store memory[,redis]] [--scenario claim,arrive,return,wait,reply]
                          [--agents 100,1000,10000] [--waiting 10000,100000] [--concurrency|-c 1,16]
                          [--reps N] [--steps N] [--warmup N] [--redis-stats]`;

function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const opts: Options = {
    json: false,
    quick,
    stores: ['memory'],
    scenarios: SCENARIOS,
    agents: quick ? [100, 1000] : [100, 1000, 10_000],
    waiting: quick ? [2000] : [10_000, 100_000],
    reps: quick ? 3 : 5,
    steps: quick ? 1000 : 4000,
    warmup: quick ? 500 : 2000,
    concurrency: [1],
    redisStats: false,
  };
  const list = (v: string | undefined, flag: string): string[] => {
    if (!v) throw new Error(`${flag} needs a value\n${USAGE}`);
    return v.split(',').filter(Boolean);
  };
  const ints = (v: string | undefined, flag: string): number[] =>
    list(v, flag).map((s) => {
      const n = Number(s.replace(/_/g, ''));
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag}: "${s}" is not a positive integer`);
      return n;
    });
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? (arg.split('=', 2) as [string, string]) : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--json':
        opts.json = true;
        break;
      case '--quick':
        break;
      case '--redis-stats':
        opts.redisStats = true;
        break;
      case '--store':
        opts.stores = list(value(), flag);
        break;
      case '--scenario':
        opts.scenarios = list(value(), flag).map((s) => {
          if (!SCENARIOS.includes(s as ScenarioName))
            throw new Error(`--scenario: "${s}" is not one of ${SCENARIOS.join(', ')}`);
          return s as ScenarioName;
        });
        break;
      case '--agents':
        opts.agents = ints(value(), flag);
        break;
      case '--waiting':
        opts.waiting = ints(value(), flag);
        break;
      case '--concurrency':
      case '-c':
        opts.concurrency = ints(value(), flag);
        break;
      case '--reps':
        opts.reps = ints(value(), flag)[0]!;
        break;
      case '--steps':
        opts.steps = ints(value(), flag)[0]!;
        break;
      case '--warmup': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 0) throw new Error(`--warmup: not a whole number ≥ 0\n${USAGE}`);
        opts.warmup = n;
        break;
      }
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  for (const s of opts.stores) storeFactory(s);
  return opts;
}

/** A full collection between setup and measurement, so the last world's garbage is not timed. */
const gc: () => void = (() => {
  setFlagsFromString('--expose-gc');
  const fn = runInNewContext('gc') as (() => void) | undefined;
  return typeof fn === 'function' ? fn : () => {};
})();

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** A decision's own state: the conversation it resolves (`claim`), the agent and channel it freed (`return`). */
interface Lane {
  held: Held | null;
  freed: { channel: Channel; agentId: string } | null;
}

async function runOne(
  scenario: ScenarioName,
  storeName: string,
  agents: number,
  waiting: number,
  concurrency: number,
  opts: Options,
): Promise<Result> {
  const { store, close, serverCounters } = await storeFactory(storeName)();
  // Redis's counters around each timed batch (read between batches, untimed): what a decision costs there.
  const counted =
    opts.redisStats && serverCounters ? new Map<string, { calls: number; usec: number }>() : null;
  let countedDecisions = 0;
  const cpu = { user: 0, sys: 0, wallUsec: 0 };
  // This process's CPU over the timed batches (read just outside each batch's timed span).
  let processCpu = 0;
  let processDecisions = 0;
  const count = (
    before: ServerCounters,
    after: ServerCounters,
    decisions: number,
    wallUsec: number,
  ): void => {
    cpu.user += after.cpuUsec.user - before.cpuUsec.user;
    cpu.sys += after.cpuUsec.sys - before.cpuUsec.sys;
    cpu.wallUsec += wallUsec;
    for (const [command, now] of after.commands) {
      if (command === 'info') continue;
      const was = before.commands.get(command) ?? { calls: 0, usec: 0 };
      const sum = counted!.get(command) ?? { calls: 0, usec: 0 };
      counted!.set(command, {
        calls: sum.calls + now.calls - was.calls,
        usec: sum.usec + now.usec - was.usec,
      });
    }
    countedDecisions += decisions;
  };
  try {
    const started = performance.now();
    const rng = new Rng(0x5b0a4d ^ (agents * 31 + waiting));
    const world = new World(store, rng, LINE_SPAN_MS / waiting);
    const capacity = await world.addAgents(agents);

    // Channels in proportion to the capacity on them, so that every channel fills up and has a line.
    const mix: ChannelMix = EVERY.map((c) => [c, capacity[c]] as const);
    // Fill: contacts arrive until every agent is busy and the line is `waiting` long.
    if (scenario !== 'arrive') {
      while (world.waiting.size < waiting) {
        await world.arrive(mix);
        await world.answerOffers();
        await world.step();
      }
    } else {
      while (world.waiting.size < waiting) {
        await world.arrive(EMAIL_ONLY);
        await world.step();
      }
      // Live channels: about two thirds of the live capacity in use.
      const live = (await store.listAgents()).reduce(
        (n, a) => n + a.capacity.voice + a.capacity.sms + a.capacity.chat,
        0,
      );
      const target = Math.floor((live * 2) / 3);
      for (let i = 0; i < target * 2 && world.heldOn(LIVE) < target; i++) {
        await world.arrive(LIVE_CHANNELS);
        await world.answerOffers();
      }
    }
    const setupSeconds = (performance.now() - started) / 1000;

    // One step: prepare (untimed), decide (timed), after (untimed), each on a lane of its own.
    const lanes: Lane[] = Array.from({ length: concurrency }, () => ({ held: null, freed: null }));
    /** Agents sent away by the lanes of the batch being prepared (`return`). */
    const away = new Set<string>();
    const prepare = async (lane: Lane): Promise<void> => {
      if (scenario === 'claim' || scenario === 'reply') {
        // The lanes of a batch draw different conversations: a drawn one is no longer held (a reply's is held
        // again after the batch).
        lane.held = world.pickHeld(scenario === 'claim' ? EVERY : WRITTEN);
        return;
      }
      if (scenario !== 'return') return;
      // An agent steps away, finishes a conversation, and a new contact takes its place in line. The lanes
      // of a batch bring back different agents: one another lane sent away is not drawn.
      const freed = await world.resolveRandom(EVERY, { away: true, skipAgents: away });
      lane.freed = freed;
      if (freed) {
        away.add(freed.agentId);
        await world.arrive(freed.channel);
      }
      await world.answerOffers();
    };
    const decide = async (lane: Lane): Promise<void> => {
      if (scenario === 'claim') {
        if (lane.held) await world.resolveHeld(lane.held);
      } else if (scenario === 'reply') {
        if (lane.held) await world.reply(lane.held);
      } else if (scenario === 'wait') await world.arrive(mix);
      else if (scenario === 'arrive') await world.arrive(LIVE_CHANNELS);
      else if (lane.freed) await world.router.setAgentStatus(lane.freed.agentId, 'available');
      await world.answerOffers();
    };
    const after = async (lane: Lane): Promise<void> => {
      if (scenario === 'claim') {
        if (lane.held) {
          world.noteResolved(lane.held);
          // The next contact on the channel that freed up keeps every channel's line the same length.
          await world.arrive(lane.held.channel);
        }
        await world.answerOffers();
      } else if (scenario === 'arrive') {
        await world.resolveRandom(LIVE);
        await world.answerOffers();
      } else if (scenario === 'wait') {
        await world.resolveRandom(EVERY);
        await world.answerOffers();
      } else if (scenario === 'reply' && lane.held) world.putBack(lane.held);
      await world.step();
    };

    // Decisions in flight: each lane's time from its own start to its own end.
    const took: bigint[] = new Array(concurrency).fill(0n);
    let failure: { error: unknown } | null = null;
    const timedDecide = async (lane: Lane, k: number): Promise<void> => {
      const t0 = process.hrtime.bigint();
      try {
        await decide(lane);
      } catch (error) {
        failure ??= { error };
      }
      took[k] = process.hrtime.bigint() - t0;
    };

    /** What a decision makes: an assignment; in `wait`, a contact told its wait; in `reply`, a message that reached its owner. */
    const made = (): number =>
      scenario === 'reply'
        ? world.ownerReplies
        : scenario === 'wait'
          ? world.queuedContacts
          : world.assignments;
    /** One batch of `n` decisions: returns what they made (`made`); with `timing`, records its times. */
    const batch = async (n: number, timing?: { decisions: Samples; batches: Samples }): Promise<number> => {
      away.clear();
      for (let k = 0; k < n; k++) await prepare(lanes[k]!);
      const statsBefore = timing && counted ? await serverCounters!() : null;
      const before = made();
      const cpuBefore = timing ? process.cpuUsage() : null;
      let wall = 0n;
      if (n === 1) {
        const t0 = process.hrtime.bigint();
        await decide(lanes[0]!);
        const t1 = process.hrtime.bigint();
        wall = t1 - t0;
        timing?.decisions.add(t1 - t0);
        timing?.batches.add(t1 - t0);
      } else {
        const inFlight: Array<Promise<void>> = [];
        const t0 = process.hrtime.bigint();
        for (let k = 0; k < n; k++) inFlight.push(timedDecide(lanes[k]!, k));
        await Promise.all(inFlight);
        const t1 = process.hrtime.bigint();
        wall = t1 - t0;
        if (failure) throw failure.error;
        if (timing) {
          for (let k = 0; k < n; k++) timing.decisions.add(took[k]!);
          timing.batches.add(t1 - t0);
        }
      }
      const madeHere = made() - before;
      if (cpuBefore) {
        const used = process.cpuUsage(cpuBefore);
        processCpu += used.user + used.system;
        processDecisions += n;
      }
      if (statsBefore) count(statsBefore, await serverCounters!(), n, Number(wall) / 1000);
      for (let k = 0; k < n; k++) await after(lanes[k]!);
      return madeHere;
    };

    for (let done = 0; done < opts.warmup; done += concurrency) {
      await batch(Math.min(concurrency, opts.warmup - done));
    }

    const perRep: Array<{ rate: number; p50: number; p99: number; share: number }> = [];
    for (let rep = 0; rep < opts.reps; rep++) {
      gc();
      const timing = {
        decisions: new Samples(opts.steps),
        batches: new Samples(Math.ceil(opts.steps / concurrency)),
      };
      let assigned = 0;
      let decisionsAssigned = 0;
      for (let done = 0; done < opts.steps; done += concurrency) {
        const n = Math.min(concurrency, opts.steps - done);
        const made = await batch(n, timing);
        assigned += made;
        // Assignments are not told apart by lane: a batch of n counts at most n decisions as assigned.
        decisionsAssigned += Math.min(made, n);
      }
      perRep.push({
        rate: assigned / timing.batches.totalSeconds(),
        p50: timing.decisions.quantileMs(0.5),
        p99: timing.decisions.quantileMs(0.99),
        share: decisionsAssigned / opts.steps,
      });
    }
    const p99s = perRep.map((r) => r.p99);
    return {
      scenario,
      store: storeName,
      agents,
      waiting,
      concurrency,
      assignmentsPerSec: median(perRep.map((r) => r.rate)),
      p50Ms: median(perRep.map((r) => r.p50)),
      p99Ms: median(p99s),
      p99Range: [Math.min(...p99s), Math.max(...p99s)],
      assignedShare: median(perRep.map((r) => r.share)),
      setupSeconds,
      processCpuUsec: processCpu / processDecisions,
      ...(counted && countedDecisions > 0
        ? {
            redis: [...counted]
              .filter(([, c]) => c.calls > 0)
              .map(([command, c]) => ({
                command,
                calls: c.calls / countedDecisions,
                usec: c.usec / countedDecisions,
              }))
              .sort((a, b) => b.usec - a.usec),
            redisCpu: {
              userUsec: cpu.user / countedDecisions,
              sysUsec: cpu.sys / countedDecisions,
              busy: (cpu.user + cpu.sys) / cpu.wallUsec,
            },
          }
        : {}),
    };
  } finally {
    await close();
  }
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

function jsonLine(r: Result): string {
  return JSON.stringify({
    scenario: r.scenario,
    store: r.store,
    agents: r.agents,
    waiting: r.waiting,
    concurrency: r.concurrency,
    assignmentsPerSec: Math.round(r.assignmentsPerSec),
    p50Ms: round(r.p50Ms, 4),
    p99Ms: round(r.p99Ms, 4),
    processCpuUsec: round(r.processCpuUsec, 1),
    ...(r.redis
      ? { redisPerDecision: r.redis.map((c) => ({ ...c, calls: round(c.calls, 2), usec: round(c.usec, 1) })) }
      : {}),
    ...(r.redisCpu
      ? {
          redisCpu: {
            userUsec: round(r.redisCpu.userUsec, 1),
            sysUsec: round(r.redisCpu.sysUsec, 1),
            busy: round(r.redisCpu.busy, 3),
          },
        }
      : {}),
  });
}

/** `--redis-stats`: per row, Redis's time and calls per decision. */
function redisLines(results: Result[]): string[] {
  return results
    .filter((r) => r.redis)
    .map((r) => {
      // A script runs as EVALSHA (EVAL when Redis forgot it) or, as a Redis Function, FCALL.
      const isScript = (command: string) => command.startsWith('eval') || command === 'fcall';
      const scripts = r.redis!.filter((c) => isScript(c.command));
      const scriptUs = scripts.reduce((n, c) => n + c.usec, 0);
      const scriptCalls = scripts.reduce((n, c) => n + c.calls, 0);
      const inner = r.redis!.filter((c) => !isScript(c.command));
      const innerCalls = inner.reduce((n, c) => n + c.calls, 0);
      const innerUs = inner.reduce((n, c) => n + c.usec, 0);
      const each = inner
        .filter((c) => c.calls >= 0.05)
        .map((c) => `${c.command} ${c.calls.toFixed(1)}`)
        .join(', ');
      return (
        `${r.scenario}/${r.store} ${r.agents.toLocaleString('en-US')} agents, concurrency ${r.concurrency}: ` +
        `${scriptUs.toFixed(0)} µs in ${scriptCalls.toFixed(2)} scripts; other commands (inside the scripts or ` +
        `on their own) ${innerUs.toFixed(0)} µs in ${innerCalls.toFixed(1)} calls (${each})` +
        (r.redisCpu
          ? `; the server process used ${r.redisCpu.userUsec.toFixed(0)} µs user + ${r.redisCpu.sysUsec.toFixed(0)} µs ` +
            `system CPU, busy ${(r.redisCpu.busy * 100).toFixed(0)} % of the batches' time`
          : '') +
        `; this process used ${r.processCpuUsec.toFixed(0)} µs CPU`
      );
    });
}

function table(results: Result[]): string {
  const head = [
    'scenario',
    'store',
    'agents',
    'waiting',
    'conc',
    'assign/s',
    'p50 ms',
    'p99 ms',
    'p99 range ms',
    'assigned',
    'setup s',
  ];
  const rows = results.map((r) => [
    r.scenario,
    r.store,
    r.agents.toLocaleString('en-US'),
    r.waiting.toLocaleString('en-US'),
    String(r.concurrency),
    Math.round(r.assignmentsPerSec).toLocaleString('en-US'),
    r.p50Ms.toFixed(3),
    r.p99Ms.toFixed(3),
    `${r.p99Range[0].toFixed(3)}–${r.p99Range[1].toFixed(3)}`,
    `${Math.round(r.assignedShare * 100)}%`,
    r.setupSeconds.toFixed(1),
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const left = new Set([0, 1]);
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (left.has(i) ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ');
  return [fmt(head), width.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

/** Targets per store: the memory store in one process; the Redis store one network round trip away. */
const TARGETS: Record<string, { rate: number; p99Ms: number }> = {
  memory: { rate: 20_000, p99Ms: 1 },
  redis: { rate: 5_000, p99Ms: 5 },
};

/** The issues' targets, checked on whatever sizes ran. */
function targets(results: Result[]): string[] {
  const lines: string[] = [];
  const big = Math.max(...results.map((r) => r.agents));
  const small = Math.min(...results.map((r) => r.agents));
  for (const r of results.filter((x) => x.agents === big && !NOT_ASSIGNING.includes(x.scenario))) {
    const name = `${r.scenario}/${r.store} ${r.agents.toLocaleString('en-US')} agents × ${r.waiting.toLocaleString('en-US')} waiting, concurrency ${r.concurrency}`;
    const target = TARGETS[r.store] ?? TARGETS.memory!;
    const rateOk = r.assignmentsPerSec >= target.rate;
    const p99Ok = r.p99Ms <= target.p99Ms;
    let ratio = '';
    const base = results.find(
      (x) =>
        x.scenario === r.scenario &&
        x.store === r.store &&
        x.waiting === r.waiting &&
        x.concurrency === r.concurrency &&
        x.agents === small,
    );
    if (base && small !== big) {
      const k = r.p99Ms / base.p99Ms;
      ratio = `; p99 vs ${small} agents ${k.toFixed(2)}× ${k <= 2 ? 'ok' : 'MISSED'} (≤ 2×)`;
    }
    lines.push(
      `${name}: ${Math.round(r.assignmentsPerSec).toLocaleString('en-US')}/s ${rateOk ? 'ok' : 'MISSED'} (≥ ${target.rate.toLocaleString('en-US')}); ` +
        `p99 ${r.p99Ms.toFixed(3)} ms ${p99Ok ? 'ok' : 'MISSED'} (≤ ${target.p99Ms} ms)${ratio}`,
    );
  }
  return lines;
}

async function main(): Promise<void> {
  if (process.argv.includes('--twilio')) {
    // HTTP scenario: signed incoming-SMS webhooks at a fixed rate (bench/twilio-sms.ts).
    const { runTwilioSmsBench } = await import('./twilio-sms.js');
    return runTwilioSmsBench(process.argv.slice(2));
  }
  if (process.argv.includes('--multiprocess')) {
    // Scale-out scenario: 1, 2 and 3 server processes on one Redis (bench/multiprocess.ts).
    const { runMultiprocessBench } = await import('./multiprocess.js');
    return runMultiprocessBench(process.argv.slice(2));
  }
  let opts: Options;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const results: Result[] = [];
  const loadBefore = loadavg()[0]!;
  for (const storeName of opts.stores) {
    for (const scenario of opts.scenarios) {
      for (const waiting of opts.waiting) {
        for (const agents of opts.agents) {
          for (const concurrency of opts.concurrency) {
            log(
              `bench: ${scenario} ${storeName} ${agents} agents × ${waiting} waiting, concurrency ${concurrency} …`,
            );
            const r = await runOne(scenario, storeName, agents, waiting, concurrency, opts);
            results.push(r);
            if (opts.json) console.log(jsonLine(r));
          }
        }
      }
    }
  }
  if (!opts.json) {
    console.log(
      `\nRouting benchmark (${opts.quick ? 'quick' : 'full'}): ${opts.reps} reps × ${opts.steps} decisions after ${opts.warmup} warm-up, concurrency ${opts.concurrency.join(', ')}; medians across reps`,
    );
    console.log(
      `node ${process.version}, ${cpus().length} CPUs, load average ${loadBefore.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end`,
    );
    console.log(table(results));
    const redis = redisLines(results);
    if (redis.length > 0) {
      console.log('\nRedis per decision (INFO commandstats and cpu over the timed batches):');
      for (const line of redis) console.log(`  ${line}`);
    }
    console.log('\nTargets (largest agent count):');
    for (const line of targets(results)) console.log(`  ${line}`);
  }
}

await main();
