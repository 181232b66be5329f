// A router over the memory store with a manual clock and deterministic ids,
// recording every domain event it emits. Shared by the router specs.

import { expect } from 'chai';
import { parsePolicy, type RoutingPolicyInput } from '../../routing/policy.js';
import { type ContactResult, type NewAgent, Router } from '../../routing/router.js';
import { MemoryStore } from '../../routing/store/memory.js';
import { ManualClock } from '../../shared/clock.js';
import { DomainEvent, type EventOf, type EventType } from '../../shared/events.js';
import { sequentialIds } from '../../shared/ids.js';
import type { Agent, Channel, Contact, Conversation, CustomerPromise } from '../../shared/model.js';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;

export interface Harness {
  router: Router;
  store: MemoryStore;
  clock: ManualClock;
  /** Every event emitted since the harness was built (or since `clearEvents`). */
  events: DomainEvent[];
  /** The recorded events of one type, in order. */
  eventsOf<T extends EventType>(type: T): EventOf<T>[];
  clearEvents(): void;
  /** Events that do not parse against the DomainEvent schema, as `type: first issue`: should be none. */
  invalidEvents(): string[];
  /** Advance the manual clock and fire whatever timers are due. */
  advance(ms: number): Promise<number>;
  /** Create an agent (available unless told otherwise); advances the clock 1 s so idle order follows creation order. */
  agent(name: string, input?: Partial<NewAgent>): Promise<Agent>;
  /** An inbound contact with a fresh externalId unless one is given. */
  contact(input: Partial<Contact> & { channel: Channel; from: string }): Promise<ContactResult>;
  conversation(id: string): Promise<Conversation>;
  agentNow(id: string): Promise<Agent>;
}

export function harness(policy: RoutingPolicyInput = {}): Harness {
  const store = new MemoryStore();
  const clock = new ManualClock();
  const router = new Router({ store, clock, policy: parsePolicy(policy), ids: sequentialIds() });
  const events: DomainEvent[] = [];
  router.events.subscribe((e) => events.push(e));
  let external = 0;
  return {
    router,
    store,
    clock,
    events,
    eventsOf<T extends EventType>(type: T): EventOf<T>[] {
      return events.filter((e): e is EventOf<T> => e.type === type);
    },
    clearEvents() {
      events.length = 0;
    },
    invalidEvents() {
      const bad: string[] = [];
      for (const e of events) {
        const r = DomainEvent.safeParse(e);
        if (!r.success)
          bad.push(`${e.type}: ${r.error.issues[0]?.path.join('.')} ${r.error.issues[0]?.message}`);
      }
      return bad;
    },
    async advance(ms) {
      clock.advance(ms);
      return router.tick();
    },
    async agent(name, input = {}) {
      const agent = await router.createAgent({ status: 'available', ...input, name });
      clock.advance(SECOND);
      return agent;
    },
    async contact(input) {
      external++;
      return router.contact({ text: `hello ${external}`, externalId: `ext-${external}`, ...input });
    },
    async conversation(id) {
      const c = await store.getConversation(id);
      if (!c) throw new Error(`no conversation ${id}`);
      return c;
    },
    async agentNow(id) {
      const a = await store.getAgent(id);
      if (!a) throw new Error(`no agent ${id}`);
      return a;
    },
  };
}

/**
 * After the team closes on a customer (`close`: a block, an erasure), nothing promised to them goes out: a
 * texter resolved with a follow-up promised and a survey due, and a caller who waits for a call back, are
 * closed on; an hour later no survey, follow-up or call back went. Answers what the caller's closing gave.
 */
export async function nothingGoesOutAfter(
  h: Harness,
  close: (customerId: string) => Promise<unknown>,
): Promise<{ first: Conversation; caller: Conversation; callback: CustomerPromise }> {
  const ada = await h.agent('Ada', { capacity: { sms: 1, chat: 1, email: 0, voice: 0 } });
  // Resolved with a follow-up promised in an hour; the survey is due in a minute.
  const first = await h.contact({ channel: 'sms', from: '+14155550100' });
  await h.router.resolve(ada.id, first.conversation.id, h.clock.now() + 60 * MINUTE);
  // A caller who waits and asked to be called back.
  const caller = await h.contact({ channel: 'voice', from: '+14155550111' });
  expect(caller.outcome.type).to.equal('queued');
  const callback = await h.router.requestCallback(caller.conversation.id);
  await close(first.customer.id);
  await close(caller.customer.id);

  h.clearEvents();
  await h.advance(2 * MINUTE);
  await h.advance(60 * MINUTE);
  expect(h.eventsOf('survey.sent')).to.deep.equal([]);
  expect(h.eventsOf('followup.opened')).to.deep.equal([]);
  expect(h.eventsOf('message.sent')).to.deep.equal([]);
  return { first: first.conversation, caller: caller.conversation, callback };
}
