// What the consoles and the figures pages cost as the centre grows: `npm run bench:consoles`.
//
// A world like `npm run bench`'s claim scenario (1,000 agents all busy, 2,000 waiting), then
// a day's traffic through the real router (`--resolves`, default 5,000: each a resolve,
// the owner's next conversation and a new contact), then, timed one at a time on the store
// given (`--store memory,redis`, default both):
//   on      an agent's conversation list (`listAgentConversations`): the web console's hello
//           and the Slack home tab
//   today   an agent's figures for the day (`agentFigures`): the home tab and `/switchboard stats`
//   who     finding the agent linked to a Slack user on a Slack event (`SlackThreads`'s
//           lookup: a map checked against the agent's record), against reading every agent
//           (`listAgents`), as every event did before
//   centre  one count of the day for `/rights` and `/api/stats` (`computeFigures`), which a
//           process makes at most once a minute
//   team    one read of the team's live view (`readLiveView`, without the day's count, which is
//           centre's): `GET /api/live`, the /team page and `/switchboard team`, at most once a
//           second per process
// Prints the median and the largest time of each, in ms, over `--samples` agents (default 25).
import { agentFigures } from '../channels/slack/figures.js';
import { readLiveView } from '../channels/team.js';
import { computeFigures } from '../server/figures.js';
import { CHANNELS } from '../shared/model.js';
import { median } from './stats.js';
import { storeFactory } from './stores.js';
import { Rng } from './workload.js';
import { World } from './world.js';

interface Options {
  stores: string[];
  resolves: number;
  samples: number;
}

function options(argv: string[]): Options {
  const out: Options = { stores: ['memory', 'redis'], resolves: 5_000, samples: 25 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--store') out.stores = value().split(',');
    else if (arg === '--resolves') out.resolves = Number(value());
    else if (arg === '--samples') out.samples = Number(value());
    else throw new Error(`unknown option ${arg} (--store memory,redis --resolves N --samples N)`);
  }
  if (!Number.isInteger(out.resolves) || out.resolves < 0) throw new Error('--resolves takes a whole number');
  if (!Number.isInteger(out.samples) || out.samples < 1) throw new Error('--samples takes a positive number');
  return out;
}

async function timed(n: number, run: (i: number) => Promise<unknown>): Promise<string> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await run(i);
    ms.push(performance.now() - t0);
  }
  return `median ${median(ms).toFixed(2)} ms, largest ${Math.max(...ms).toFixed(2)} ms`;
}

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  const every = [...CHANNELS];
  for (const name of opts.stores) {
    const { store, close } = await storeFactory(name)();
    try {
      const world = new World(store, new Rng(7), 480_000 / 2_000);
      const capacity = await world.addAgents(1_000);
      const mix = every.map((c) => [c, capacity[c]] as const);
      while (world.waiting.size < 2_000) {
        await world.arrive(mix);
        await world.answerOffers();
        await world.step();
      }
      for (let i = 0; i < opts.resolves; i++) {
        const freed = await world.resolveRandom(every);
        if (freed) await world.arrive(freed.channel);
        await world.answerOffers();
        await world.step();
      }
      const all = await store.listConversations({ limit: 0 });
      const agents = await store.listAgents();
      const pick = (i: number) => agents[(i * 37) % agents.length]!;
      const now = world.clock.now();
      console.log(
        `${name}: ${agents.length} agents, ${all.length} conversations (${all.filter((c) => c.status === 'assigned').length} assigned, ${all.filter((c) => c.status === 'queued').length} waiting)`,
      );
      console.log(`  on      ${await timed(opts.samples, (i) => store.listAgentConversations(pick(i).id))}`);
      console.log(
        `  today   ${await timed(opts.samples, (i) => agentFigures(world.router, pick(i).id, now))}`,
      );
      console.log(
        `  who     ${await timed(opts.samples, (i) => store.getAgent(pick(i).id))} (one agent read)`,
      );
      console.log(`          ${await timed(opts.samples, () => store.listAgents())} (every agent read)`);
      const day = computeFigures(store, now);
      console.log(`  centre  ${await timed(3, () => computeFigures(store, now))}`);
      console.log(`  team    ${await timed(opts.samples, () => readLiveView(store, () => day, null, now))}`);
    } finally {
      await close();
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
