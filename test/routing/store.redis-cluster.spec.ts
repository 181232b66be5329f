// The Redis store on a Redis Cluster: the same conformance suite as on one Redis,
// each store connected to the cluster node that holds its hash tag's slot. Every
// key of a store shares the tag, so each script's keys (declared and undeclared)
// are in one slot: the cluster must accept every script as a single Redis does.
import { RedisStore } from '../../routing/store/redis.js';
import type { Store } from '../../routing/store/store.js';
import { RedisCluster } from '../support/redis-cluster.js';
import { testPrefix } from './redis-harness.js';
import { storeContract } from './store.contract.js';

describe('RedisStore on a Redis Cluster (3 masters)', () => {
  let cluster: RedisCluster;
  before(async function () {
    this.timeout(60_000);
    cluster = await RedisCluster.start(3);
  });
  after(async () => {
    await cluster?.close();
  });

  storeContract(
    'redis cluster',
    async () => {
      const prefix = testPrefix('cluster');
      return RedisStore.connect({ url: await cluster.ownerUrl(`{sb:${prefix}}`), prefix });
    },
    async (store: Store) => {
      await (store as RedisStore).flushPrefix();
    },
  );
});
