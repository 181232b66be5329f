// Who moves a live call (channels/voice/holders.ts): one process alone holds every
// call; in Redis, two instances (two processes) on one key prefix, against a real
// redis-server, the latest to answer a call's webhook holds it.
import { expect } from 'chai';
import { createClient } from 'redis';
import {
  ALIVE_MS,
  HOLDER_TTL_SECONDS,
  LocalCallHolders,
  RedisCallHolders,
} from '../../channels/voice/holders.js';
import { RedisKeys } from '../../routing/store/redis-keys.js';
import { deletePrefix, RedisServer, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';
import { newSid } from '../support/twilio-standin.js';

describe('Voice call holders', () => {
  it('one process holds every call, and has none to take over', async () => {
    const local = new LocalCallHolders();
    await local.hold(newSid('CA'));
    expect(await local.holds(newSid('CA'))).to.equal(true);
    expect(await local.adopt(newSid('CA'))).to.equal(false);
  });

  it('a lease in one process: taken once, on its clock, until given up or lapsed', async () => {
    let now = 1_000_000;
    const local = new LocalCallHolders(() => now);
    expect(await Promise.all([local.lease('x', 10), local.lease('x', 10)])).to.deep.equal([true, false]);
    expect(await local.leased('x')).to.equal(true);
    now += 10_000;
    expect(await local.leased('x')).to.equal(false);
    expect(await local.lease('x', 10)).to.equal(true);
    await local.renew('x', 60);
    now += 30_000;
    expect(await local.lease('x', 10)).to.equal(false);
    await local.free('x');
    expect(await local.lease('x', 10)).to.equal(true);
  });

  describe('in Redis', () => {
    let url = '';
    let prefix = '';
    const open: RedisCallHolders[] = [];
    const connect = async () => {
      const holders = await RedisCallHolders.connect({ url, prefix });
      open.push(holders);
      return holders;
    };
    beforeEach(async () => {
      url = await sharedRedisUrl();
      prefix = uniquePrefix('holders');
    });
    afterEach(async () => {
      for (const h of open.splice(0)) await h.close();
      await deletePrefix(url, prefix);
    });

    it('the process that answered the latest webhook holds the call; a call nobody holds is anyone’s', async () => {
      const [a, b] = [await connect(), await connect()];
      const call = newSid('CA');
      expect([await a.holds(call), await b.holds(call)]).to.deep.equal([true, true]);
      await a.hold(call);
      expect([await a.holds(call), await b.holds(call)]).to.deep.equal([true, false]);
      await b.hold(call);
      expect([await a.holds(call), await b.holds(call)]).to.deep.equal([false, true]);
      // Another call is not affected.
      expect(await a.holds(newSid('CA'))).to.equal(true);
    });

    it('a lease is taken by one process of several at once, held while renewed, and free once given up', async () => {
      const [a, b] = [await connect(), await connect()];
      expect(
        await Promise.all([a.lease('out:x', 30), b.lease('out:x', 30)]).then((r) => r.sort()),
      ).to.deep.equal([false, true]);
      expect([await a.leased('out:x'), await b.leased('out:x'), await a.leased('out:y')]).to.deep.equal([
        true,
        true,
        false,
      ]);
      await a.renew('out:x', 3600);
      const raw = createClient({ url });
      await raw.connect();
      try {
        const ttl = await raw.ttl(`${new RedisKeys(prefix).base}voice:lease:out:x`);
        expect(ttl).to.be.within(3500, 3600);
      } finally {
        await raw.close();
      }
      await b.free('out:x');
      expect(await a.lease('out:x', 30)).to.equal(true);
    });

    it('a call whose holder stopped running is taken over once; an ended call by nobody', async () => {
      const [a, b, c] = [await connect(), await connect(), await connect()];
      const call = newSid('CA');
      expect(await b.adopt(call)).to.equal(false); // nobody holds it
      await a.hold(call);
      expect(await b.adopt(call)).to.equal(false); // A is running
      expect(await a.adopt(call)).to.equal(true); // its own
      const client = createClient({ url });
      await client.connect();
      try {
        expect(await client.pTTL(a.aliveKey))
          .to.be.above(0)
          .and.at.most(ALIVE_MS);
        await client.del(a.aliveKey); // what A's crash comes to after ALIVE_MS
      } finally {
        client.destroy();
      }
      const [byB, byC] = await Promise.all([b.adopt(call), c.adopt(call)]);
      expect([byB, byC].filter(Boolean)).to.have.length(1); // one of them, not both
      const taker = byB ? b : c;
      expect([await a.holds(call), await taker.holds(call)]).to.deep.equal([false, true]);
      await taker.release(call);
      expect(await a.holds(call)).to.equal(true); // anyone's
      expect(await b.adopt(call)).to.equal(false); // ended: nothing to take over
    });

    it('a clean stop says at once that the process is no longer running', async () => {
      const a = await connect();
      const client = createClient({ url });
      await client.connect();
      try {
        expect(await client.exists(a.aliveKey)).to.equal(1);
        await a.close();
        expect(await client.exists(a.aliveKey)).to.equal(0);
      } finally {
        client.destroy();
      }
    });

    it('keeps a holder under the store’s base, for a while after the last webhook', async () => {
      const a = await connect();
      const call = newSid('CA');
      await a.hold(call);
      const key = a.key(call);
      expect(key).to.equal(`${new RedisKeys(prefix).base}voice:holder:${call}`);
      const client = createClient({ url });
      await client.connect();
      try {
        expect(await client.get(key)).to.equal(a.id);
        const ttl = await client.ttl(key);
        expect(ttl)
          .to.be.above(HOLDER_TTL_SECONDS - 60)
          .and.at.most(HOLDER_TTL_SECONDS);
      } finally {
        client.destroy();
      }
    });
  });

  it('while Redis is away, holding and asking fail (the caller logs it) and the process lives on', async () => {
    const server = await RedisServer.start();
    const holders = await RedisCallHolders.connect({ url: server.url, prefix: uniquePrefix('away') });
    try {
      const call = newSid('CA');
      await holders.hold(call);
      await server.stop('SIGKILL');
      let failed = 0;
      await holders.hold(call).catch(() => failed++);
      await holders.holds(call).catch(() => failed++);
      expect(failed).to.equal(2);
      await server.start();
      const deadline = Date.now() + 10_000;
      while (!holders.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      expect(holders.ready).to.equal(true);
      // Nothing persisted across the restart: the call is anyone's, and holding it works again.
      expect(await holders.holds(call)).to.equal(true);
      await holders.hold(call);
      expect(await holders.holds(call)).to.equal(true);
    } finally {
      await holders.close();
      await server.close();
    }
  });
});
