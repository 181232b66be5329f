// Seeded, deterministic agents and contacts for the routing benchmark: a handful
// of skills with levels (some agents unskilled), mixed capacities per channel,
// and contacts with mixed channels, required skills and priorities.
import type { NewAgent } from '../routing/router.js';
import type { Channel, Skills } from '../shared/model.js';

export const SKILLS = ['billing', 'tech', 'sales', 'spanish', 'returns'] as const;

/** mulberry32: a small, fast, seeded PRNG. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  /** Weighted choice: `[[value, weight], …]`. */
  weighted<T>(choices: ReadonlyArray<readonly [T, number]>): T {
    let total = 0;
    for (const [, w] of choices) total += w;
    let r = this.next() * total;
    for (const [value, w] of choices) {
      r -= w;
      if (r < 0) return value;
    }
    return choices[choices.length - 1]![0];
  }
  /** `k` distinct items. */
  sample<T>(items: readonly T[], k: number): T[] {
    const pool = [...items];
    const out: T[] = [];
    while (out.length < k && pool.length > 0)
      out.push(pool.splice(Math.floor(this.next() * pool.length), 1)[0]!);
    return out;
  }
}

/** An agent: 20% unskilled, else 1–3 skills at levels 1–5; capacities vary per channel. */
export function agentSpec(rng: Rng, i: number): NewAgent {
  const skills: Skills = {};
  if (rng.next() >= 0.2) {
    for (const s of rng.sample(SKILLS, rng.int(1, 3))) skills[s] = rng.int(1, 5);
  }
  return {
    name: `Agent ${i}`,
    skills,
    capacity: {
      voice: rng.next() < 0.75 ? 1 : 0,
      sms: rng.int(0, 2),
      chat: rng.int(1, 3),
      email: rng.int(0, 3),
    },
    status: 'available',
  };
}

/** Channels with weights: `[[channel, weight], …]`. */
export type ChannelMix = ReadonlyArray<readonly [Channel, number]>;

export const ALL_CHANNELS: ChannelMix = [
  ['chat', 40],
  ['email', 25],
  ['sms', 20],
  ['voice', 15],
];

export const LIVE_CHANNELS: ChannelMix = [
  ['chat', 50],
  ['sms', 30],
  ['voice', 20],
];

export const EMAIL_ONLY: ChannelMix = [['email', 1]];

export interface ContactSpec {
  channel: Channel;
  skills: Skills;
  priority: number;
}

/** A contact: 40% need no skill, 45% one skill at level 1–3, 15% two at level 1–2; mostly priority 0. */
export function contactSpec(rng: Rng, channels: ChannelMix): ContactSpec {
  const channel = rng.weighted(channels);
  const skills: Skills = {};
  const r = rng.next();
  if (r >= 0.4 && r < 0.85) skills[rng.pick(SKILLS)] = rng.int(1, 3);
  else if (r >= 0.85) for (const s of rng.sample(SKILLS, 2)) skills[s] = rng.int(1, 2);
  const p = rng.next();
  const priority = p < 0.7 ? 0 : p < 0.9 ? rng.int(1, 3) : rng.int(4, 9);
  return { channel, skills, priority };
}

/** A fresh address for customer number `n` on `channel` (phone numbers are shared by voice and SMS). */
export function addressFor(channel: Channel, n: number): string {
  switch (channel) {
    case 'voice':
    case 'sms':
      // A valid San Francisco number (exchange 200–999), as real callers have: 8 million of them. An
      // invalid one (exchange 000) costs the phone parser several times as long, trying every +1 country.
      return `+1415${200 + (Math.floor(n / 10_000) % 800)}${String(n % 10_000).padStart(4, '0')}`;
    case 'email':
      return `customer${n}@example.com`;
    case 'chat':
      return `visitor-${n}`;
  }
}
