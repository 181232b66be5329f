// The team's live view (`GET /api/live`, shown by the /team page and Slack's
// `/switchboard team`): what waits, for how long and what it was told, and every
// agent's status and load, read from the store (the source of truth every
// process shares), so any process answers for the whole team. server/live.ts
// reads it at most once a second per process.

import { type OpeningHours, opensInMs } from '../routing/hours.js';
import { defaultPolicy, type RoutingPolicy, SERVICE_LEVEL_DEFAULTS } from '../routing/policy.js';
import { customerWaits, freePlaces, placeScore, waitingSince } from '../routing/store/rules.js';
import type { KeptWrapUp, Store } from '../routing/store/store.js';
import {
  AGENT_STATUSES,
  type Agent,
  type AgentStatus,
  CHANNELS,
  type Channel,
  type Conversation,
  type Customer,
  knownName,
  type PerChannel,
  type Skills,
} from '../shared/model.js';

/** How many of the longest waits the view lists (it counts them all). */
export const LIVE_SHOWN = 50;

/** The last 24 hours' figures the view carries (server/figures.ts counts them). */
export interface DayFigures {
  since: number;
  timeToHumanSeconds: { p50: number | null; p90: number | null; samples: number };
  quotes: { kept: number; broken: number; keptShare: number | null; pessimism: number | null };
  conversations: { queued: number; assigned: number; resolved: number; abandoned: number };
}

/**
 * One channel's last 24 hours for the team (server/figures.ts counts them). A conversation counts on the
 * channel the customer came in on.
 */
export interface ChannelDay {
  /**
   * The service level: of the waits for a person that ended (answered, or the customer hung up after
   * SHORT_ABANDON_SECONDS) or are still waiting past the target, the share a person had within
   * `targetSeconds` (null: none counted). Conversations an agent started or Switchboard opened (a follow-up),
   * and waits closed by a block, are no waits.
   */
  serviceLevel: {
    targetSeconds: number;
    share: number | null;
    /** Answered within the target. */
    inTime: number;
    /** What the share is of: answered + abandoned + waitingPast. */
    counted: number;
    answered: number;
    /** The customer left before a person had them, after SHORT_ABANDON_SECONDS. */
    abandoned: number;
    /** Left sooner than that (a misdial, a change of mind): not counted. */
    shortAbandons: number;
    /** Still waiting, and already past the target. */
    waitingPast: number;
  };
  /**
   * The conversations resolved in the day (by when they were resolved, whenever they started) and their
   * average handle time: from its assignment to a person to its resolution, hand-offs between agents included
   * (the handle time the store records for wait estimates). Time open, not time typing: it includes waiting
   * for the customer's answers.
   */
  handled: { resolved: number; averageHandleSeconds: number | null };
}

/**
 * What an agent resolved in the last 24 hours (as its owner at the end), and their average handle time: from
 * when each became theirs (assignment, or a hand-off to them) to its resolution.
 */
export interface AgentDay {
  resolved: number;
  averageHandleSeconds: number | null;
}

/** The last 24 hours as the team view adds them to the day's figures (server/figures.ts counts them). */
export interface TeamDay {
  /** The share of waits the team aims to answer within each channel's target (the policy's `serviceLevel`). */
  serviceLevelGoal: number;
  /** Callers who left within this many seconds are left out of the service level. */
  shortAbandonSeconds: number;
  channels: Record<Channel, ChannelDay>;
  /** By agent id; an agent who resolved nothing is not listed. */
  agents: Record<string, AgentDay>;
}

export interface LiveChannel {
  /** Whether this deployment takes it (Twilio for calls and texts, email settings for email; chat always). */
  on: boolean;
  /** Conversations waiting on it: for anyone in line, or for their owner who is away. */
  waiting: number;
  longestWaitSeconds: number | null;
  /** Available agents with room left on it, and that room (free slots). */
  agentsFree: number;
  freeSlots: number;
  /** Conversations held on it by any agent. */
  inProgress: number;
}

export interface LiveWaiting {
  conversationId: string;
  customerId: string;
  /** How the team knows the customer (`customerName`): their name, an address they wrote from, "Website visitor 7k2q". */
  customer: string;
  /** The channel it waits on (the customer's last). */
  channel: Channel;
  priority: number;
  skills: Skills;
  /** When this wait began (its place in line), ms. */
  since: number;
  waitedSeconds: number;
  /** It waits for its owner, who is away or offline (null: for anyone who can take it). */
  owner: { id: string; name: string; status: AgentStatus | null } | null;
  /** It rings an agent now (an offer not yet answered). */
  offeredTo: { id: string; name: string } | null;
  /**
   * The time the customer was told (their latest open quoted wait, or call back for a caller who asked for
   * one): when, which, and whether it has passed already.
   */
  quoted: { dueAt: number; kind: 'wait' | 'callback'; late: boolean } | null;
}

export interface LiveAgent {
  id: string;
  name: string;
  status: AgentStatus;
  statusReason: string | null;
  load: PerChannel;
  capacity: PerChannel;
  /** Conversations held (the sum of `load`). */
  holding: number;
  /**
   * All they can hold: their capacity on the channels this deployment takes (a channel switched off brings
   * nothing), and what they still hold on one switched off.
   */
  room: number;
  /** Nothing more can be given to them: full on every channel this deployment takes that they serve. */
  full: boolean;
  /** Places kept for hand-offs offered to them, per channel (routing gives them nothing there meanwhile). */
  kept: PerChannel;
  /**
   * Available and holding nothing: for how long (since the later of their last assignment, their return, and
   * the end of their last conversation: resolved by them, or passed on or taken from them).
   */
  idleSeconds: number | null;
  /** What they resolved in the last 24 hours, and their average handle time. */
  day: AgentDay;
  /**
   * In after-call work (a call of theirs ended; policy `wrapUpSeconds`): on which conversation, until when, and
   * how long is left; null when not. The one that ends first, should they have two.
   */
  wrapUp: { conversationId: string; until: number; leftSeconds: number } | null;
  /**
   * On a call they placed to a customer (**Call them**): the conversation, the customer as the team knows them, the
   * number called, since when it was placed (ms) and for how long (s); null when not.
   */
  callOut: { conversationId: string; customer: string; to: string; since: number; seconds: number } | null;
}

export interface LiveView {
  at: number;
  /** With opening hours set: whether the team works now, and in how long it opens (null: never). */
  hours: { open: boolean; opensInSeconds: number | null } | null;
  channels: Record<Channel, LiveChannel>;
  /** Every waiting conversation, counted. */
  waitingTotal: number;
  /**
   * The first LIVE_SHOWN of them in the order they will be served (`servingOrder`): those in line as an agent who
   * can serve them all takes them, then those waiting for their own owner, longest first.
   */
  waiting: LiveWaiting[];
  /** Available first, then away, then offline; by name within each. */
  agents: LiveAgent[];
  /** The last 24 hours (as `/api/stats` counts them), with each channel's service level and handle time. */
  day: DayFigures & Omit<TeamDay, 'agents'>;
}

/**
 * How a customer is named to the team, the same in the team view, the web console and Slack: their name, else a
 * number or address they wrote from. A chat visitor who gave neither is "Website visitor" and a caller who
 * withheld their number "Hidden number", each with the end of their customer id, so that several stay apart
 * (never their visitor or call id, which means nothing to anyone).
 */
export function customerName(
  customer: Pick<Customer, 'id' | 'name' | 'facts' | 'identities'> | null,
): string {
  if (!customer) return 'A customer';
  const known = knownName(customer);
  if (known) return known;
  const reach = customer.identities.find((i) => i.channel === 'phone' || i.channel === 'email');
  if (reach) return reach.address;
  const end = customer.id.slice(-4);
  if (customer.identities.some((i) => i.channel === 'call')) return `Hidden number ${end}`;
  return customer.identities.length > 0 ? `Website visitor ${end}` : 'A customer';
}

const LINE_DEFAULTS: LineRules = (({ agingStepSeconds, hardCapSeconds, liveChannels }) => ({
  agingStepSeconds,
  hardCapSeconds,
  liveChannels,
}))(defaultPolicy());

const seconds = (ms: number): number => Math.max(0, Math.round(ms / 1000));
const sum = (p: PerChannel): number => CHANNELS.reduce((n, c) => n + p[c], 0);

/**
 * The conversations that wait: those in line (queued, ringing or not), and those whose customer waits for an owner
 * who is not available (assigned, not covered): written to while the owner was away or offline, or left
 * unanswered when the owner went (they wrote after the last reply a person sent; a call under way on a live
 * channel is not waiting). An owner holds their conversations' capacity while away, so only agents holding some
 * are asked for theirs.
 */
async function waitingConversations(
  store: Store,
  agents: readonly Agent[],
  liveChannels: readonly Channel[],
): Promise<Conversation[]> {
  const away = agents.filter((a) => a.status !== 'available' && sum(a.load) > 0);
  const [queued, ...owned] = await Promise.all([
    store.listConversations({ status: 'queued', limit: 0 }),
    ...away.map((a) => store.listConversations({ ownerId: a.id, status: 'assigned', limit: 0 })),
  ]);
  const uncovered = owned.flat().filter((c) => c.cover === null);
  const unanswered = await Promise.all(
    uncovered.map(async (c) => {
      if (c.waitingForOwnerSince !== null) return true;
      if (liveChannels.includes(c.lastChannel)) return false;
      return customerWaits(c, await store.listMessages(c.id));
    }),
  );
  return [...queued!, ...uncovered.filter((_, i) => unanswered[i])];
}

/**
 * What orders the line (the routing policy's): the credit of a priority, and the wait past which age comes first;
 * and the live channels (on which an owner's conversation waits for them only when the customer reached out).
 */
export type LineRules = Pick<RoutingPolicy, 'agingStepSeconds' | 'hardCapSeconds' | 'liveChannels'>;

/**
 * The waiting conversations in the order they will be served, as the store's claim takes them (Router `#score`,
 * `Store.claim`): those in line past the hard cap first, longest first; then the rest by place in line (the time
 * their wait began less the credit of their priority), then by when it began. Skills aside: an agent takes only
 * what they are skilled for until it overflows. Those waiting for their own owner (away) are not in line: last,
 * longest first.
 */
export function servingOrder<T extends { c: Conversation; since: number }>(
  waiting: readonly T[],
  rules: LineRules,
  now: number,
): T[] {
  const key = ({ c, since }: T): [number, number, number] => {
    if (c.status !== 'queued') return [2, since, since];
    if (now - since >= rules.hardCapSeconds * 1000) return [0, since, since];
    return [1, placeScore(c, rules.agingStepSeconds), since];
  };
  return waiting
    .map((w) => ({ w, k: key(w) }))
    .sort((x, y) => x.k[0] - y.k[0] || x.k[1] - y.k[1] || x.k[2] - y.k[2] || (x.w.c.id < y.w.c.id ? -1 : 1))
    .map(({ w }) => w);
}

/** Callers who hang up this soon are left out of the service level (a misdial, a change of mind). */
export const SHORT_ABANDON_SECONDS = 5;

/** A day with nothing counted: no waits, no resolutions (`readLiveView` without a count of them). */
export function emptyTeamDay(targetSeconds: Record<Channel, number>, goal: number): TeamDay {
  const channels = Object.fromEntries(
    CHANNELS.map((ch) => [
      ch,
      {
        serviceLevel: {
          targetSeconds: targetSeconds[ch],
          share: null,
          inTime: 0,
          counted: 0,
          answered: 0,
          abandoned: 0,
          shortAbandons: 0,
          waitingPast: 0,
        },
        handled: { resolved: 0, averageHandleSeconds: null },
      },
    ]),
  ) as Record<Channel, ChannelDay>;
  return { serviceLevelGoal: goal, shortAbandonSeconds: SHORT_ABANDON_SECONDS, channels, agents: {} };
}

/**
 * Who is in after-call work at `now`, from the after-call work standing (`wrapUps`, one read): the first to end for
 * each agent of the team.
 */
function afterCallWork(
  standing: readonly KeptWrapUp[],
  team: ReadonlySet<string>,
  now: number,
): Map<string, LiveAgent['wrapUp'] & {}> {
  const out = new Map<string, LiveAgent['wrapUp'] & {}>();
  for (const { conversation: c, wrapUp: w } of standing) {
    if (c.ownerId === null || !team.has(c.ownerId) || w.dueAt <= now) continue;
    const known = out.get(c.ownerId);
    if (!known || w.dueAt < known.until)
      out.set(c.ownerId, {
        conversationId: c.id,
        until: w.dueAt,
        leftSeconds: Math.ceil((w.dueAt - now) / 1000),
      });
  }
  return out;
}

/** The agents' calls out to customers at `now` (one read), each with the customer as the team knows them. */
async function callsOutOf(
  store: Store,
  agentIds: readonly string[],
  now: number,
): Promise<Map<string, LiveAgent['callOut'] & {}>> {
  const calls = await store.listOutCalls(agentIds, now);
  const customers = await Promise.all(
    calls.map(async (call) => {
      const c = await store.getConversation(call.conversationId);
      return c ? store.getCustomer(c.customerId) : null;
    }),
  );
  return new Map(
    calls.map((call, i) => [
      call.agentId,
      {
        conversationId: call.conversationId,
        customer: customers[i] ? customerName(customers[i]) : call.to,
        to: call.to,
        since: call.since,
        seconds: seconds(now - call.since),
      },
    ]),
  );
}

/**
 * The live view at `now`; `dayFigures`: the last 24 hours'; `hours`: the policy's opening hours; `channelsOn`: the
 * channels this deployment takes; `teamDay`: the last 24 hours' service levels and handle times (without it,
 * nothing counted: see `emptyTeamDay`); `line`: the policy's rules of the line, for the serving order (the
 * default policy's without it); `wrapUps`: the after-call work standing now (Router `wrapUps`), without which nobody
 * is shown in it.
 */
export async function readLiveView(
  store: Store,
  dayFigures: () => Promise<DayFigures>,
  hours: OpeningHours | null,
  now: number,
  channelsOn: ReadonlySet<Channel> = new Set(CHANNELS),
  teamDay: () => Promise<TeamDay> = async () =>
    emptyTeamDay(SERVICE_LEVEL_DEFAULTS.targetSeconds, SERVICE_LEVEL_DEFAULTS.goal),
  line: LineRules = LINE_DEFAULTS,
  wrapUps?: () => Promise<KeptWrapUp[]>,
): Promise<LiveView> {
  const [agents, day, counted] = await Promise.all([store.listAgents(), dayFigures(), teamDay()]);
  const byId = new Map(agents.map((a) => [a.id, a]));
  const nameOf = (id: string) => byId.get(id)?.name ?? id;
  const waiting = servingOrder(
    (await waitingConversations(store, agents, line.liveChannels)).map((c) => ({
      c,
      since: waitingSince(c),
    })),
    line,
    now,
  );

  const channels = Object.fromEntries(
    CHANNELS.map((ch) => [
      ch,
      {
        on: channelsOn.has(ch),
        waiting: 0,
        longestWaitSeconds: null,
        agentsFree: 0,
        freeSlots: 0,
        inProgress: 0,
      },
    ]),
  ) as Record<Channel, LiveChannel>;
  for (const { c, since } of waiting) {
    const line = channels[c.lastChannel];
    line.waiting++;
    line.longestWaitSeconds = Math.max(line.longestWaitSeconds ?? 0, seconds(now - since));
  }
  for (const a of agents) {
    for (const ch of CHANNELS) {
      channels[ch].inProgress += a.load[ch];
      const room = freePlaces(a, ch);
      if (a.status === 'available' && room > 0) {
        channels[ch].agentsFree++;
        channels[ch].freeSlots += room;
      }
    }
  }

  const shown = waiting.slice(0, LIVE_SHOWN);
  const details = await Promise.all(
    shown.map(({ c }) => Promise.all([store.getCustomer(c.customerId), store.listPromises(c.id)])),
  );
  const rows: LiveWaiting[] = shown.map(({ c, since }, i) => {
    const [customer, promises] = details[i]!;
    // A caller waiting for a call back was told its time (and hears about that one only).
    const open = promises.filter((p) => p.state === 'open');
    const callbacks = open.filter((p) => p.kind === 'callback');
    const told = (callbacks.length > 0 ? callbacks : open.filter((p) => p.kind === 'wait')).sort(
      (x, y) => y.dueAt - x.dueAt,
    )[0];
    const owner =
      c.status === 'assigned' && c.ownerId
        ? { id: c.ownerId, name: nameOf(c.ownerId), status: byId.get(c.ownerId)?.status ?? null }
        : null;
    return {
      conversationId: c.id,
      customerId: c.customerId,
      customer: customerName(customer),
      channel: c.lastChannel,
      priority: c.priority,
      skills: c.skills,
      since,
      waitedSeconds: seconds(now - since),
      owner,
      offeredTo: c.offer ? { id: c.offer.agentId, name: nameOf(c.offer.agentId) } : null,
      quoted: told
        ? { dueAt: told.dueAt, kind: told.kind === 'callback' ? 'callback' : 'wait', late: now > told.dueAt }
        : null,
    };
  });

  const freeSince = await idleSinceOf(
    store,
    agents.filter((a) => a.leftAt === undefined && a.status === 'available' && sum(a.load) === 0),
  );
  const inTeam = new Set(agents.filter((a) => a.leftAt === undefined).map((a) => a.id));
  const [wrapping, callsOut] = await Promise.all([
    (async () => afterCallWork(wrapUps ? await wrapUps() : [], inTeam, now))(),
    callsOutOf(store, [...inTeam], now),
  ]);
  const rank = (s: AgentStatus) => AGENT_STATUSES.indexOf(s);
  // Who left the team is on no list (their name still shows where they worked).
  const team: LiveAgent[] = agents
    .filter((a) => a.leftAt === undefined)
    .sort((x, y) => rank(x.status) - rank(y.status) || x.name.localeCompare(y.name) || (x.id < y.id ? -1 : 1))
    .map((a) => {
      const holding = sum(a.load);
      const on = CHANNELS.filter((ch) => channelsOn.has(ch));
      const serves = on.filter((ch) => a.capacity[ch] > 0);
      return {
        id: a.id,
        name: a.name,
        status: a.status,
        statusReason: a.statusReason ?? null,
        load: a.load,
        capacity: a.capacity,
        holding,
        room: CHANNELS.reduce((n, ch) => n + (channelsOn.has(ch) ? a.capacity[ch] : a.load[ch]), 0),
        full: serves.length > 0 && serves.every((ch) => freePlaces(a, ch) <= 0),
        kept: a.reserved ?? { voice: 0, sms: 0, chat: 0, email: 0 },
        idleSeconds: freeSince.has(a.id) ? seconds(now - freeSince.get(a.id)!) : null,
        day: counted.agents[a.id] ?? { resolved: 0, averageHandleSeconds: null },
        wrapUp: wrapping.get(a.id) ?? null,
        callOut: callsOut.get(a.id) ?? null,
      };
    });

  const opensIn = hours ? opensInMs(hours, now) : 0;
  return {
    at: now,
    hours: hours
      ? { open: opensIn === 0, opensInSeconds: opensIn === null ? null : Math.ceil(opensIn / 1000) }
      : null,
    channels,
    waitingTotal: waiting.length,
    waiting: rows,
    agents: team,
    day: {
      since: day.since,
      timeToHumanSeconds: day.timeToHumanSeconds,
      quotes: day.quotes,
      conversations: day.conversations,
      serviceLevelGoal: counted.serviceLevelGoal,
      shortAbandonSeconds: counted.shortAbandonSeconds,
      channels: counted.channels,
    },
  };
}

/**
 * Since when each agent (available, holding nothing) has had nothing: the later of `idleSince` (their last
 * assignment or return) and the end of a conversation that was theirs after it (resolved by them as owner,
 * passed on by them or taken from them). Routing keeps `idleSince` for fairness (longest since an assignment
 * first); a lead reading "idle" means since they last had something to do. Only conversations touched since
 * `idleSince` are read (the store's touched index: usually the last one or two).
 */
async function idleSinceOf(store: Store, idle: readonly Agent[]): Promise<Map<string, number>> {
  const ended = await Promise.all(
    idle.map(async (a) => {
      let since = a.idleSince;
      for (const c of await store.conversationsTouchedBy(a.id, a.idleSince)) {
        if (c.ownerId === a.id && c.resolvedAt !== null) since = Math.max(since, c.resolvedAt);
        for (const m of c.ownership) if (m.from === a.id && m.to !== a.id) since = Math.max(since, m.at);
      }
      return [a.id, since] as const;
    }),
  );
  return new Map(ended);
}

/** One conversation an agent is on, as a lead sees it (`agentConversations`). */
export interface AgentConversation {
  id: string;
  customer: string;
  channel: Channel;
  /** Their part in it: they own it, cover for its owner, consult on it, are invited or offered it. */
  role: 'owner' | 'cover' | 'consultant' | 'invited' | 'offered';
  /** Since when they have it (its owner: since it became theirs, by a hand-off too; its cover: since the cover). */
  sinceSeconds: number;
  /** The customer wrote last and waits for an answer: for how long (null: answered, or nothing yet). */
  waitingForReplySeconds: number | null;
  /** A hand-off offered and not yet accepted: to whom (their name), else null. */
  handoffTo: string | null;
  /** They are on a call they placed to its customer (**Call them**): for how long, else null. */
  callOutSeconds: number | null;
}

/**
 * What an agent is on now, for a lead to see who is left waiting for an answer: each assigned conversation with
 * the customer's name, their part, and how long the customer has waited since they last wrote when nobody
 * answered since (longest first, then the others oldest first).
 */
export async function agentConversations(
  store: Store,
  agent: Agent,
  now: number,
): Promise<AgentConversation[]> {
  const out: AgentConversation[] = [];
  const [call] = await store.listOutCalls([agent.id], now);
  for (const c of await store.listAgentConversations(agent.id)) {
    const [customer, messages, offered] = await Promise.all([
      store.getCustomer(c.customerId),
      store.listMessages(c.id),
      c.handoff ? store.getAgent(c.handoff.to) : null,
    ]);
    const last = messages.filter((m) => m.direction !== 'internal').at(-1);
    const role: AgentConversation['role'] =
      c.ownerId === agent.id
        ? 'owner'
        : c.cover?.agentId === agent.id
          ? 'cover'
          : c.consultants.includes(agent.id)
            ? 'consultant'
            : c.invited.includes(agent.id)
              ? 'invited'
              : 'offered';
    out.push({
      id: c.id,
      customer: customerName(customer),
      channel: c.lastChannel,
      role,
      sinceSeconds: seconds(now - since(c, agent.id, role)),
      waitingForReplySeconds: last?.direction === 'in' ? seconds(now - last.at) : null,
      handoffTo: c.handoff ? (offered?.name ?? c.handoff.to) : null,
      callOutSeconds: call?.conversationId === c.id ? seconds(now - call.since) : null,
    });
  }
  return out.sort(
    (a, b) =>
      (b.waitingForReplySeconds ?? -1) - (a.waitingForReplySeconds ?? -1) || b.sinceSeconds - a.sinceSeconds,
  );
}

/**
 * When the agent came to have the conversation in their part: the last move of it to them, the cover's start, the
 * hand-off offered to them, when they joined as a consultant or were invited (a record stored before those times
 * were kept: since the conversation started).
 */
function since(c: Conversation, agentId: string, role: AgentConversation['role']): number {
  if (role === 'owner')
    return c.ownership.findLast((m) => m.to === agentId)?.at ?? c.assignedAt ?? c.createdAt;
  if (role === 'cover' && c.cover) return c.cover.since;
  if (role === 'offered' && c.handoff) return c.handoff.at;
  return c.joinedAt?.[agentId] ?? c.createdAt;
}
