// The Redis floor yardstick (bench/redis-floor.ts), small: every decision it times
// resolves a conversation and claims the next one (a failed one throws), it reports
// a rate and Redis's time per script for each concurrency, and it leaves no keys.
import { expect } from 'chai';
import { createClient } from 'redis';
import { floor } from '../../bench/redis-floor.js';
import { useRedis } from '../routing/redis-harness.js';

describe('bench/redis-floor', () => {
  const redis = useRedis();

  it('runs its decisions at each concurrency and cleans up after itself', async function () {
    this.timeout(60_000);
    const results = await floor({ url: redis.url(), agents: 10, reps: 2, steps: 40, concurrency: [1, 4] });
    expect(results.map((r) => r.concurrency)).to.deep.equal([1, 4]);
    for (const r of results) {
      expect(r.perSecond).to.be.greaterThan(0);
      expect(r.scriptUsec).to.be.greaterThan(0);
    }
    const client = createClient({ url: redis.url() });
    client.on('error', () => {});
    await client.connect();
    try {
      expect(await client.keys(`{floor:${process.pid}:*`)).to.deep.equal([]);
    } finally {
      client.destroy();
    }
  });
});
