// The Redis event bus against a real Redis: events cross processes (two buses
// stand for two processes), the publisher hears its own event once, bad entries
// are dropped, and a Redis restart loses neither the reading nor the events
// published while it was down.
import { expect } from 'chai';
import { createClient } from 'redis';
import { RedisEventBus } from '../../server/redis-bus.js';
import { redisClient } from '../../server/redis-client.js';
import type { DomainEvent, EventOrigin } from '../../shared/events.js';
import { deletePrefix, RedisServer, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';

const status = (agentId: string): DomainEvent => ({ type: 'agent.status', at: 1, agentId, status: 'away' });

interface Logged {
  level: string;
  msg: string;
  obj: object;
}
function recordingLog(lines: Logged[]) {
  const at = (level: string) => (obj: object, msg: string) => lines.push({ level, msg, obj });
  return { info: at('info'), warn: at('warn'), error: at('error') };
}

/** Resolves when `check` holds (polled), else fails after `ms`. */
async function until(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function heard(bus: RedisEventBus, options: { remote?: boolean } = {}) {
  const got: Array<{ id: string; origin: EventOrigin }> = [];
  bus.subscribe(
    (e, origin) => got.push({ id: e.type === 'agent.status' ? e.agentId : e.type, origin }),
    options,
  );
  return got;
}

describe('RedisEventBus', function () {
  this.timeout(20_000);
  let url: string;
  let prefix: string;
  const buses: RedisEventBus[] = [];
  /** Each bus's appending client, to tell when it has seen an outage. */
  const clients = new Map<RedisEventBus, ReturnType<typeof redisClient>>();
  const log: Logged[] = [];
  const bus = async (at = url) => {
    const client = redisClient(at, 'events', recordingLog(log), false);
    const b = await RedisEventBus.connect({ client, stream: `${prefix}:events`, log: recordingLog(log) });
    buses.push(b);
    clients.set(b, client);
    return b;
  };

  before(async () => {
    url = await sharedRedisUrl();
  });
  beforeEach(() => {
    prefix = uniquePrefix('bus');
    log.length = 0;
  });
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
    await deletePrefix(url, prefix);
  });

  it('carries an event to the other process once; the publisher hears it once, not its echo', async () => {
    const a = await bus();
    const b = await bus();
    const aAll = heard(a, { remote: true });
    const aLocal = heard(a);
    const bAll = heard(b, { remote: true });
    const bLocal = heard(b);

    a.publish(status('from-a'));
    // Delivered to A's own listeners at once, synchronously.
    expect(aAll).to.deep.equal([{ id: 'from-a', origin: 'local' }]);
    expect(aLocal).to.deep.equal([{ id: 'from-a', origin: 'local' }]);
    await until(() => bAll.length === 1, "B hearing A's event");
    expect(bAll).to.deep.equal([{ id: 'from-a', origin: 'remote' }]);

    // A round trip the other way: once B's event reached A, A's own echo has come and gone.
    b.publish(status('from-b'));
    await until(() => aAll.length === 2, "A hearing B's event");
    expect(aAll).to.deep.equal([
      { id: 'from-a', origin: 'local' },
      { id: 'from-b', origin: 'remote' },
    ]);
    expect(bAll).to.deep.equal([
      { id: 'from-a', origin: 'remote' },
      { id: 'from-b', origin: 'local' },
    ]);
    // Listeners that did not ask for remote events hear their own process only.
    expect(aLocal).to.deep.equal([{ id: 'from-a', origin: 'local' }]);
    expect(bLocal).to.deep.equal([{ id: 'from-b', origin: 'local' }]);
  });

  it('keeps the order of one publisher', async () => {
    const a = await bus();
    const b = await bus();
    const got = heard(b, { remote: true });
    const ids = Array.from({ length: 200 }, (_, i) => `ag_${i}`);
    for (const id of ids) a.publish(status(id));
    await until(() => got.length === ids.length, 'all 200 events');
    expect(got.map((g) => g.id)).to.deep.equal(ids);
  });

  it('drops and logs what does not parse, and still delivers what follows', async () => {
    const b = await bus();
    const got = heard(b, { remote: true });
    const raw = createClient({ url });
    await raw.connect();
    try {
      const stream = `${prefix}:events`;
      const add = (fields: Record<string, string>) => raw.xAdd(stream, '*', fields);
      await add({ e: 'no-origin-at-all' });
      await add({ other: 'field' });
      await add({ e: 'other {not json' });
      await add({ e: `other ${JSON.stringify({ type: 'agent.status', at: 1, agentId: 'x' })}` });
      await add({ e: `other ${JSON.stringify({ type: 'no.such.event', at: 1 })}` });
      await add({ e: `other ${JSON.stringify(status('good'))}` });
    } finally {
      raw.destroy();
    }
    await until(() => got.length === 1, 'the good event');
    expect(got).to.deep.equal([{ id: 'good', origin: 'remote' }]);
    expect(b.rejected).to.equal(5);
    const drops = log.filter((l) => l.msg.startsWith('event bus: dropped'));
    expect(drops.map((d) => d.msg)).to.deep.equal([
      'event bus: dropped unreadable payload',
      'event bus: dropped unreadable payload',
      'event bus: dropped unreadable payload',
      'event bus: dropped an event that does not match the schema',
      'event bus: dropped an event that does not match the schema',
    ]);
    expect(drops[3]!.obj).to.deep.include({ type: 'agent.status', field: 'status' });
  });

  it('survives a Redis restart: reads again and appends what was published meanwhile', async () => {
    const server = await RedisServer.start();
    try {
      const a = await bus(server.url);
      const b = await bus(server.url);
      const got = heard(b, { remote: true });
      a.publish(status('before'));
      await until(() => got.length === 1, 'the event before the restart');

      await server.stop('SIGKILL');
      // `connected` turns false as soon as either connection of a bus notices. The publisher's appending
      // connection must have noticed too: an event appended on a connection that is going down may or
      // may not have been written, and the bus does not send it twice (it logs it). What this test is
      // about is the events published once the outage is known: those are held and appended later.
      await until(
        () => !a.connected && !b.connected && !clients.get(a)!.isReady,
        'both buses, and the publishing connection, to notice',
      );
      a.publish(status('while-down'));
      // Still delivered locally at once.
      const aHeard = heard(a, { remote: true });
      a.publish(status('while-down-2'));
      expect(aHeard).to.deep.equal([{ id: 'while-down-2', origin: 'local' }]);

      await server.start();
      await until(() => a.connected && b.connected, 'both buses to reconnect', 5000);
      await until(() => got.length === 3, 'the events held during the outage', 5000);
      a.publish(status('after'));
      await until(() => got.length === 4, 'the event after the restart');
      expect(got.map((g) => g.id)).to.deep.equal(['before', 'while-down', 'while-down-2', 'after']);
      expect(log.some((l) => l.msg === 'redis: unreachable; retrying')).to.equal(true);
      expect(log.some((l) => l.msg === 'redis: connected again')).to.equal(true);
    } finally {
      await Promise.all(buses.splice(0).map((b) => b.close()));
      await server.close();
    }
  });
});
