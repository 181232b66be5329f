// Current figures for /api/stats and /rights, and the team view's service levels
// and handle times, computed from the store (the source of truth shared by every
// process). Counting them reads the whole day's conversations and what each agent
// resolved, so a process counts at most once per FIGURES_MAX_AGE_MS
// (`FiguresCache`); what waits and the agents by status are read for every request.

import {
  type AgentDay,
  type ChannelDay,
  emptyTeamDay,
  SHORT_ABANDON_SECONDS,
  type TeamDay,
} from '../channels/team.js';
import { type OpeningHours, openMsBetween } from '../routing/hours.js';
import type { ServiceLevel } from '../routing/policy.js';
import type { Store } from '../routing/store/store.js';
import {
  type Agent,
  type Channel,
  type Conversation,
  type Customer,
  type CustomerPromise,
  startedByAgent,
} from '../shared/model.js';

export interface Figures {
  waiting: number;
  waitingByChannel: Record<string, number>;
  agents: Record<string, number>;
  timeToHumanSeconds: { p50: number | null; p90: number | null; samples: number };
  ownershipChanges: { total: number; byReason: Record<string, number> };
  promises: { kept: number; broken: number; open: number; keptShare: number | null };
  /** Quoted waits: kept when a person answered by the quoted time; pessimism is the median quote ÷ actual wait. */
  quotes: { kept: number; broken: number; keptShare: number | null; pessimism: number | null };
  followUps: { kept: number; broken: number; open: number; keptShare: number | null };
  /** Promises agents made themselves ("I'll call you back by 3pm"). */
  agentPromises: { kept: number; broken: number; open: number };
  surveys: {
    sent: number;
    answered: number;
    ratings: Record<'1' | '2' | '3' | '4' | '5', number>;
    meanRating: number | null;
    /** Answers that named one thing to fix. */
    problems: number;
  };
  /** Conversations opened within the repeat window after the customer's previous one was resolved. */
  repeatContacts: number;
  /** Conversations that started with facts about the customer already on file, and how many facts. */
  factsReused: { conversations: number; facts: number };
  /** By status; `abandoned` leaves out the waits closed by a block (the customer did not give up). */
  conversations: { queued: number; assigned: number; resolved: number; abandoned: number };
  /**
   * With the policy's retention: the customers last active longer ago than it who are still kept (blocked,
   * something still to happen for them, or the hourly look not come yet), counted up to RETENTION_COUNT_CAP.
   */
  retention: { days: number; pastDue: number } | null;
  since: number;
}

/** The most customers past the retention that the figures count. */
export const RETENTION_COUNT_CAP = 10_000;

const DAY_MS = 24 * 3600 * 1000;

/** Figures over conversations created since `since` (default: the last 24 hours). */
export async function computeFigures(
  store: Store,
  now: number,
  since = now - DAY_MS,
  retentionDays?: number,
): Promise<Figures> {
  return (await count(store, now, since, retentionDays)).figures;
}

/** The figures, and the conversations of the day they were counted from (less those closed by a block). */
async function count(
  store: Store,
  now: number,
  since: number,
  retentionDays: number | undefined,
): Promise<{ figures: Figures; waited: Conversation[] }> {
  const stats = await store.stats();
  const recent = await store.listConversations({ createdSince: since, limit: 0 });
  // A conversation an agent started (writing first) kept nobody waiting: not a time to a human.
  const waits = recent
    .filter(
      (c): c is Conversation & { firstAssignedAt: number } =>
        c.firstAssignedAt !== null && !startedByAgent(c),
    )
    .map((c) => (c.firstAssignedAt - c.createdAt) / 1000)
    .sort((a, b) => a - b);
  const byReason: Record<string, number> = {};
  let changes = 0;
  const counts = { queued: 0, assigned: 0, resolved: 0, abandoned: 0 };
  // Closed because the team blocked the customer: nobody gave up waiting, as `switchboard_abandoned_total` does not
  // count it either. Marked so (closedBy); one closed before the mark was kept is known by its customer's block
  // still standing since that very moment.
  const gaveUp = recent.filter((c) => c.status === 'abandoned');
  const unmarked = gaveUp.filter((c) => c.closedBy === undefined);
  const customersOf = await inBatches(unmarked, (c) => store.getCustomer(c.customerId));
  const byBlock = new Set([
    ...gaveUp.filter((c) => c.closedBy === 'block').map((c) => c.id),
    ...unmarked.filter((c, i) => customersOf[i]?.blocked?.at === c.resolvedAt).map((c) => c.id),
  ]);
  for (const c of recent) {
    if (byBlock.has(c.id)) continue;
    counts[c.status]++;
    for (const move of c.ownership) {
      if (move.from !== null && move.from !== move.to) {
        changes++;
        byReason[move.reason] = (byReason[move.reason] ?? 0) + 1;
      }
    }
  }
  const promiseLists = await inBatches(recent, (c) => store.listPromises(c.id));
  let kept = 0;
  let broken = 0;
  let open = 0;
  for (const p of promiseLists.flat()) {
    if (p.state === 'kept') kept++;
    else if (p.state === 'broken') broken++;
    else if (p.state === 'open') open++;
  }
  const extra = await promiseFigures(store, recent, promiseLists);
  const figures: Figures = {
    waiting: stats.waiting,
    waitingByChannel: stats.waitingByChannel,
    agents: stats.agentsByStatus,
    timeToHumanSeconds: { p50: percentile(waits, 0.5), p90: percentile(waits, 0.9), samples: waits.length },
    ownershipChanges: { total: changes, byReason },
    promises: { kept, broken, open, keptShare: kept + broken > 0 ? kept / (kept + broken) : null },
    ...extra,
    conversations: counts,
    retention:
      retentionDays === undefined
        ? null
        : {
            days: retentionDays,
            pastDue: await pastRetention(store, now - retentionDays * DAY_MS),
          },
    since,
  };
  return { figures, waited: recent.filter((c) => !byBlock.has(c.id)) };
}

/** How one of the day's waits for a person ended, for the service level (`dayWaits`). */
export interface DayWait {
  /** The channel the customer came in on. */
  channel: Channel;
  /**
   * How long it waited: until a person had it, until the customer left, or (still waiting) until the count; with
   * opening hours, only the time the team was open (a mail written at night and answered at 9:05 waited 5 minutes).
   */
  seconds: number;
  outcome: 'answered' | 'abandoned' | 'waiting';
}

/**
 * The first wait for a person of each conversation of the day: a conversation an agent started (writing first)
 * or Switchboard opened (a follow-up touchpoint) kept nobody waiting, and is left out. With the team's opening
 * hours, a wait counts the time they were open only.
 */
export function dayWaits(
  conversations: readonly Conversation[],
  now: number,
  hours?: OpeningHours | undefined,
): DayWait[] {
  const out: DayWait[] = [];
  for (const c of conversations) {
    if (startedByAgent(c) || c.followUpOf !== undefined) continue;
    const channel = c.channels[0] ?? c.lastChannel;
    const wait = (outcome: DayWait['outcome'], until: number) => {
      const ms = hours ? openMsBetween(hours, c.createdAt, until) : until - c.createdAt;
      out.push({ channel, seconds: Math.max(0, ms) / 1000, outcome });
    };
    if (c.firstAssignedAt !== null) wait('answered', c.firstAssignedAt);
    else if (c.status === 'abandoned') wait('abandoned', c.resolvedAt ?? now);
    else if (c.status === 'queued') wait('waiting', now);
  }
  return out;
}

/** A conversation resolved in the day: who owned it then, the channel it came in on, and two handle times. */
export interface DayResolution {
  agentId: string;
  channel: Channel;
  /**
   * The store's handle time (`recordHandleTime`, what wait estimates learn from): from its assignment to a
   * person to its resolution, hand-offs between them included.
   */
  handleMs: number;
  /** The part of the owner who resolved it: from when it became theirs (assignment, hand-off) to its resolution. */
  ownerMs: number;
}

/**
 * What the agents did since `since` (`conversationsTouchedBy`): the conversations resolved then, whenever they
 * started (a mail answered over two days counts on the day it is resolved), each for the agent who resolved it
 * as owner; and every conversation one of them took, passed on or resolved in that time (`touched`, each once).
 */
async function touchedSince(
  store: Store,
  agents: readonly Agent[],
  since: number,
): Promise<{ resolutions: DayResolution[]; touched: Conversation[] }> {
  // Who left the team before the day resolved nothing in it.
  const owners = agents.filter((a) => a.leftAt === undefined || a.leftAt >= since);
  const lists = await inBatches(owners, (a) => store.conversationsTouchedBy(a.id, since));
  const touched = new Map<string, Conversation>();
  for (const list of lists) for (const c of list ?? []) if (!touched.has(c.id)) touched.set(c.id, c);
  const out: DayResolution[] = [];
  const seen = new Set<string>();
  owners.forEach((agent, i) => {
    for (const c of lists[i] ?? []) {
      if (c.status !== 'resolved' || c.ownerId !== agent.id || seen.has(c.id)) continue;
      if (c.resolvedAt === null || c.resolvedAt < since || c.assignedAt === null) continue;
      seen.add(c.id);
      const theirs = c.ownership.findLast((m) => m.to === agent.id)?.at ?? c.assignedAt;
      out.push({
        agentId: agent.id,
        channel: c.channels[0] ?? c.lastChannel,
        handleMs: Math.max(0, c.resolvedAt - c.assignedAt),
        ownerMs: Math.max(0, c.resolvedAt - Math.max(theirs, c.assignedAt)),
      });
    }
  });
  return { resolutions: out, touched: [...touched.values()] };
}

/** Each channel's service level and handle time, and each agent's resolutions, from the day's waits and resolutions. */
export function teamDay(
  waits: readonly DayWait[],
  resolutions: readonly DayResolution[],
  serviceLevel: ServiceLevel,
): TeamDay {
  const day = emptyTeamDay(serviceLevel.targetSeconds, serviceLevel.goal);
  for (const w of waits) {
    const sl = day.channels[w.channel].serviceLevel;
    if (w.outcome === 'answered') {
      sl.answered++;
      if (w.seconds <= sl.targetSeconds) sl.inTime++;
    } else if (w.outcome === 'abandoned') {
      if (w.seconds < SHORT_ABANDON_SECONDS) sl.shortAbandons++;
      else sl.abandoned++;
    } else if (w.seconds > sl.targetSeconds) sl.waitingPast++;
  }
  const handled = (rs: readonly DayResolution[], ms: (r: DayResolution) => number): AgentDay => {
    const total = rs.reduce((sum, r) => sum + ms(r), 0);
    const averageHandleSeconds = rs.length > 0 ? Math.round(total / rs.length / 1000) : null;
    return { resolved: rs.length, averageHandleSeconds };
  };
  for (const [channel, c] of Object.entries(day.channels) as Array<[Channel, ChannelDay]>) {
    const sl = c.serviceLevel;
    sl.counted = sl.answered + sl.abandoned + sl.waitingPast;
    sl.share = sl.counted > 0 ? sl.inTime / sl.counted : null;
    c.handled = handled(
      resolutions.filter((r) => r.channel === channel),
      (r) => r.handleMs,
    );
  }
  const byAgent = new Map<string, DayResolution[]>();
  for (const r of resolutions) {
    const theirs = byAgent.get(r.agentId);
    if (theirs) theirs.push(r);
    else byAgent.set(r.agentId, [r]);
  }
  for (const [agentId, rs] of byAgent) day.agents[agentId] = handled(rs, (r) => r.ownerMs);
  return day;
}

/** How many customers were last active before `cutoff` (up to RETENTION_COUNT_CAP). */
async function pastRetention(store: Store, cutoff: number): Promise<number> {
  let count = 0;
  let after: { lastActiveAt: number; id: string } | undefined;
  while (count < RETENTION_COUNT_CAP) {
    const page = await store.inactiveCustomers(cutoff, 1000, after);
    count += page.length;
    if (page.length < 1000) break;
    after = page.at(-1);
  }
  return Math.min(count, RETENTION_COUNT_CAP);
}

/** Quotes, follow-ups, agents' own promises, surveys, repeat contacts and facts reused. */
async function promiseFigures(
  store: Store,
  recent: readonly Conversation[],
  promiseLists: readonly CustomerPromise[][],
): Promise<
  Pick<Figures, 'quotes' | 'followUps' | 'agentPromises' | 'surveys' | 'repeatContacts' | 'factsReused'>
> {
  const tally = () => ({ kept: 0, broken: 0, open: 0 });
  const quotes = tally();
  const followUps = tally();
  const agentPromises = tally();
  const ratios: number[] = [];
  recent.forEach((c, i) => {
    for (const p of promiseLists[i] ?? []) {
      const t =
        p.kind === 'wait'
          ? quotes
          : p.kind === 'follow-up'
            ? followUps
            : p.kind === 'agent'
              ? agentPromises
              : null;
      if (!t || p.state === 'void') continue;
      t[p.state]++;
      // Quote ÷ actual wait, for waits a person answered (not the customers who left).
      if (p.kind === 'wait' && p.state !== 'open' && c.status !== 'abandoned' && p.settledAt !== null) {
        const waited = p.settledAt - p.createdAt;
        if (waited > 0) ratios.push((p.dueAt - p.createdAt) / waited);
      }
    }
  });
  const share = (t: { kept: number; broken: number }) =>
    t.kept + t.broken > 0 ? t.kept / (t.kept + t.broken) : null;
  const ratings = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 };
  let sent = 0;
  let answered = 0;
  let problems = 0;
  let sum = 0;
  let repeatContacts = 0;
  for (const c of recent) {
    if (c.repeatOf !== undefined) repeatContacts++;
    if (!c.survey) continue;
    sent++;
    if (c.survey.rating === undefined) continue;
    answered++;
    sum += c.survey.rating;
    ratings[String(c.survey.rating) as keyof typeof ratings]++;
    if (c.survey.problem) problems++;
  }
  // A returning customer (an earlier conversation) whose facts were on file before this one started.
  // When each customer of the day was first seen: their oldest conversation, of the day or before it.
  const firstSeen = new Map<string, number>();
  for (const c of recent)
    firstSeen.set(c.customerId, Math.min(firstSeen.get(c.customerId) ?? c.createdAt, c.createdAt));
  const customerIds = [...firstSeen.keys()];
  const histories = await inBatches(customerIds, (id) =>
    store.listConversations({ customerId: id, limit: 0 }),
  );
  customerIds.forEach((id, i) => {
    const oldest = histories[i]?.[0];
    if (oldest && oldest.createdAt < firstSeen.get(id)!) firstSeen.set(id, oldest.createdAt);
  });
  const returning = recent.filter(
    (c) => !startedByAgent(c) && (firstSeen.get(c.customerId) ?? c.createdAt) < c.createdAt,
  );
  const ids = [...new Set(returning.map((c) => c.customerId))];
  const found = await inBatches(ids, (id) => store.getCustomer(id));
  const customers = new Map<string, Customer | null>(ids.map((id, i) => [id, found[i] ?? null]));
  const factsReused = { conversations: 0, facts: 0 };
  for (const c of returning) {
    const known = Object.values(customers.get(c.customerId)?.facts ?? {}).filter((f) => f.at < c.createdAt);
    if (known.length > 0) {
      factsReused.conversations++;
      factsReused.facts += known.length;
    }
  }
  ratios.sort((a, b) => a - b);
  const median = percentile(ratios, 0.5);
  return {
    quotes: { kept: quotes.kept, broken: quotes.broken, keptShare: share(quotes), pessimism: median },
    followUps: { ...followUps, keptShare: share(followUps) },
    agentPromises,
    surveys: {
      sent,
      answered,
      ratings,
      meanRating: answered > 0 ? Math.round((sum / answered) * 10) / 10 : null,
      problems,
    },
    repeatContacts,
    factsReused,
  };
}

/** `read` for every item, BATCH at a time (the store pipelines them), in the items' order. */
async function inBatches<T, R>(items: readonly T[], read: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += BATCH)
    out.push(...(await Promise.all(items.slice(i, i + BATCH).map(read))));
  return out;
}

const BATCH = 256;

/** How long a count of the day's figures is reused. */
export const FIGURES_MAX_AGE_MS = 60_000;

/**
 * A value computed at most once per `maxAgeMs` (by `now`, the router's clock) in this process: requests in
 * between, and at the same time, share the last one. A failed computation is not kept: the next request
 * computes again.
 */
export class Reused<T> {
  readonly #compute: (now: number) => Promise<T>;
  readonly #now: () => number;
  readonly #maxAgeMs: number;
  #last: { at: number; value: Promise<T> } | null = null;

  constructor(compute: (now: number) => Promise<T>, now: () => number, maxAgeMs: number) {
    this.#compute = compute;
    this.#now = now;
    this.#maxAgeMs = maxAgeMs;
  }

  get(): Promise<T> {
    const now = this.#now();
    if (!this.#last || now - this.#last.at >= this.#maxAgeMs || now < this.#last.at) {
      const last = { at: now, value: this.#compute(now) };
      this.#last = last;
      last.value.catch(() => {
        if (this.#last === last) this.#last = null;
      });
    }
    return this.#last.value;
  }
}

/** One count of the day: the figures, and for the team view its waits and resolutions. */
interface DayCount {
  figures: Figures;
  waits: DayWait[];
  resolutions: DayResolution[];
}

/**
 * The figures, counted at most once per `maxAgeMs` in this process (`Reused`), so a page anyone may open
 * (`/rights`) cannot make the process read the day's conversations over and over. What waits and the agents
 * by status are read afresh for each request. The same count gives the team view its service levels and
 * handle times (`team`).
 */
export class FiguresCache {
  readonly #store: Store;
  readonly #counted: Reused<DayCount>;

  /** `hours`: the team's opening hours; a wait counts only the time within them (`dayWaits`). */
  constructor(
    store: Store,
    now: () => number,
    maxAgeMs = FIGURES_MAX_AGE_MS,
    retentionDays?: number,
    hours?: OpeningHours,
  ) {
    this.#store = store;
    this.#counted = new Reused(
      async (at) => {
        const since = at - DAY_MS;
        const [{ figures, waited }, { resolutions, touched }, queued] = await Promise.all([
          count(store, at, since, retentionDays),
          store.listAgents().then((agents) => touchedSince(store, agents, since)),
          store.listConversations({ status: 'queued', limit: 0 }),
        ]);
        // The day's waits are those of its conversations, and, of older ones, a wait that ended in the day (a
        // person had it) or still goes on: the longest waits count the most, however long ago they began.
        const older = [
          ...touched.filter((c) => c.createdAt < since && (c.firstAssignedAt ?? -1) >= since),
          ...queued.filter((c) => c.createdAt < since && c.firstAssignedAt === null),
        ];
        return { figures, waits: dayWaits([...waited, ...older], at, hours), resolutions };
      },
      now,
      maxAgeMs,
    );
  }

  async get(): Promise<Figures> {
    const [counted, stats] = await Promise.all([this.#counted.get(), this.#store.stats()]);
    return {
      ...counted.figures,
      waiting: stats.waiting,
      waitingByChannel: stats.waitingByChannel,
      agents: stats.agentsByStatus,
    };
  }

  /** The last 24 hours' service levels against `serviceLevel`, handle times and each agent's resolutions. */
  async team(serviceLevel: ServiceLevel): Promise<TeamDay> {
    const { waits, resolutions } = await this.#counted.get();
    return teamDay(waits, resolutions, serviceLevel);
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return Math.round(sorted[rank]! * 10) / 10;
}
