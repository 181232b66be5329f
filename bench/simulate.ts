// Discrete-event simulation through the real Router and MemoryStore, driven by a
// manual clock: Poisson arrivals, exponential handle times, optional exponential
// patience. It prints the simulated figures beside the Erlang C / Erlang A model
// and how honest the quoted waits were.
//
//   npm run simulate                 full tables (Erlang C for 11–15 agents, Erlang A for 14)
//   npm run simulate -- --quick      short run
//   npm run simulate -- --json       one JSON object per line
import { defaultPolicy, parsePolicy } from '../routing/policy.js';
import { Router } from '../routing/router.js';
import { MemoryStore } from '../routing/store/memory.js';
import { ManualClock } from '../shared/clock.js';
import { sequentialIds } from '../shared/ids.js';
import { erlangAFigures, erlangCFigures, type QueueFigures } from './erlang.js';

export interface SimulationInput {
  /** Calls per hour. */
  callsPerHour: number;
  /** Mean handle time, seconds. */
  handleSeconds: number;
  /** Mean patience, seconds; omit for infinite patience (Erlang C). */
  patienceSeconds?: number;
  agents: number;
  /** Service level target, seconds. */
  targetSeconds: number;
  /** Arrivals measured after the warm-up. */
  arrivals: number;
  /** Arrivals simulated and discarded first. */
  warmup: number;
  seed: number;
  /** Quote percentile (the policy's quotePercentile). */
  quotePercentile?: number;
}

export interface SimulationResult extends QueueFigures {
  arrivals: number;
  answered: number;
  abandoned: number;
  /** Quotes given to customers who had to wait. */
  quotes: number;
  /** Share of quotes kept (actual wait ≤ quote). Abandoned customers' quotes are not counted. */
  quotesKept: number | null;
  /** Median quote ÷ median actual wait of the quoted customers who were answered. */
  pessimism: number | null;
  /** Half-width of the 95 % confidence interval of the ASA (batch means). */
  asaHalfWidth: number;
}

/** mulberry32: small, fast, seeded. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type SimEvent =
  | { at: number; seq: number; kind: 'arrival' }
  | { at: number; seq: number; kind: 'done'; agentId: string; conversationId: string }
  | { at: number; seq: number; kind: 'patience'; conversationId: string };

type SimEventInput = SimEvent extends infer E ? (E extends SimEvent ? Omit<E, 'seq'> : never) : never;

/** A binary min-heap on (at, seq). */
class EventQueue {
  readonly #heap: SimEvent[] = [];
  #seq = 0;
  push(event: SimEventInput): void {
    const e = { ...event, seq: this.#seq++ } as SimEvent;
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p]!, e)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }
  pop(): SimEvent | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || !last) return top;
    // Sift `last` down from the root.
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      let best = last;
      if (l < h.length && less(h[l]!, best)) {
        m = l;
        best = h[l]!;
      }
      if (r < h.length && less(h[r]!, best)) m = r;
      if (m === i) break;
      h[i] = h[m]!;
      i = m;
    }
    h[i] = last;
    return top;
  }
}
const less = (a: SimEvent, b: SimEvent) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

export async function simulate(input: SimulationInput): Promise<SimulationResult> {
  const rand = prng(input.seed);
  const exp = (mean: number) => -Math.log(1 - rand()) * mean;
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 0, 0, 0));
  const start = clock.now();
  const store = new MemoryStore();
  const policy = parsePolicy({
    ...defaultPolicy(),
    // Calls here are answered by the agent the router picks (no ringing), as in the model.
    offerTimeoutSeconds: {},
    defaultHandleSeconds: { voice: input.handleSeconds, sms: 600, chat: 480, email: 3600 },
    quotePercentile: input.quotePercentile ?? 0.9,
    // Nobody is overtaken in this model: one priority, arrival order.
    hardCapSeconds: 30 * 24 * 3600,
    overflowAfterSeconds: 30 * 24 * 3600,
  });
  const router = new Router({ store, clock, policy, ids: sequentialIds() });
  for (let i = 0; i < input.agents; i++) {
    await router.createAgent({
      name: `Agent ${i + 1}`,
      capacity: { voice: 1, sms: 0, chat: 0, email: 0 },
      status: 'available',
    });
  }

  const queue = new EventQueue();
  const ms = (seconds: number) => Math.round(seconds * 1000);
  const meanGapSeconds = 3600 / input.callsPerHour;
  const total = input.warmup + input.arrivals;

  interface Call {
    index: number;
    arrivedAt: number;
    quoteSeconds: number | null;
    waited: boolean;
  }
  const calls = new Map<string, Call>();
  const waitsAnswered: number[] = [];
  const waitsByIndex: Array<{ index: number; wait: number }> = [];
  let measured = 0;
  let waited = 0;
  let answered = 0;
  let answeredInTarget = 0;
  let abandoned = 0;
  const quoted: Array<{ quote: number; wait: number | null }> = [];

  router.events.subscribe((event) => {
    if (event.type !== 'conversation.assigned') return;
    const call = calls.get(event.conversation.id);
    if (!call) return;
    const wait = (event.at - call.arrivedAt) / 1000;
    queue.push({
      at: event.at + ms(exp(input.handleSeconds)),
      kind: 'done',
      agentId: event.agentId,
      conversationId: event.conversation.id,
    });
    if (call.index < input.warmup) return;
    answered++;
    waitsAnswered.push(wait);
    waitsByIndex.push({ index: call.index, wait });
    if (wait <= input.targetSeconds) answeredInTarget++;
    if (call.quoteSeconds !== null) quoted.push({ quote: call.quoteSeconds, wait });
  });

  let arrived = 0;
  queue.push({ at: start + ms(exp(meanGapSeconds)), kind: 'arrival' });
  for (let event = queue.pop(); event; event = queue.pop()) {
    clock.set(event.at);
    switch (event.kind) {
      case 'arrival': {
        const index = arrived++;
        if (arrived < total) queue.push({ at: event.at + ms(exp(meanGapSeconds)), kind: 'arrival' });
        const phone = `+1415${String(1_000_000 + index).slice(-7)}`;
        // Registered before the contact: the assignment event fires inside it.
        const pending: Call = { index, arrivedAt: event.at, quoteSeconds: null, waited: false };
        const conversationId = `pending-${index}`;
        calls.set(conversationId, pending);
        const result = await router.contact({ channel: 'voice', from: phone, externalId: `CA${index}` });
        calls.delete(conversationId);
        calls.set(result.conversation.id, pending);
        if (index >= input.warmup) measured++;
        if (result.outcome.type === 'assigned') {
          // Answered in the same request; the assignment listener could not see it yet.
          queue.push({
            at: event.at + ms(exp(input.handleSeconds)),
            kind: 'done',
            agentId: result.outcome.agentId,
            conversationId: result.conversation.id,
          });
          if (index >= input.warmup) {
            answered++;
            waitsAnswered.push(0);
            waitsByIndex.push({ index, wait: 0 });
            answeredInTarget++;
          }
        } else if (result.outcome.type === 'queued') {
          pending.waited = true;
          pending.quoteSeconds = result.outcome.etaSeconds;
          if (index >= input.warmup) waited++;
          if (input.patienceSeconds !== undefined) {
            queue.push({
              at: event.at + ms(exp(input.patienceSeconds)),
              kind: 'patience',
              conversationId: result.conversation.id,
            });
          }
        } else {
          throw new Error(`unexpected outcome ${result.outcome.type} for a new call`);
        }
        break;
      }
      case 'done':
        calls.delete(event.conversationId);
        await router.resolve(event.agentId, event.conversationId);
        break;
      case 'patience': {
        const call = calls.get(event.conversationId);
        const conv = await store.getConversation(event.conversationId);
        if (!call || conv?.status !== 'queued') break;
        await router.abandon(event.conversationId);
        calls.delete(event.conversationId);
        if (call.index >= input.warmup) {
          abandoned++;
          if (call.quoteSeconds !== null) quoted.push({ quote: call.quoteSeconds, wait: null });
        }
        break;
      }
    }
    await router.tick();
  }

  const asa = waitsAnswered.reduce((a, b) => a + b, 0) / Math.max(1, answered);
  // 95 % confidence half-width of the ASA from 20 batch means, in arrival order.
  waitsByIndex.sort((a, b) => a.index - b.index);
  const batches = 20;
  const size = Math.floor(waitsByIndex.length / batches);
  const means: number[] = [];
  for (let b = 0; b < batches && size > 0; b++) {
    let s = 0;
    for (let i = b * size; i < (b + 1) * size; i++) s += waitsByIndex[i]!.wait;
    means.push(s / size);
  }
  const mean = means.reduce((a, b) => a + b, 0) / Math.max(1, means.length);
  const variance = means.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, means.length - 1);
  const asaHalfWidth = 2.093 * Math.sqrt(variance / Math.max(1, means.length));

  const settled = quoted.filter((q): q is { quote: number; wait: number } => q.wait !== null);
  const withQuote = settled.filter((q) => q.quote !== null);
  const kept = withQuote.filter((q) => q.wait <= q.quote).length;
  const median = (xs: number[]) => {
    if (xs.length === 0) return null;
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)]!;
  };
  const mq = median(withQuote.map((q) => q.quote));
  const mw = median(withQuote.map((q) => q.wait));
  return {
    arrivals: measured,
    answered,
    abandoned,
    pWait: waited / measured,
    serviceLevel: answeredInTarget / measured,
    asa,
    pAbandon: abandoned / measured,
    quotes: quoted.length,
    quotesKept: withQuote.length > 0 ? kept / withQuote.length : null,
    pessimism: mq !== null && mw !== null && mw > 0 ? mq / mw : null,
    asaHalfWidth,
  };
}

export interface Row {
  model: 'erlang-c' | 'erlang-a';
  agents: number;
  simulated: SimulationResult;
  expected: QueueFigures;
}

export function modelFor(input: SimulationInput): QueueFigures {
  const rate = input.callsPerHour / 3600;
  return input.patienceSeconds === undefined
    ? erlangCFigures(rate, input.handleSeconds, input.agents, input.targetSeconds)
    : erlangAFigures(rate, input.handleSeconds, input.patienceSeconds, input.agents, input.targetSeconds);
}

/** Within the issue's tolerances: ±1 point on P(wait), service level and P(abandon); ±5 % on ASA. */
export function withinTolerance(sim: QueueFigures, model: QueueFigures): boolean {
  return (
    Math.abs(sim.pWait - model.pWait) <= 0.01 &&
    Math.abs(sim.serviceLevel - model.serviceLevel) <= 0.01 &&
    Math.abs(sim.pAbandon - model.pAbandon) <= 0.01 &&
    Math.abs(sim.asa - model.asa) <= 0.05 * model.asa
  );
}

async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  const quick = args.has('--quick');
  const json = args.has('--json');
  const seedArg = process.argv.find((a) => a.startsWith('--seed='));
  const seed = seedArg ? Number(seedArg.slice(7)) : 20261123;
  const base = { callsPerHour: 200, handleSeconds: 180, targetSeconds: 20 };
  const arrivals = (agents: number) =>
    quick ? 20_000 : agents <= 11 ? 1_000_000 : agents === 12 ? 500_000 : 300_000;
  const cases: Array<SimulationInput & { model: Row['model'] }> = [];
  for (const agents of [11, 12, 13, 14, 15]) {
    cases.push({
      ...base,
      model: 'erlang-c',
      agents,
      arrivals: arrivals(agents),
      warmup: 2_000,
      seed: seed + agents,
    });
  }
  cases.push({
    ...base,
    model: 'erlang-a',
    patienceSeconds: 300,
    agents: 14,
    arrivals: quick ? 20_000 : 300_000,
    warmup: 2_000,
    seed: seed + 100,
  });
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  if (!json) {
    console.log(
      `Switchboard simulation through the real router: ${base.callsPerHour} calls/h, ${base.handleSeconds} s mean handle time, ${base.targetSeconds} s target, seed ${seed}`,
    );
    console.log(
      '| model | agents | arrivals | P(wait) sim / model | service level sim / model | ASA sim ± 95 % / model | P(abandon) sim / model | quotes kept | pessimism | within tolerance |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  }
  for (const c of cases) {
    const started = process.hrtime.bigint();
    const sim = await simulate(c);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const model = modelFor(c);
    const ok = withinTolerance(sim, model);
    if (json) {
      console.log(
        JSON.stringify({
          model: c.model,
          agents: c.agents,
          patienceSeconds: c.patienceSeconds ?? null,
          seed: c.seed,
          simulated: sim,
          expected: model,
          withinTolerance: ok,
          seconds,
        }),
      );
    } else {
      console.log(
        `| ${c.model === 'erlang-c' ? 'Erlang C' : 'Erlang A (patience 300 s)'} | ${c.agents} | ${sim.arrivals.toLocaleString('en-US')} | ${pct(sim.pWait)} / ${pct(model.pWait)} | ${pct(sim.serviceLevel)} / ${pct(model.serviceLevel)} | ${sim.asa.toFixed(1)} s ± ${sim.asaHalfWidth.toFixed(1)} / ${model.asa.toFixed(1)} s | ${c.patienceSeconds ? `${pct(sim.pAbandon)} / ${pct(model.pAbandon)}` : '—'} | ${sim.quotesKept === null ? '—' : pct(sim.quotesKept)} | ${sim.pessimism === null ? '—' : `${sim.pessimism.toFixed(2)}×`} | ${ok ? 'yes' : 'NO'} |`,
      );
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
