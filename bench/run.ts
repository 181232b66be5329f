// Routing benchmark: routing decisions through the real Router and a Store, with
// a manual clock and sequential ids. `npm run bench [-- --quick] [-- --json]`.
//
// Scenarios (each at every agents × waiting size):
//   claim   All agents busy, `waiting` conversations in line (mixed channels in proportion
//           to the capacity on them, mixed skills and priorities). One decision: an agent
//           resolves a conversation and the router gives them the next waiting one they can
//           serve (a ringing call is answered). A new contact on the same channel then
//           arrives (untimed), so every channel's line keeps its length.
//   arrive  `waiting` emails in line (every agent's email capacity in use); chats, SMS
//           and calls arrive while about a third of the live capacity is free. One
//           decision: a contact comes in through `router.contact` and is assigned to a
//           free agent in the same request (or queued when nobody fits). A random live
//           conversation is then resolved (untimed) so capacity keeps turning over.
//   return  As `claim`, but an agent steps away, finishes a conversation and a new contact
//           takes its place in line (untimed). One decision: the agent is back
//           (`setAgentStatus(available)`): what waited for them as owner is theirs again and
//           the router gives them the next waiting conversation.
//
// Every decision is timed with process.hrtime.bigint(). Assignments per second is
// assignments made inside the timed decisions over the time spent in them. After a
// warm-up, `reps` repetitions of `steps` decisions run; each figure is the median
// across repetitions.
import { cpus, loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Channel } from '../shared/model.js';
import { median, Samples } from './stats.js';
import { storeFactory } from './stores.js';
import { type ChannelMix, EMAIL_ONLY, LIVE_CHANNELS, Rng } from './workload.js';
import { World } from './world.js';

type ScenarioName = 'claim' | 'arrive' | 'return';
const SCENARIOS: ScenarioName[] = ['claim', 'arrive', 'return'];
const LIVE: Channel[] = ['voice', 'sms', 'chat'];
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
}

interface Result {
  scenario: ScenarioName;
  store: string;
  agents: number;
  waiting: number;
  assignmentsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Range of p99 across repetitions. */
  p99Range: [number, number];
  /** Share of decisions that ended in an assignment. */
  assignedShare: number;
  setupSeconds: number;
}

const USAGE = `usage: npm run bench -- [--quick] [--json] [--store memory[,redis]] [--scenario claim,arrive,return]
                          [--agents 100,1000,10000] [--waiting 10000,100000] [--reps N] [--steps N] [--warmup N]`;

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

async function runOne(
  scenario: ScenarioName,
  storeName: string,
  agents: number,
  waiting: number,
  opts: Options,
): Promise<Result> {
  const { store, close } = await storeFactory(storeName)();
  try {
    const started = performance.now();
    const rng = new Rng(0x5b0a4d ^ (agents * 31 + waiting));
    const world = new World(store, rng, LINE_SPAN_MS / waiting);
    const capacity = await world.addAgents(agents);

    // Fill: contacts arrive until every agent is busy and the line is `waiting` long.
    if (scenario !== 'arrive') {
      // Channels in proportion to the capacity on them, so that every channel fills up and has a line.
      const mix: ChannelMix = EVERY.map((c) => [c, capacity[c]] as const);
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

    // One step: prepare (untimed), decide (timed), after (untimed).
    let freed: { channel: Channel; agentId: string } | null = null;
    const prepare = async (): Promise<void> => {
      if (scenario !== 'return') return;
      // An agent steps away, finishes a conversation, and a new contact takes its place in line.
      freed = await world.resolveRandom(EVERY, { away: true });
      if (freed) await world.arrive(freed.channel);
      await world.answerOffers();
    };
    const decide = async (): Promise<void> => {
      if (scenario === 'claim') freed = await world.resolveRandom(EVERY);
      else if (scenario === 'arrive') await world.arrive(LIVE_CHANNELS);
      else if (freed) await world.router.setAgentStatus(freed.agentId, 'available');
      await world.answerOffers();
    };
    const after = async (): Promise<void> => {
      if (scenario === 'claim') {
        // The next contact on the channel that freed up keeps every channel's line the same length.
        if (freed) await world.arrive(freed.channel);
        await world.answerOffers();
      } else if (scenario === 'arrive') {
        await world.resolveRandom(LIVE);
        await world.answerOffers();
      }
      await world.step();
    };

    for (let i = 0; i < opts.warmup; i++) {
      await prepare();
      await decide();
      await after();
    }

    const perRep: Array<{ rate: number; p50: number; p99: number; share: number }> = [];
    for (let rep = 0; rep < opts.reps; rep++) {
      gc();
      const samples = new Samples(opts.steps);
      let assigned = 0;
      let decisionsAssigned = 0;
      for (let i = 0; i < opts.steps; i++) {
        await prepare();
        const before = world.assignments;
        const t0 = process.hrtime.bigint();
        await decide();
        const t1 = process.hrtime.bigint();
        samples.add(t1 - t0);
        const made = world.assignments - before;
        assigned += made;
        if (made > 0) decisionsAssigned++;
        await after();
      }
      perRep.push({
        rate: assigned / samples.totalSeconds(),
        p50: samples.quantileMs(0.5),
        p99: samples.quantileMs(0.99),
        share: decisionsAssigned / opts.steps,
      });
    }
    const p99s = perRep.map((r) => r.p99);
    return {
      scenario,
      store: storeName,
      agents,
      waiting,
      assignmentsPerSec: median(perRep.map((r) => r.rate)),
      p50Ms: median(perRep.map((r) => r.p50)),
      p99Ms: median(p99s),
      p99Range: [Math.min(...p99s), Math.max(...p99s)],
      assignedShare: median(perRep.map((r) => r.share)),
      setupSeconds,
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
    assignmentsPerSec: Math.round(r.assignmentsPerSec),
    p50Ms: round(r.p50Ms, 4),
    p99Ms: round(r.p99Ms, 4),
  });
}

function table(results: Result[]): string {
  const head = [
    'scenario',
    'store',
    'agents',
    'waiting',
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
  for (const r of results.filter((x) => x.agents === big)) {
    const name = `${r.scenario}/${r.store} ${r.agents.toLocaleString('en-US')} agents × ${r.waiting.toLocaleString('en-US')} waiting`;
    const target = TARGETS[r.store] ?? TARGETS.memory!;
    const rateOk = r.assignmentsPerSec >= target.rate;
    const p99Ok = r.p99Ms <= target.p99Ms;
    let ratio = '';
    const base = results.find(
      (x) =>
        x.scenario === r.scenario && x.store === r.store && x.waiting === r.waiting && x.agents === small,
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
          log(`bench: ${scenario} ${storeName} ${agents} agents × ${waiting} waiting …`);
          const r = await runOne(scenario, storeName, agents, waiting, opts);
          results.push(r);
          if (opts.json) console.log(jsonLine(r));
        }
      }
    }
  }
  if (!opts.json) {
    console.log(
      `\nRouting benchmark (${opts.quick ? 'quick' : 'full'}): ${opts.reps} reps × ${opts.steps} decisions after ${opts.warmup} warm-up; medians across reps`,
    );
    console.log(
      `node ${process.version}, ${cpus().length} CPUs, load average ${loadBefore.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end`,
    );
    console.log(table(results));
    console.log('\nTargets (largest agent count):');
    for (const line of targets(results)) console.log(`  ${line}`);
  }
}

await main();
