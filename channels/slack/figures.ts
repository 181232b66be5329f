// An agent's own figures for today, and what waits that they could serve: the
// `/switchboard stats` and `/switchboard queue` answers and the App Home's lower
// half. Pure reads over the Store.
import type { Router } from '../../routing/router.js';
import { waitingSince } from '../../routing/store/rules.js';
import { type Agent, type Channel, type Conversation, meetsSkills } from '../../shared/model.js';
import { customerName } from '../team.js';

export interface AgentFigures {
  /** Conversations that became theirs today (first assignment, hand-off, return). */
  taken: number;
  resolved: number;
  /** Owned and open now. */
  open: number;
  handedOff: number;
  /** Median time from getting a conversation to the first reply, seconds. */
  firstReplySeconds: number | null;
  promisesKept: number;
  promisesBroken: number;
}

export interface Waiting {
  conversation: Conversation;
  customerName: string;
  waitedMs: number;
  position: number | null;
  etaSeconds: number | null;
}

/** Local midnight before `now`. */
export function startOfDay(now: number): number {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

export async function agentFigures(router: Router, agentId: string, now: number): Promise<AgentFigures> {
  const store = router.store;
  const since = startOfDay(now);
  // What the agent did today, and what they own now: every conversation a figure below can count.
  const [touched, assigned, queued] = await Promise.all([
    store.conversationsTouchedBy(agentId, since),
    store.listConversations({ ownerId: agentId, status: 'assigned' }),
    store.listConversations({ ownerId: agentId, status: 'queued' }),
  ]);
  const all = new Map([...touched, ...assigned, ...queued].map((c) => [c.id, c])).values();
  const figures: AgentFigures = {
    taken: 0,
    resolved: 0,
    open: 0,
    handedOff: 0,
    firstReplySeconds: null,
    promisesKept: 0,
    promisesBroken: 0,
  };
  // Conversations they worked on today, each with the first time they took it today (if they did).
  const worked: Array<{ c: Conversation; first: number | null }> = [];
  for (const c of all) {
    if (c.status === 'assigned' && c.ownerId === agentId) figures.open++;
    if (c.status === 'resolved' && c.ownerId === agentId && (c.resolvedAt ?? 0) >= since) figures.resolved++;
    const takes = c.ownership.filter((o) => o.to === agentId && o.at >= since && o.from !== agentId);
    figures.taken += takes.length;
    figures.handedOff += c.ownership.filter(
      (o) => o.from === agentId && o.to !== agentId && o.reason === 'handoff' && o.at >= since,
    ).length;
    if ((takes.length > 0 || c.ownerId === agentId) && c.lastContactAt >= since)
      worked.push({ c, first: takes[0]?.at ?? null });
  }
  // Their messages and promises, read at once (the store pipelines them).
  const read = await Promise.all(
    worked.map(({ c, first }) =>
      Promise.all([first === null ? [] : store.listMessages(c.id), store.listPromises(c.id)]),
    ),
  );
  const firstReplies: number[] = [];
  worked.forEach(({ first }, i) => {
    const [messages, promises] = read[i]!;
    const reply =
      first === null
        ? undefined
        : messages.find(
            (m) =>
              m.direction === 'out' && m.author.type === 'agent' && m.author.id === agentId && m.at >= first,
          );
    if (reply && first !== null) firstReplies.push((reply.at - first) / 1000);
    for (const p of promises) {
      if (p.agentId !== agentId || p.settledAt === null || p.settledAt < since) continue;
      if (p.state === 'kept') figures.promisesKept++;
      else if (p.state === 'broken') figures.promisesBroken++;
    }
  });
  figures.firstReplySeconds = median(firstReplies);
  return figures;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const m = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return Math.round(m * 10) / 10;
}

/** What waits now that this agent could take: skills met and capacity on its channel; longest wait first. */
export async function waitingFor(router: Router, agent: Agent, now: number): Promise<Waiting[]> {
  const store = router.store;
  // The whole line: the longest waits are the oldest conversations, which a newest-first limit would leave out.
  const queued = await store.listConversations({ status: 'queued', limit: 0 });
  const mine = queued.filter(
    (c) => meetsSkills(agent.skills, c.skills) && (agent.capacity[c.lastChannel as Channel] ?? 0) > 0,
  );
  mine.sort((a, b) => waitingSince(a) - waitingSince(b));
  const out: Waiting[] = [];
  for (const conversation of mine.slice(0, 20)) {
    const customer = await store.getCustomer(conversation.customerId);
    const quote = await router.quote(conversation.id);
    out.push({
      conversation,
      // Named as the team's live view names them (a chat visitor's id is no name).
      customerName: customerName(customer),
      waitedMs: now - waitingSince(conversation),
      position: quote?.position ?? null,
      etaSeconds: quote?.etaSeconds ?? null,
    });
  }
  return out;
}
