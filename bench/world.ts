// One benchmark world: the real Router over a Store, a manual clock, sequential
// ids, and the bookkeeping the driver needs (who holds which conversation, what
// waits, which offers ring) learned from the router's own domain events.
//
// The bookkeeping stays out of the timed decisions as far as it can: the event
// listener only counts assignments, notes ringing offers (agents answer them in
// the decision) and keeps the events; they are applied (`settle`) when the world
// is next asked. A `claim` draws the conversation to resolve before the decision
// (`pickHeld`) and remembers its customer afterwards (`noteResolved`).

import { type ContactResult, Router } from '../routing/router.js';
import type { Store } from '../routing/store/store.js';
import { ManualClock } from '../shared/clock.js';
import type { DomainEvent } from '../shared/events.js';
import { sequentialIds } from '../shared/ids.js';
import type { Channel, Contact } from '../shared/model.js';
import { CHANNELS } from '../shared/model.js';
import {
  addressFor,
  agentSpec,
  type ChannelMix,
  type ContactSpec,
  contactSpec,
  type Rng,
} from './workload.js';

export interface Held {
  conversationId: string;
  agentId: string;
  channel: Channel;
}

/** Ids in a bag with O(1) add, remove and random pick. */
class Bag<T extends { conversationId: string }> {
  readonly items: T[] = [];
  readonly #index = new Map<string, number>();

  get size(): number {
    return this.items.length;
  }

  add(item: T): void {
    if (this.#index.has(item.conversationId)) return;
    this.#index.set(item.conversationId, this.items.length);
    this.items.push(item);
  }

  take(i: number): T {
    const item = this.items[i]!;
    const last = this.items.pop()!;
    this.#index.delete(item.conversationId);
    if (last !== item) {
      this.items[i] = last;
      this.#index.set(last.conversationId, i);
    }
    return item;
  }
}

export class World {
  readonly router: Router;
  readonly clock = new ManualClock();
  /** Assignments seen (every `conversation.assigned` event). */
  assignments = 0;
  /** Messages from a customer that reached the owner of the conversation they wrote in (`reply`). */
  ownerReplies = 0;
  /** Contacts that came in and were told their wait: queued with a place in line and a quoted wait (`wait`). */
  queuedContacts = 0;
  readonly #waiting = new Set<string>();
  /** Events not applied to the bookkeeping yet (see `settle`). */
  readonly #pending: DomainEvent[] = [];
  readonly #held = new Map<Channel, Bag<Held>>();
  readonly #offers: Array<{ conversationId: string; agentId: string }> = [];
  /** Customers whose conversation was resolved: some come back. */
  readonly #returning: Array<{ channel: Channel; from: string }> = [];
  readonly #from = new Map<string, { channel: Channel; from: string }>();
  readonly #rng: Rng;
  /** Milliseconds between arrivals; fractional steps accumulate. */
  readonly #stepMs: number;
  #carry = 0;
  #customers = 0;
  #external = 0;
  #steps = 0;

  constructor(store: Store, rng: Rng, stepMs: number) {
    this.router = new Router({ store, clock: this.clock, ids: sequentialIds() });
    this.#rng = rng;
    this.#stepMs = stepMs;
    for (const c of CHANNELS) this.#held.set(c, new Bag());
    this.router.events.subscribe((e) => {
      switch (e.type) {
        case 'conversation.offered':
          this.#offers.push({ conversationId: e.conversation.id, agentId: e.agentId });
          this.#pending.push(e);
          break;
        case 'conversation.assigned':
          this.assignments++;
          this.#pending.push(e);
          break;
        case 'conversation.queued':
          this.#pending.push(e);
          break;
        default:
          break;
      }
    });
  }

  /** Conversations waiting in line. */
  get waiting(): ReadonlySet<string> {
    this.settle();
    return this.#waiting;
  }

  /** Apply the events kept since the last time, in order. */
  settle(): void {
    const pending = this.#pending;
    for (let i = 0; i < pending.length; i++) {
      const e = pending[i]!;
      if (e.type === 'conversation.queued') this.#waiting.add(e.conversation.id);
      else if (e.type === 'conversation.offered') this.#waiting.delete(e.conversation.id);
      else if (e.type === 'conversation.assigned') {
        const conv = e.conversation;
        this.#waiting.delete(conv.id);
        const channel = conv.slotChannel ?? conv.lastChannel;
        this.#held.get(channel)!.add({ conversationId: conv.id, agentId: e.agentId, channel });
      }
    }
    pending.length = 0;
  }

  heldOn(channels: readonly Channel[]): number {
    this.settle();
    let n = 0;
    for (const c of channels) n += this.#held.get(c)!.size;
    return n;
  }

  /** Create `n` available agents; returns their total capacity per channel. */
  async addAgents(n: number): Promise<Record<Channel, number>> {
    const total: Record<Channel, number> = { voice: 0, sms: 0, chat: 0, email: 0 };
    for (let i = 0; i < n; i++) {
      const agent = await this.router.createAgent(agentSpec(this.#rng, i));
      for (const c of CHANNELS) total[c] += agent.capacity[c];
      this.clock.advance(1);
    }
    return total;
  }

  /**
   * One inbound contact on a channel drawn from `channels` (or on that channel): a new customer,
   * or now and then a returning one on the same channel (their last owner is tried first).
   */
  async arrive(channels: ChannelMix | Channel): Promise<void> {
    this.settle();
    const spec: ContactSpec = contactSpec(
      this.#rng,
      typeof channels === 'string' ? [[channels, 1]] : channels,
    );
    let who: { channel: Channel; from: string } | undefined;
    if (this.#returning.length > 0 && this.#rng.next() < 0.15) {
      const i = Math.floor(this.#rng.next() * this.#returning.length);
      if (this.#returning[i]!.channel === spec.channel) {
        who = this.#returning[i]!;
        this.#returning[i] = this.#returning[this.#returning.length - 1]!;
        this.#returning.pop();
      }
    }
    who ??= { channel: spec.channel, from: addressFor(spec.channel, ++this.#customers) };
    const result = await this.#write(who, 'hello', { skills: spec.skills, priority: spec.priority });
    this.#from.set(result.conversation.id, who);
    if (result.outcome.type === 'queued' && result.outcome.etaSeconds !== null) this.queuedContacts++;
  }

  /**
   * Resolve a random held conversation on one of `channels`: its channel and owner, or null
   * when none is held. With `away`, the owner steps away first (so nothing new comes to them).
   */
  async resolveRandom(
    channels: readonly Channel[],
    options: { away?: boolean; skipAgents?: ReadonlySet<string> } = {},
  ): Promise<{ channel: Channel; agentId: string } | null> {
    const held = this.pickHeld(channels, options);
    if (!held) return null;
    await this.resolveHeld(held, options.away ?? false);
    this.noteResolved(held);
    return { channel: held.channel, agentId: held.agentId };
  }

  /**
   * Draw a random held conversation on one of `channels` and forget it is held (it is about to be
   * resolved): null when none is held. With `skipAgents`, one whose owner is not one of them.
   */
  pickHeld(channels: readonly Channel[], options: { skipAgents?: ReadonlySet<string> } = {}): Held | null {
    const total = this.heldOn(channels);
    if (total === 0) return null;
    // With `skipAgents`, draw again (a few times at most) until the owner is not one of them.
    for (let draw = 0; draw < 100; draw++) {
      let r = Math.floor(this.#rng.next() * total);
      let channel: Channel | null = null;
      for (const c of channels) {
        const size = this.#held.get(c)!.size;
        if (r < size) {
          channel = c;
          break;
        }
        r -= size;
      }
      if (channel === null) return null;
      const bag = this.#held.get(channel)!;
      if (options.skipAgents?.has(bag.items[r]!.agentId)) continue;
      return bag.take(r);
    }
    return null;
  }

  /** A held conversation's customer writes again (`reply`); `ownerReplies` counts those that reached its owner. */
  async reply(held: Held): Promise<void> {
    const who = this.#from.get(held.conversationId);
    if (!who) throw new Error(`bench: who wrote ${held.conversationId} is not known`);
    const result = await this.#write(who, 'one more thing');
    if (result.outcome.type === 'owner' && result.conversation.id === held.conversationId)
      this.ownerReplies++;
  }

  /** A message from `who` through `router.contact`, with the next external id. */
  #write(
    who: { channel: Channel; from: string },
    text: string,
    extra: Pick<Contact, 'skills' | 'priority'> = {},
  ): Promise<ContactResult> {
    this.#external++;
    return this.router.contact({
      channel: who.channel,
      from: who.from,
      text,
      externalId: `bench-${this.#external}`,
      ...extra,
    });
  }

  /** A conversation drawn with `pickHeld` and not resolved after all: held again. */
  putBack(held: Held): void {
    this.#held.get(held.channel)!.add(held);
  }

  /** Its owner resolves it (stepping away first with `away`): the router's work, nothing else. */
  async resolveHeld(held: Held, away = false): Promise<void> {
    if (away) await this.router.setAgentStatus(held.agentId, 'away', 'break');
    await this.router.resolve(held.agentId, held.conversationId);
  }

  /** After `resolveHeld`: its customer may come back (`arrive` draws returning customers from these). */
  noteResolved(held: Held): void {
    const who = this.#from.get(held.conversationId);
    if (!who) return;
    this.#from.delete(held.conversationId);
    // About the last 5,000: once full, a new one takes the place of one drawn at random (O(1)).
    if (this.#returning.length < 5000) this.#returning.push(who);
    else this.#returning[Math.floor(this.#rng.next() * this.#returning.length)] = who;
  }

  /** Agents answer every ringing offer (a call becomes an assignment when picked up). */
  async answerOffers(): Promise<void> {
    while (this.#offers.length > 0) {
      const offer = this.#offers.pop()!;
      await this.router.acceptOffer(offer.agentId, offer.conversationId);
    }
  }

  /** Move the clock one arrival interval on; fire due timers now and then, as the server's interval does. */
  async step(): Promise<void> {
    this.settle();
    this.#carry += this.#stepMs;
    const whole = Math.floor(this.#carry);
    if (whole > 0) {
      this.#carry -= whole;
      this.clock.advance(whole);
    }
    if (++this.#steps % 50 === 0) {
      await this.router.tick();
      await this.answerOffers();
    }
  }
}
