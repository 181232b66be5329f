// One benchmark world: the real Router over a Store, a manual clock, sequential
// ids, and the bookkeeping the driver needs (who holds which conversation, what
// waits, which offers ring) learned from the router's own domain events.

import { Router } from '../routing/router.js';
import type { Store } from '../routing/store/store.js';
import { ManualClock } from '../shared/clock.js';
import { sequentialIds } from '../shared/ids.js';
import type { Channel } from '../shared/model.js';
import { CHANNELS } from '../shared/model.js';
import {
  addressFor,
  agentSpec,
  type ChannelMix,
  type ContactSpec,
  contactSpec,
  type Rng,
} from './workload.js';

interface Held {
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
  /** Conversations waiting in line. */
  readonly waiting = new Set<string>();
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
        case 'conversation.queued':
          this.waiting.add(e.conversation.id);
          break;
        case 'conversation.offered':
          this.waiting.delete(e.conversation.id);
          this.#offers.push({ conversationId: e.conversation.id, agentId: e.agentId });
          break;
        case 'conversation.assigned': {
          this.assignments++;
          const conv = e.conversation;
          this.waiting.delete(conv.id);
          const channel = conv.slotChannel ?? conv.lastChannel;
          this.#held.get(channel)!.add({ conversationId: conv.id, agentId: e.agentId, channel });
          break;
        }
        default:
          break;
      }
    });
  }

  heldOn(channels: readonly Channel[]): number {
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
    this.#external++;
    const result = await this.router.contact({
      channel: who.channel,
      from: who.from,
      text: 'hello',
      externalId: `bench-${this.#external}`,
      skills: spec.skills,
      priority: spec.priority,
    });
    this.#from.set(result.conversation.id, who);
  }

  /**
   * Resolve a random held conversation on one of `channels`: its channel and owner, or null
   * when none is held. With `away`, the owner steps away first (so nothing new comes to them).
   */
  async resolveRandom(
    channels: readonly Channel[],
    options: { away?: boolean; skipAgents?: ReadonlySet<string> } = {},
  ): Promise<{ channel: Channel; agentId: string } | null> {
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
      return this.#resolveHeld(channel, r, options.away ?? false);
    }
    return null;
  }

  /** Resolve the `r`-th held conversation on channel `c` (its owner steps away first with `away`). */
  async #resolveHeld(c: Channel, r: number, away: boolean): Promise<{ channel: Channel; agentId: string }> {
    const held = this.#held.get(c)!.take(r);
    if (away) await this.router.setAgentStatus(held.agentId, 'away', 'break');
    await this.router.resolve(held.agentId, held.conversationId);
    const who = this.#from.get(held.conversationId);
    if (who) {
      this.#from.delete(held.conversationId);
      // About the last 5,000: once full, a new one takes the place of one drawn at random. O(1): in
      // `claim` this bookkeeping runs inside the timed decision (a shift() here cost 10% of it).
      if (this.#returning.length < 5000) this.#returning.push(who);
      else this.#returning[Math.floor(this.#rng.next() * this.#returning.length)] = who;
    }
    return { channel: c, agentId: held.agentId };
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
