// While the store is unreachable (Redis mode reports it through `storeReady`),
// /readyz and every route that needs the store answer 503 at once, before any
// work starts; /healthz stays 200. And the Redis settings in the configuration.
import { expect } from 'chai';
import { pino } from 'pino';
import request from 'supertest';
import { MemoryStore } from '../../routing/store/memory.js';
import { createSwitchboard, type Switchboard } from '../../server/app.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import { ADMIN_TOKEN, TOKEN_SECRET } from './harness.js';

describe('store gate', () => {
  let sb: Switchboard;
  let up = true;
  let url: string;
  beforeEach(async () => {
    up = true;
    const config = loadConfig({ PORT: '0', ADMIN_TOKEN, TOKEN_SECRET, LOG_LEVEL: 'silent' });
    sb = createSwitchboard({
      config,
      logger: pino({ level: 'silent' }),
      store: new MemoryStore(),
      storeReady: () => up,
    });
    url = `http://127.0.0.1:${await sb.listen(0, '127.0.0.1')}`;
  });
  afterEach(() => sb.close());

  it('store down: /readyz, the admin API and the webhook routes answer 503 at once; /healthz 200', async () => {
    up = false;
    const ready = await request(url).get('/readyz').expect(503);
    expect(ready.body.status).to.equal('unavailable');
    const api = await request(url)
      .get('/api/agents')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .expect(503);
    expect(api.headers['retry-after']).to.equal('1');
    expect(api.body.error.code).to.equal('store_unavailable');
    for (const path of ['/twilio/sms', '/twilio/voice', '/slack/events', '/email/inbound']) {
      const res = await request(url).post(path).send('x=1').expect(503);
      expect(res.body.error.code, path).to.equal('store_unavailable');
    }
    // Not even a bad token gets further: nothing is looked at while the store is away.
    await request(url).get('/api/agents').expect(503);
    await request(url).get('/healthz').expect(200);
  });

  it('store back: everything answers as usual', async () => {
    up = false;
    await request(url).get('/readyz').expect(503);
    up = true;
    await request(url).get('/readyz').expect(200);
    await request(url).get('/api/agents').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(200);
    await request(url).post('/twilio/sms').expect(404);
  });
});

describe('/readyz when the store does not answer', () => {
  /** A store whose ping fails as a Redis driver's does: naming the host and port. */
  class Unanswering extends MemoryStore {
    override async ping(): Promise<void> {
      throw new Error('connect ECONNREFUSED 10.1.2.3:6379');
    }
  }
  it('answers 503 with a fixed reason, not the error the driver gave', async () => {
    const config = loadConfig({ PORT: '0', ADMIN_TOKEN, TOKEN_SECRET, LOG_LEVEL: 'silent' });
    const sb = createSwitchboard({ config, logger: pino({ level: 'silent' }), store: new Unanswering() });
    try {
      const url = `http://127.0.0.1:${await sb.listen(0, '127.0.0.1')}`;
      const ready = await request(url).get('/readyz').expect(503);
      expect(ready.body).to.deep.equal({ status: 'unavailable', error: 'the store does not answer' });
    } finally {
      await sb.close();
    }
  });
});

describe('loadConfig: Redis', () => {
  it('REDIS_PREFIX defaults to switchboard and is taken as given', () => {
    expect(loadConfig({}).redisPrefix).to.equal('switchboard');
    expect(loadConfig({ REDIS_PREFIX: 'acme:prod' }).redisPrefix).to.equal('acme:prod');
  });

  it('a REDIS_PREFIX with spaces or braces is rejected naming it', () => {
    for (const bad of ['has space', '{tag}', 'x'.repeat(65)]) {
      try {
        loadConfig({ REDIS_PREFIX: bad });
        expect.fail(`accepted ${bad}`);
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        expect((err as ConfigError).lines).to.deep.equal([
          'REDIS_PREFIX: must be 1 to 64 letters, digits, or _ . : -',
        ]);
      }
    }
  });

  it('REDIS_URL turns off the demo agents unless DEMO_AGENTS=on', () => {
    const redis = { REDIS_URL: 'redis://127.0.0.1:6379', TOKEN_SECRET, ADMIN_TOKEN };
    expect(loadConfig(redis).demoAgents).to.equal(false);
    expect(loadConfig({ ...redis, DEMO_AGENTS: 'on' }).demoAgents).to.equal(true);
  });
});
