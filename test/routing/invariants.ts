// Routing invariants, checked through the Store interface only, and a seeded
// random driver that runs operation sequences through the real Router. Both
// take a Store, so every Store implementation can be held to them.

import { isDeepStrictEqual } from 'node:util';
import { parsePolicy, type RoutingPolicyInput } from '../../routing/policy.js';
import { type ContactResult, Router } from '../../routing/router.js';
import { freePlaces, waitingSince } from '../../routing/store/rules.js';
import type { QueueSnapshot, Store } from '../../routing/store/store.js';
import { ManualClock } from '../../shared/clock.js';
import { SwitchboardError } from '../../shared/errors.js';
import type { DomainEvent } from '../../shared/events.js';
import { sequentialIds } from '../../shared/ids.js';
import {
  type Agent,
  type AgentStatus,
  CHANNELS,
  type Channel,
  type Conversation,
  meetsSkills,
  type Skills,
} from '../../shared/model.js';

export interface InvariantContext {
  /** The time the check runs at (the router's clock). */
  now: number;
  /** After this long waiting, any available agent with capacity may take a conversation. */
  overflowAfterMs: number;
}

const ALL = 1_000_000;

/**
 * Every routing invariant that must hold between operations. Returns one line
 * per violation; an empty list means the store is consistent.
 *
 * - one owner per conversation, and its ownership history is one unbroken chain ending at it;
 * - every agent's load per channel equals the owners' slots, covers and offers that hold it, and
 *   never exceeds capacity;
 * - no available agent with free capacity on a channel idles while a conversation they may serve
 *   (skills met, or waited past overflow; not declined by them; not their own) waits on it;
 * - each conversation's fields agree with its status;
 * - each agent's own lists (on, touched) agree with the conversations' records.
 */
export async function checkInvariants(store: Store, ctx: InvariantContext): Promise<string[]> {
  const problems: string[] = [];
  const [agents, conversations, stats] = await Promise.all([
    store.listAgents(),
    store.listConversations({ limit: ALL }),
    store.stats(),
  ]);
  const agentById = new Map(agents.map((a) => [a.id, a]));
  const holders = new Map<string, string[]>();
  /** Per agent and channel: the conversations whose hand-off keeps a place on them. */
  const keeps = new Map<string, string[]>();
  const keep = (agentId: string, channel: Channel, id: string) => {
    const k = `${agentId}|${channel}`;
    keeps.set(k, [...(keeps.get(k) ?? []), id]);
  };
  const hold = (agentId: string, channel: Channel, what: string) => {
    const key = `${agentId}|${channel}`;
    const list = holders.get(key) ?? [];
    list.push(what);
    holders.set(key, list);
    if (!agentById.has(agentId)) problems.push(`${what}: agent ${agentId} does not exist`);
  };

  const snapshots = new Map<string, QueueSnapshot | null>();
  for (const c of conversations) snapshots.set(c.id, await store.queueSnapshot(c.id));

  for (const c of conversations) {
    const snap = snapshots.get(c.id) ?? null;
    for (const p of conversationProblems(c, snap)) problems.push(`${c.id} (${c.status}): ${p}`);
    if (c.status === 'assigned' && c.ownerId !== null && c.slotChannel !== null)
      hold(c.ownerId, c.slotChannel, `${c.id} owned`);
    if (c.cover) hold(c.cover.agentId, c.cover.channel, `${c.id} covered`);
    if (c.offer) hold(c.offer.agentId, c.offer.channel, `${c.id} offered`);
    if (c.handoff?.channel) keep(c.handoff.to, c.handoff.channel, c.id);
  }

  for (const a of agents) {
    for (const p of agentProblems(a)) problems.push(`agent ${a.id}: ${p}`);
    for (const channel of CHANNELS) {
      const held = holders.get(`${a.id}|${channel}`) ?? [];
      if (a.load[channel] !== held.length) {
        problems.push(
          `agent ${a.id}: ${channel} load is ${a.load[channel]} but ${held.length} hold it [${held.join(', ')}]`,
        );
      }
      const kept = keeps.get(`${a.id}|${channel}`) ?? [];
      if ((a.reserved?.[channel] ?? 0) !== kept.length) {
        problems.push(
          `agent ${a.id}: ${a.reserved?.[channel] ?? 0} ${channel} places kept but ${kept.length} hand-offs keep one [${kept.join(', ')}]`,
        );
      }
      if (a.load[channel] > a.capacity[channel]) {
        problems.push(
          `agent ${a.id}: ${channel} load ${a.load[channel]} exceeds capacity ${a.capacity[channel]}`,
        );
      }
    }
  }

  // Nobody free idles while someone they may serve waits.
  for (const c of conversations) {
    if (!isWaiting(c, snapshots.get(c.id) ?? null)) continue;
    const channel = c.lastChannel;
    const overflowed = ctx.now - waitingSince(c) >= ctx.overflowAfterMs;
    for (const a of agents) {
      // A place kept for a hand-off offered to them is not free.
      if (a.status !== 'available' || freePlaces(a, channel) <= 0) continue;
      if (c.declinedBy.includes(a.id)) continue;
      if (c.status === 'assigned' && c.ownerId === a.id) continue;
      if (!overflowed && !meetsSkills(a.skills, c.skills)) continue;
      problems.push(
        `agent ${a.id} is available with free ${channel} capacity (${a.load[channel]}/${a.capacity[channel]}, ` +
          `skills ${fmtSkills(a.skills)}) while ${c.id} (${c.status}, skills ${fmtSkills(c.skills)}, ` +
          `waiting ${Math.round((ctx.now - waitingSince(c)) / 1000)}s) waits on ${channel}`,
      );
    }
  }

  // Each agent's own lists (kept as indexes in Redis) say what every conversation's record says.
  const since = ctx.now - 7 * 24 * 3600 * 1000;
  for (const a of agents) {
    const on = conversations
      .filter(
        (c) =>
          c.status === 'assigned' &&
          (c.ownerId === a.id ||
            c.cover?.agentId === a.id ||
            c.consultants.includes(a.id) ||
            c.invited.includes(a.id) ||
            c.handoff?.to === a.id),
      )
      .map((c) => c.id);
    const listed = (await store.listAgentConversations(a.id)).map((c) => c.id);
    if (listed.join() !== on.join())
      problems.push(`agent ${a.id} is listed on [${listed}] but is on [${on}]`);
    const did = conversations
      .filter(
        (c) =>
          c.ownership.some((m) => (m.to === a.id || m.from === a.id) && m.at >= since) ||
          (c.status === 'resolved' && c.ownerId === a.id && (c.resolvedAt ?? -1) >= since),
      )
      .map((c) => c.id);
    const touched = (await store.conversationsTouchedBy(a.id, since)).map((c) => c.id);
    if (touched.join() !== did.join()) problems.push(`agent ${a.id} touched [${touched}] but did [${did}]`);
  }

  const inLine = [...snapshots.values()].filter((s) => s !== null).length;
  if (stats.waiting !== inLine) problems.push(`stats.waiting is ${stats.waiting} but ${inLine} are in line`);
  for (const status of ['available', 'away', 'offline'] as const) {
    const n = agents.filter((a) => a.status === status).length;
    if (stats.agentsByStatus[status] !== n)
      problems.push(`stats.agentsByStatus.${status} is ${stats.agentsByStatus[status]} but ${n} agents are`);
  }
  return problems;
}

/** In line and askable: not ringing anyone, and (when owned) still waiting for a colleague to cover. */
function isWaiting(c: Conversation, snap: QueueSnapshot | null): boolean {
  if (snap === null || c.offer !== null) return false;
  return c.status === 'queued' || (c.status === 'assigned' && c.cover === null);
}

function conversationProblems(c: Conversation, snap: QueueSnapshot | null): string[] {
  const out: string[] = [];
  const expect = (ok: boolean, what: string) => {
    if (!ok) out.push(what);
  };
  // Ownership: one unbroken chain, and the owner is its last link.
  c.ownership.forEach((move, i) => {
    const prev = c.ownership[i - 1];
    expect(
      move.from === (prev ? prev.to : null),
      `ownership[${i}].from is ${move.from}, expected ${prev?.to ?? null}`,
    );
    if (prev) expect(move.at >= prev.at, `ownership[${i}] is earlier than the move before it`);
  });
  expect(
    c.ownerId === (c.ownership.at(-1)?.to ?? null),
    `ownerId ${c.ownerId} is not the last ownership move`,
  );
  expect(new Set(c.declinedBy).size === c.declinedBy.length, `declinedBy has duplicates`);
  expect(c.channels.includes(c.lastChannel), `lastChannel ${c.lastChannel} is not among channels`);
  expect(new Set(c.channels).size === c.channels.length, `channels has duplicates`);
  if (snap !== null) expect(snap.position >= 1, `queue position ${snap.position}`);

  switch (c.status) {
    case 'queued':
      expect(c.slotChannel === null, `holds an owner slot on ${c.slotChannel}`);
      expect(c.cover === null, `has a cover`);
      expect(c.handoff === null, `has a hand-off`);
      expect(c.assignedAt === null, `has assignedAt`);
      expect(c.resolvedAt === null, `has resolvedAt`);
      expect(c.waitingForOwnerSince === null, `waits for an owner`);
      expect(c.queuedAt !== null, `has no queuedAt`);
      if (c.offer === null) expect(snap !== null, `waits but is not in line`);
      else
        expect(!c.declinedBy.includes(c.offer.agentId), `is offered to ${c.offer.agentId} who declined it`);
      break;
    case 'assigned':
      expect(c.ownerId !== null, `has no owner`);
      expect(c.slotChannel !== null, `holds no owner slot`);
      expect(c.assignedAt !== null && c.firstAssignedAt !== null, `has no assignedAt/firstAssignedAt`);
      expect(c.queuedAt === null, `still has queuedAt`);
      expect(c.resolvedAt === null, `has resolvedAt`);
      expect(c.offer === null, `is offered to ${c.offer?.agentId}`);
      expect(c.declinedBy.length === 0, `has declinedBy ${c.declinedBy.join(',')}`);
      expect(c.cover?.agentId !== c.ownerId, `the owner covers for themselves`);
      if (c.handoff) {
        expect(c.handoff.from === c.ownerId, `hand-off from ${c.handoff.from}, not the owner ${c.ownerId}`);
        expect(c.handoff.to !== c.ownerId, `hand-off to the owner`);
      }
      expect(!c.consultants.includes(c.ownerId ?? ''), `the owner consults on their own conversation`);
      expect(!c.invited.includes(c.ownerId ?? ''), `the owner is invited to consult`);
      expect(!c.consultants.some((id) => c.invited.includes(id)), `an agent is both consultant and invited`);
      expect(new Set(c.consultants).size === c.consultants.length, `consultants has duplicates`);
      if (snap !== null)
        expect(c.cover === null && c.waitingForOwnerSince !== null, `in line without waiting for cover`);
      break;
    case 'resolved':
    case 'abandoned':
      expect(c.resolvedAt !== null, `has no resolvedAt`);
      expect(c.slotChannel === null, `still holds an owner slot on ${c.slotChannel}`);
      expect(c.cover === null, `still has a cover`);
      expect(c.offer === null, `still offered to ${c.offer?.agentId}`);
      expect(c.handoff === null, `still has a hand-off`);
      expect(c.waitingForOwnerSince === null, `still waits for an owner`);
      expect(snap === null, `still in line`);
      if (c.status === 'resolved') {
        expect(c.ownerId !== null, `resolved without an owner`);
        expect(c.consultants.length === 0 && c.invited.length === 0, `still has consultants`);
      } else expect(c.assignedAt === null, `abandoned but has assignedAt`);
      break;
  }
  return out;
}

function agentProblems(a: Agent): string[] {
  const out: string[] = [];
  if ((a.status === 'available') !== (a.availableSince !== undefined))
    out.push(`status ${a.status} with availableSince ${a.availableSince}`);
  for (const channel of CHANNELS) if (a.load[channel] < 0) out.push(`negative ${channel} load`);
  return out;
}

function fmtSkills(skills: Skills): string {
  const parts = Object.entries(skills).map(([k, v]) => `${k}:${v}`);
  return parts.length ? `{${parts.join(',')}}` : '{}';
}

// ================================================================ the random driver

/** A small, fast, seedable PRNG (mulberry32): the same seed replays the same sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The routing policy the random sequences run under: short waits so timers fire within a sequence. */
export const RANDOM_POLICY: RoutingPolicyInput = {
  stickyWaitSeconds: { voice: 0, sms: 300, chat: 60, email: 900 },
  preferLastOwnerForSeconds: 3600,
  overflowAfterSeconds: 90,
  agingStepSeconds: 30,
  hardCapSeconds: 300,
  offerTimeoutSeconds: { voice: 20 },
  liveChannels: ['voice'],
};

export interface SequenceResult {
  seed: number;
  /** One line per operation, in order: enough to read what happened and replay it. */
  log: string[];
  /** Invariant violations after the failing operation, or the unexpected error; empty when it passed. */
  problems: string[];
}

const SKILLS = ['billing', 'tech', 'spanish'] as const;
const STATUSES: AgentStatus[] = ['available', 'available', 'available', 'away', 'offline'];
const ADVANCES = [1, 3, 10, 19, 21, 45, 60, 95, 130, 310, 650, 1000];

/**
 * Runs `ops` random operations through a Router over `store` (which must be empty),
 * checking every invariant after each one. Stops at the first violation.
 */
export async function runRandomSequence(seed: number, store: Store, ops = 60): Promise<SequenceResult> {
  const rnd = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const chance = (p: number) => rnd() < p;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;

  const clock = new ManualClock();
  const policy = parsePolicy(RANDOM_POLICY);
  const router = new Router({ store, clock, policy, ids: sequentialIds() });
  const ctx = () => ({ now: clock.now(), overflowAfterMs: policy.overflowAfterSeconds * 1000 });

  // Every ownership move is announced once: count `conversation.assigned` events per conversation.
  const assignedEvents = new Map<string, string[]>();
  router.events.subscribe((e: DomainEvent) => {
    if (e.type !== 'conversation.assigned') return;
    const list = assignedEvents.get(e.conversation.id) ?? [];
    list.push(e.agentId);
    assignedEvents.set(e.conversation.id, list);
  });

  const log: string[] = [];
  const sentExternal: Array<{ channel: Channel; from: string; externalId: string }> = [];
  let external = 0;

  const randomSkills = (max: number): Skills => {
    const skills: Skills = {};
    for (const s of SKILLS) if (chance(0.4)) skills[s] = int(0, max);
    return skills;
  };
  // A few people who come back often, so owned conversations see new contacts (on other channels too).
  const person = (): { channel: Channel; from: string } => {
    const n = int(1, 9);
    if (n <= 5) return { channel: chance(0.6) ? 'voice' : 'sms', from: `+1415555${String(1000 + n)}` };
    if (n <= 7) return { channel: 'chat', from: `visitor-${n}` };
    return { channel: 'email', from: `person${n}@example.com` };
  };

  // What a contact returns is its conversation and customer as stored once it is handled (read back, or as the
  // route left them).
  const current = async (r: ContactResult): Promise<void> => {
    const [conversation, customer] = await Promise.all([
      store.getConversation(r.conversation.id),
      store.getCustomer(r.customer.id),
    ]);
    if (!isDeepStrictEqual(r.conversation, conversation))
      throw new Error(
        `contact returned ${JSON.stringify(r.conversation)}, stored ${JSON.stringify(conversation)}`,
      );
    if (!isDeepStrictEqual(r.customer, customer))
      throw new Error(`contact returned ${JSON.stringify(r.customer)}, stored ${JSON.stringify(customer)}`);
  };

  type OpRun = () => Promise<string | null>;
  const agentsNow = () => store.listAgents();
  const convs = (filter: (c: Conversation) => boolean) =>
    store.listConversations({ limit: ALL }).then((list) => list.filter(filter));

  const operations: Array<[weight: number, name: string, run: OpRun]> = [
    [
      4,
      'agent',
      async () => {
        if ((await agentsNow()).length >= 8) return null;
        const input = {
          name: `agent ${log.length}`,
          skills: randomSkills(5),
          capacity: { voice: chance(0.8) ? int(1, 2) : 0, sms: int(0, 3), chat: int(0, 3), email: int(0, 3) },
          status: pick(STATUSES),
        };
        const a = await router.createAgent(input);
        return `createAgent ${a.id} ${input.status} skills=${fmtSkills(input.skills)} cap=${JSON.stringify(input.capacity)}`;
      },
    ],
    [
      12,
      'contact',
      async () => {
        const repeat = sentExternal.length > 0 && chance(0.05);
        const who = repeat ? pick(sentExternal) : { ...person(), externalId: `ext-${++external}` };
        const skills = chance(0.5) ? {} : randomSkills(3);
        const priority = chance(0.7) ? 0 : int(1, 9);
        const r = await router.contact({ ...who, text: 'hello', skills, priority });
        await current(r);
        if (!repeat) sentExternal.push(who);
        return `contact ${who.channel} ${who.from} ${who.externalId} skills=${fmtSkills(skills)} prio=${priority} → ${r.conversation.id} ${JSON.stringify(r.outcome)}`;
      },
    ],
    [
      8,
      'returns',
      async () => {
        // The customer of an owned conversation writes or calls again, maybe on another channel.
        const list = await convs((c) => c.status === 'assigned');
        if (list.length === 0) return null;
        const present = new Set((await agentsNow()).filter((a) => a.status === 'available').map((a) => a.id));
        const ownerGone = list.filter((c) => !present.has(c.ownerId!));
        const c = ownerGone.length > 0 && chance(0.7) ? pick(ownerGone) : pick(list);
        const customer = await store.getCustomer(c.customerId);
        const identity = customer?.identities[0];
        if (!identity) return null;
        const channel: Channel =
          identity.channel === 'phone'
            ? chance(0.7)
              ? 'voice'
              : 'sms'
            : identity.channel === 'chat'
              ? 'chat'
              : 'email';
        const who = { channel, from: identity.address, externalId: `ext-${++external}` };
        const r = await router.contact({ ...who, text: 'me again' });
        await current(r);
        sentExternal.push(who);
        return `contact (returns) ${channel} ${who.from} ${who.externalId} → ${r.conversation.id} ${JSON.stringify(r.outcome)}`;
      },
    ],
    [
      6,
      'status',
      async () => {
        const agents = await agentsNow();
        if (agents.length === 0) return null;
        // Agents with a part in open conversations (owning, covering, ringing) going away and coming
        // back is where covers, sticky waits, requeues and missed offers happen.
        const roles = new Set<string>();
        for (const c of await convs((x) => x.status === 'queued' || x.status === 'assigned')) {
          if (c.status === 'assigned' && c.ownerId) roles.add(c.ownerId);
          if (c.cover) roles.add(c.cover.agentId);
          if (c.offer) roles.add(c.offer.agentId);
        }
        const busy = agents.filter((x) => roles.has(x.id));
        const a = busy.length > 0 && chance(0.6) ? pick(busy) : pick(agents);
        const leaves = a.status === 'available' && roles.has(a.id) && chance(0.6);
        const status: AgentStatus = leaves ? (chance(0.5) ? 'away' : 'offline') : pick(STATUSES);
        await router.setAgentStatus(a.id, status, chance(0.3) ? 'break' : undefined);
        return `setAgentStatus ${a.id} ${a.status} → ${status}`;
      },
    ],
    [
      2,
      'skills',
      async () => {
        const agents = await agentsNow();
        if (agents.length === 0) return null;
        const a = pick(agents);
        const skills = randomSkills(5);
        // Capacity only grows: lowering it under the current load is an admin's call, not routing's.
        const grow = pick(CHANNELS);
        const capacity = { ...a.capacity, [grow]: a.capacity[grow] + int(0, 1) };
        await router.updateAgent(a.id, { skills, capacity });
        return `updateAgent ${a.id} skills=${fmtSkills(skills)} cap=${JSON.stringify(capacity)}`;
      },
    ],
    [
      6,
      'resolve',
      async () => {
        const list = await convs((c) => c.status === 'assigned');
        if (list.length === 0) return null;
        const c = pick(list);
        const followUp = chance(0.2) ? clock.now() + 3600_000 : null;
        await router.resolve(c.ownerId!, c.id, followUp);
        return `resolve ${c.id} by ${c.ownerId}${followUp ? ' with follow-up' : ''}`;
      },
    ],
    [
      3,
      'handoff',
      async () => {
        const list = await convs((c) => c.status === 'assigned' && c.handoff === null);
        const agents = await agentsNow();
        if (list.length === 0 || agents.length < 2) return null;
        const c = pick(list);
        // Often to the colleague already covering or consulting on it.
        const helpers = [c.cover?.agentId, ...c.consultants].filter((id) => id !== undefined);
        const to =
          helpers.length > 0 && chance(0.6)
            ? (agents.find((a) => a.id === pick(helpers)) ?? pick(agents))
            : pick(agents.filter((a) => a.id !== c.ownerId));
        await router.handoff(c.ownerId!, c.id, to.id, 'over to you');
        return `handoff ${c.id} ${c.ownerId} → ${to.id} (${to.status})`;
      },
    ],
    [
      3,
      'handoff-answer',
      async () => {
        const list = await convs((c) => c.handoff !== null);
        if (list.length === 0) return null;
        const c = pick(list);
        const to = c.handoff!.to;
        if (chance(0.7)) {
          await router.acceptHandoff(to, c.id);
          return `acceptHandoff ${c.id} by ${to}`;
        }
        await router.declineHandoff(to, c.id);
        return `declineHandoff ${c.id} by ${to}`;
      },
    ],
    [
      3,
      'consult',
      async () => {
        const list = await convs((c) => c.status === 'assigned');
        const agents = await agentsNow();
        if (list.length === 0 || agents.length < 2) return null;
        const c = pick(list);
        const roll = rnd();
        if (roll < 0.4) {
          const who = pick(agents.filter((a) => a.id !== c.ownerId));
          await router.consult(c.ownerId!, c.id, who.id);
          return `consult ${c.id} invites ${who.id}`;
        }
        if (roll < 0.7 && c.invited.length > 0) {
          const who = pick(c.invited);
          await router.joinConsult(who, c.id);
          return `joinConsult ${c.id} ${who}`;
        }
        const present = [...c.invited, ...c.consultants];
        if (present.length === 0) return null;
        const who = pick(present);
        await router.leaveConsult(who, c.id);
        return `leaveConsult ${c.id} ${who}`;
      },
    ],
    [
      6,
      'offer-answer',
      async () => {
        const list = await convs((c) => c.offer !== null);
        if (list.length === 0) return null;
        const c = pick(list);
        const agentId = c.offer!.agentId;
        const roll = rnd();
        if (roll < 0.6) {
          await router.acceptOffer(agentId, c.id);
          return `acceptOffer ${c.id} by ${agentId}`;
        }
        const reason = roll < 0.8 ? 'busy' : undefined;
        await router.declineOffer(agentId, c.id, reason);
        return `declineOffer ${c.id} by ${agentId}${reason ? ` (${reason})` : ''}`;
      },
    ],
    [
      3,
      'abandon',
      async () => {
        const list = await convs((c) => c.status === 'queued');
        if (list.length === 0) return null;
        const c = pick(list);
        await router.abandon(c.id);
        return `abandon ${c.id}${c.offer ? ` (ringing ${c.offer.agentId})` : ''}`;
      },
    ],
    [
      2,
      'hang-up',
      async () => {
        const list = await convs(
          (c) => c.status === 'assigned' && (c.cover !== null || c.waitingForOwnerSince !== null),
        );
        if (list.length === 0) return null;
        const c = pick(list);
        await router.endCover(c.id);
        return `endCover ${c.id}${c.cover ? ` (covered by ${c.cover.agentId})` : ''}`;
      },
    ],
    [
      2,
      'wrong-agent',
      async () => {
        // Operations by the wrong agent are refused and change nothing.
        const list = await convs((c) => c.status === 'assigned');
        const agents = await agentsNow();
        if (list.length === 0 || agents.length < 2) return null;
        const c = pick(list);
        const other = pick(agents.filter((a) => a.id !== c.ownerId));
        const what = pick(['resolve', 'handoff', 'acceptOffer', 'acceptHandoff'] as const);
        if (what === 'acceptHandoff' && c.handoff?.to === other.id) return null;
        const attempt = {
          resolve: () => router.resolve(other.id, c.id),
          handoff: () => router.handoff(other.id, c.id, c.ownerId!, 'x'),
          acceptOffer: () => router.acceptOffer(other.id, c.id),
          acceptHandoff: () => router.acceptHandoff(other.id, c.id),
        }[what];
        try {
          await attempt();
        } catch (err) {
          if (err instanceof SwitchboardError) return `${what} ${c.id} by ${other.id} refused (${err.code})`;
          throw err;
        }
        throw new Error(`${what} on ${c.id} by ${other.id} (not the owner) was accepted`);
      },
    ],
    [
      8,
      'advance',
      async () => {
        const seconds = pick(ADVANCES);
        clock.advance(seconds * 1000);
        const fired = await router.tick();
        return `advance ${seconds}s, tick fired ${fired}`;
      },
    ],
  ];
  const totalWeight = operations.reduce((sum, [w]) => sum + w, 0);
  const choose = () => {
    let r = rnd() * totalWeight;
    for (const op of operations) {
      r -= op[0];
      if (r < 0) return op;
    }
    return operations[operations.length - 1]!;
  };

  for (let i = 0; i < ops; i++) {
    let line: string | null = null;
    for (let tries = 0; line === null && tries < 20; tries++) {
      const [, name, run] = choose();
      const at = `#${i} t+${Math.round((clock.now() - T_START) / 1000)}s`;
      try {
        const done = await run();
        if (done !== null) line = `${at} ${done}`;
      } catch (err) {
        if (err instanceof SwitchboardError) line = `${at} ${name} refused: ${err.code}: ${err.message}`;
        else {
          log.push(`${at} ${name} threw`);
          return { seed, log, problems: [`unexpected error: ${(err as Error).stack ?? String(err)}`] };
        }
      }
    }
    if (line === null) continue;
    log.push(line);
    const problems = await checkInvariants(store, ctx());
    for (const c of await store.listConversations({ limit: ALL })) {
      const announced = assignedEvents.get(c.id) ?? [];
      if (announced.length !== c.ownership.length)
        problems.push(
          `${c.id}: ${c.ownership.length} ownership moves but ${announced.length} assigned events`,
        );
      if (c.status === 'assigned' && announced.at(-1) !== c.ownerId)
        problems.push(`${c.id}: owner ${c.ownerId} but the last assigned event named ${announced.at(-1)}`);
    }
    if (problems.length > 0) return { seed, log, problems };
  }
  return { seed, log, problems: [] };
}

const T_START = new ManualClock().now();
