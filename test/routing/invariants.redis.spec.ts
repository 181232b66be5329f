// The routing invariants under random operation sequences, over the Redis store:
// the same driver and checks as invariants.spec.ts, fewer sequences (each one
// talks to a real redis-server), each under a key prefix of its own. Each
// sequence also runs over the memory store: the driver's choices and the
// router's outcomes depend only on what the store answers, so the two operation
// logs must be the same line for line (the stores decide alike).
//
// Replay one sequence: SB_SEED=<seed> npx mocha test/routing/invariants.redis.spec.ts
import { expect } from 'chai';
import { MemoryStore } from '../../routing/store/memory.js';
import { runRandomSequence, type SequenceResult } from './invariants.js';
import { useRedis } from './redis-harness.js';

const SEQUENCES = 40;
const OPS = 60;

function report(result: SequenceResult): string {
  return [
    `routing invariant broken over the Redis store with seed ${result.seed}`,
    `replay: SB_SEED=${result.seed} npx mocha test/routing/invariants.redis.spec.ts`,
    'operations:',
    ...result.log.map((line) => `  ${line}`),
    'problems:',
    ...result.problems.map((p) => `  ${p}`),
  ].join('\n');
}

describe('routing invariants under random operations (redis store)', () => {
  const redis = useRedis();
  const replay = process.env.SB_SEED;
  const base = Number(process.env.SB_SEED_BASE ?? 1);
  const seeds =
    replay !== undefined ? [Number(replay)] : Array.from({ length: SEQUENCES }, (_, i) => base + i);

  it(`hold after every operation of ${seeds.length} sequences of ${OPS} operations, deciding as the memory store does`, async function () {
    this.timeout(60_000);
    let operations = 0;
    for (const seed of seeds) {
      const store = await redis.connect(`invariants-${seed}`);
      try {
        const result = await runRandomSequence(seed, store, OPS);
        operations += result.log.length;
        if (result.problems.length > 0) expect.fail(report(result));
        const memory = await runRandomSequence(seed, new MemoryStore(), OPS);
        const differs = result.log.findIndex((line, i) => line !== memory.log[i]);
        if (differs >= 0 || memory.log.length !== result.log.length) {
          const at = differs >= 0 ? differs : Math.min(result.log.length, memory.log.length);
          expect.fail(
            `seed ${seed}: the Redis and memory stores decided differently at operation ${at}\n` +
              `  redis:  ${result.log[at]}\n  memory: ${memory.log[at]}`,
          );
        }
      } finally {
        await store.flushPrefix();
        await store.close();
      }
    }
    expect(operations).to.be.greaterThan(seeds.length * OPS * 0.9);
  });
});
