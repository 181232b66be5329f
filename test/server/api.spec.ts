// The HTTP surface through the real express app on a real port: health, metrics,
// rights, the static pages and every /api route of the API (README).
import { expect } from 'chai';
import type { Response } from 'supertest';
import { ADMIN_TOKEN, emitAck, type Harness, once, SECOND, useHarness } from './harness.js';

/** The error body shape of the API (README), exactly. */
function expectError(res: Response, status: number, code: string, field?: string): void {
  expect(res.status).to.equal(status);
  expect(res.headers['content-type']).to.match(/^application\/json/);
  expect(Object.keys(res.body)).to.deep.equal(['error']);
  const keys = field === undefined ? ['code', 'message'] : ['code', 'message', 'field'];
  expect(Object.keys(res.body.error).sort()).to.deep.equal(keys.sort());
  expect(res.body.error.code).to.equal(code);
  expect(res.body.error.message).to.be.a('string').and.not.equal('');
  if (field !== undefined) expect(res.body.error.field).to.equal(field);
}

/** A chat visitor writes; resolves when the message is acknowledged. */
async function visitorWrites(
  h: Harness,
  text = 'hello',
): Promise<{ conversationId: string; customerId: string }> {
  const v = h.visitor();
  const session = await once(v, 'session');
  const ack = await emitAck(v, 'message', { text, clientMessageId: 'c1' });
  expect(ack.ok).to.equal(true);
  return { conversationId: ack.conversationId, customerId: session.customerId };
}

describe('HTTP', () => {
  const sb = useHarness();

  describe('health', () => {
    it('GET /healthz → 200 {status: ok}', async () => {
      const res = await sb().http().get('/healthz').expect(200);
      expect(res.body).to.deep.equal({ status: 'ok' });
    });

    it('GET /readyz → 200 while the store answers, 503 after it is closed', async () => {
      const h = sb();
      const ok = await h.http().get('/readyz').expect(200);
      expect(ok.body).to.deep.equal({ status: 'ready' });
      await h.store.close();
      const down = await h.http().get('/readyz').expect(503);
      expect(down.body).to.deep.equal({ status: 'unavailable', error: 'the memory store is closed' });
    });

    it('an unknown route → 404 in the error shape', async () => {
      expectError(await sb().http().get('/nope'), 404, 'not_found');
    });
  });

  describe('GET /metrics', () => {
    it('is Prometheus text with the switchboard metrics', async () => {
      const h = sb();
      await h.http().get('/healthz').expect(200);
      const res = await h.http().get('/metrics').expect(200);
      expect(res.headers['content-type']).to.match(/^text\/plain; version=0\.0\.4/);
      for (const name of [
        'switchboard_time_to_human_seconds',
        'switchboard_conversations_waiting',
        'switchboard_ownership_changes_total',
        'switchboard_promises_total',
        'switchboard_messages_total',
        'switchboard_http_request_duration_seconds',
      ]) {
        expect(res.text).to.include(`# TYPE ${name} `);
      }
      expect(res.text).to.include('switchboard_conversations_waiting 0\n');
      expect(res.text).to.match(
        /switchboard_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 1\n/,
      );
    });

    it('counts waiting conversations and chat messages; records time to a human by channel', async () => {
      const h = sb();
      await visitorWrites(h);
      let text = (await h.http().get('/metrics').expect(200)).text;
      expect(text).to.include('switchboard_conversations_waiting 1\n');
      expect(text).to.include('switchboard_messages_total{channel="chat",direction="in"} 1\n');
      expect(text).to.not.include('switchboard_time_to_human_seconds_count{channel="chat"}');

      h.clock.advance(30 * SECOND);
      await h.createAgent('Ada');
      text = (await h.http().get('/metrics').expect(200)).text;
      expect(text).to.include('switchboard_conversations_waiting 0\n');
      expect(text).to.include('switchboard_time_to_human_seconds_count{channel="chat"} 1\n');
      expect(text).to.include('switchboard_time_to_human_seconds_sum{channel="chat"} 30\n');
      expect(text).to.include('switchboard_time_to_human_seconds_bucket{le="20",channel="chat"} 0\n');
      expect(text).to.include('switchboard_time_to_human_seconds_bucket{le="30",channel="chat"} 1\n');
    });

    it('route labels are templates, never ids', async () => {
      const h = sb();
      await h.admin.get('/api/agents/ag_secret123').expect(404);
      const { agent } = await h.createAgent('Ada');
      await h.admin.get(`/api/agents/${agent.id}`).expect(200);
      const text = (await h.http().get('/metrics').expect(200)).text;
      expect(text).to.include('route="/api/agents/:id",status="200"');
      expect(text).to.not.include(agent.id);
      expect(text).to.not.include('ag_secret123');
    });
  });

  describe('GET /rights', () => {
    it('HTML by default, with the configured limits', async () => {
      const res = await sb().http().get('/rights').expect(200);
      expect(res.headers['content-type']).to.match(/^text\/html/);
      expect(res.text).to.include('<h1>Your rights as our customer</h1>');
      expect(res.text).to.include('<li id="person-answers"><h2>A person answers</h2>');
      expect(res.text).to.include('whole team after 120 s; nobody waits past 600 s');
      expect(res.text).to.include('hold text: &quot;Please hold; you keep your place.&quot;');
    });

    it('JSON with Accept: application/json: eight rights and the live figures', async () => {
      const res = await sb().http().get('/rights').set('Accept', 'application/json').expect(200);
      expect(res.headers['content-type']).to.match(/^application\/json/);
      expect(res.body.rights.map((r: { id: string }) => r.id)).to.deep.equal([
        'person-answers',
        'not-bounced',
        'honest-wait',
        'your-channel',
        'ask-once',
        'no-adverts',
        'follow-up',
        'your-data',
      ]);
      expect(res.body.rights[0].figure).to.equal(
        'time to a human: median no data yet, 90th percentile no data yet (0 conversations, last 24 h)',
      );
      expect(res.body.figures.waiting).to.equal(0);
      expect(res.body.figures.timeToHumanSeconds).to.deep.equal({ p50: null, p90: null, samples: 0 });
    });
  });

  describe('static pages', () => {
    it('GET / is the demo page with the widget', async () => {
      const res = await sb().http().get('/').expect(200);
      expect(res.headers['content-type']).to.match(/^text\/html/);
      expect(res.text).to.include('widget.js');
    });

    it('GET /widget.js is JavaScript anyone may load', async () => {
      const res = await sb().http().get('/widget.js').expect(200);
      expect(res.headers['content-type']).to.match(/^application\/javascript/);
      expect(res.headers['access-control-allow-origin']).to.equal('*');
      expect(res.headers['x-content-type-options']).to.equal('nosniff');
      expect(res.text.length).to.be.greaterThan(100);
    });

    it('GET /console is the web console page', async () => {
      const res = await sb().http().get('/console').expect(200);
      expect(res.headers['content-type']).to.match(/^text\/html/);
      expect(res.headers['referrer-policy']).to.equal('no-referrer');
      // No other site may frame the agents' console (clickjacking).
      expect(res.headers['content-security-policy']).to.equal("frame-ancestors 'none'");
      expect(res.headers['x-frame-options']).to.equal('DENY');
      expect(res.text).to.match(/<html/i);
    });

    it('the console script and styles are served with their types', async () => {
      const js = await sb().http().get('/console/console.js').expect(200);
      expect(js.headers['content-type']).to.match(/^application\/javascript/);
      const css = await sb().http().get('/console/console.css').expect(200);
      expect(css.headers['content-type']).to.match(/^text\/css/);
    });
  });

  describe('/api authentication', () => {
    it('401 without a token', async () => {
      expectError(await sb().http().get('/api/agents'), 401, 'unauthorized');
    });

    it('401 with a wrong token', async () => {
      const h = sb();
      expectError(
        await h.http().get('/api/agents').set('Authorization', 'Bearer wrong-token'),
        401,
        'unauthorized',
      );
      expectError(
        await h.http().get('/api/agents').set('Authorization', `Bearer ${ADMIN_TOKEN}x`),
        401,
        'unauthorized',
      );
      expectError(await h.http().get('/api/agents').set('Authorization', ADMIN_TOKEN), 401, 'unauthorized');
    });

    it('401 before the body is read: a write without a token changes nothing', async () => {
      const h = sb();
      expectError(await h.http().post('/api/agents').send({ name: 'Mallory' }), 401, 'unauthorized');
      expect((await h.admin.get('/api/agents').expect(200)).body).to.deep.equal({ agents: [] });
    });

    it('an unknown /api route → 404 in the error shape', async () => {
      expectError(await sb().admin.get('/api/nothing-here'), 404, 'not_found');
    });
  });

  describe('/api/agents', () => {
    it('POST → 201 {agent, token}; the token opens the web console as that agent', async () => {
      const h = sb();
      const res = await h.admin
        .post('/api/agents')
        .send({ name: 'Ada', skills: { billing: 3 }, capacity: { chat: 2 }, email: 'ada@example.com' })
        .expect(201);
      expect(Object.keys(res.body).sort()).to.deep.equal(['agent', 'token']);
      const { agent, token } = res.body;
      expect(agent.name).to.equal('Ada');
      expect(agent.skills).to.deep.equal({ billing: 3 });
      expect(agent.capacity).to.deep.equal({ voice: 1, sms: 3, chat: 2, email: 5 });
      expect(agent.load).to.deep.equal({ voice: 0, sms: 0, chat: 0, email: 0 });
      expect(agent.status).to.equal('offline');
      expect(agent.email).to.equal('ada@example.com');
      expect(agent.createdAt).to.equal(h.clock.now());
      expect(token).to.equal(h.sb.tokens.sign('agent', agent.id));

      const socket = h.agentSocket(token);
      const hello = await once(socket, 'hello');
      expect(hello.agent.id).to.equal(agent.id);
    });

    it('GET list and one', async () => {
      const h = sb();
      const a = (await h.admin.post('/api/agents').send({ name: 'Ada' }).expect(201)).body.agent;
      const b = (await h.admin.post('/api/agents').send({ name: 'Grace' }).expect(201)).body.agent;
      const list = await h.admin.get('/api/agents').expect(200);
      expect(list.body.agents.map((x: { id: string }) => x.id).sort()).to.deep.equal([a.id, b.id].sort());
      const one = await h.admin.get(`/api/agents/${b.id}`).expect(200);
      expect(one.body).to.deep.equal({ agent: b });
    });

    it('PATCH changes only what is given; capacity merges', async () => {
      const h = sb();
      const a = (
        await h.admin
          .post('/api/agents')
          .send({ name: 'Ada', skills: { billing: 3 }, capacity: { chat: 2 } })
          .expect(201)
      ).body.agent;
      const res = await h.admin
        .patch(`/api/agents/${a.id}`)
        .send({ name: 'Ada L.', capacity: { email: 9 } })
        .expect(200);
      expect(res.body.agent.name).to.equal('Ada L.');
      expect(res.body.agent.capacity).to.deep.equal({ voice: 1, sms: 3, chat: 2, email: 9 });
      expect(res.body.agent.skills).to.deep.equal({ billing: 3 });
      expect((await h.admin.get(`/api/agents/${a.id}`).expect(200)).body.agent.name).to.equal('Ada L.');
      // Linking Slack (as the README's setup does) changes nothing else: skills and capacity stay.
      const linked = await h.admin
        .patch(`/api/agents/${a.id}`)
        .send({ slackUserId: 'U0123ABCD' })
        .expect(200);
      expect(linked.body.agent).to.deep.equal({ ...res.body.agent, slackUserId: 'U0123ABCD' });
      expect((await h.admin.get(`/api/agents/${a.id}`).expect(200)).body.agent).to.deep.equal(
        linked.body.agent,
      );
      // null takes a console address away (an agent who left Slack); the name cannot be taken away.
      const unlinked = await h.admin.patch(`/api/agents/${a.id}`).send({ slackUserId: null }).expect(200);
      expect(unlinked.body.agent).to.deep.equal(res.body.agent);
      expectError(
        await h.admin.patch(`/api/agents/${a.id}`).send({ name: null }),
        400,
        'invalid_input',
        'name',
      );
    });

    it('PUT status sets available, away (with reason) and offline', async () => {
      const h = sb();
      const a = (await h.admin.post('/api/agents').send({ name: 'Ada' }).expect(201)).body.agent;
      const up = await h.admin.put(`/api/agents/${a.id}/status`).send({ status: 'available' }).expect(200);
      expect(up.body.agent.status).to.equal('available');
      const away = await h.admin
        .put(`/api/agents/${a.id}/status`)
        .send({ status: 'away', reason: 'lunch' })
        .expect(200);
      expect(away.body.agent.status).to.equal('away');
      expect(away.body.agent.statusReason).to.equal('lunch');
      const off = await h.admin.put(`/api/agents/${a.id}/status`).send({ status: 'offline' }).expect(200);
      expect(off.body.agent.status).to.equal('offline');
    });

    it('400 naming the field for bad bodies', async () => {
      const h = sb();
      expectError(
        await h.admin.post('/api/agents').send({ name: 'Ada', capacity: { chat: -1 } }),
        400,
        'invalid_input',
        'capacity.chat',
      );
      expectError(await h.admin.post('/api/agents').send({}), 400, 'invalid_input', 'name');
      expectError(await h.admin.post('/api/agents').send({ name: '   ' }), 400, 'invalid_input', 'name');
      expectError(
        await h.admin.post('/api/agents').send({ name: 'Ada', skills: { 'bad skill!': 3 } }),
        400,
        'invalid_input',
        'skills.bad skill!',
      );
      const a = (await h.admin.post('/api/agents').send({ name: 'Ada' }).expect(201)).body.agent;
      expectError(
        await h.admin.put(`/api/agents/${a.id}/status`).send({ status: 'busy' }),
        400,
        'invalid_input',
        'status',
      );
      const noStatus = await h.admin.put(`/api/agents/${a.id}/status`).send({});
      expectError(noStatus, 400, 'invalid_input', 'status');
      // Left out, said so: not as the values it may take.
      expect(noStatus.body.error.message).to.equal('status change: status: is required');
      expectError(
        await h.admin.patch(`/api/agents/${a.id}`).send({ capacity: { voice: 101 } }),
        400,
        'invalid_input',
        'capacity.voice',
      );
      expect((await h.admin.get('/api/agents').expect(200)).body.agents).to.have.length(1);
    });

    it('400 for what would be stored and never work: a misspelt field or channel, a bad phone, email, Slack or Twilio id', async () => {
      const h = sb();
      const bad: Array<[Record<string, unknown>, string, RegExp]> = [
        [{ name: 'Bo', capacity: { fax: 2 } }, 'capacity.fax', /not a known field/],
        [{ name: 'Bo', skils: { billing: 3 } }, 'skils', /not a known field/],
        [{ name: 'Bo', phone: '12' }, 'phone', /not a phone number/],
        [{ name: 'Bo', email: 'not-an-email' }, 'email', /not an email address/],
        [{ name: 'Bo', slackUserId: 'ada.lovelace' }, 'slackUserId', /Slack member ID/],
        [{ name: 'Bo', clientIdentity: 'ada lovelace' }, 'clientIdentity', /Twilio Client identity/],
      ];
      for (const [body, field, message] of bad) {
        const res = await h.admin.post('/api/agents').send(body);
        expectError(res, 400, 'invalid_input', field);
        expect(res.body.error.message, field).to.match(message);
      }
      expect((await h.admin.get('/api/agents').expect(200)).body.agents).to.deep.equal([]);

      // Good values are kept in their usual form: the phone in E.164, the email in lower case.
      const bo = (
        await h.admin
          .post('/api/agents')
          .send({
            name: 'Bo',
            phone: '(415) 555-0199',
            email: ' Bo@Example.COM ',
            slackUserId: 'U0BO00001',
            clientIdentity: 'bo_desk',
          })
          .expect(201)
      ).body.agent;
      expect([bo.phone, bo.email, bo.slackUserId, bo.clientIdentity]).to.deep.equal([
        '+14155550199',
        'bo@example.com',
        'U0BO00001',
        'bo_desk',
      ]);
      // The same rules on PATCH, which changes nothing when it refuses.
      expectError(
        await h.admin.patch(`/api/agents/${bo.id}`).send({ phone: 'call me' }),
        400,
        'invalid_input',
        'phone',
      );
      expectError(
        await h.admin.patch(`/api/agents/${bo.id}`).send({ id: 'ag_other' }),
        400,
        'invalid_input',
        'id',
      );
      const patched = await h.admin
        .patch(`/api/agents/${bo.id}`)
        .send({ phone: '+1 415 555 0100' })
        .expect(200);
      expect(patched.body.agent.phone).to.equal('+14155550100');
      expect((await h.admin.get(`/api/agents/${bo.id}`).expect(200)).body.agent.email).to.equal(
        'bo@example.com',
      );
    });

    it('400 invalid_json for malformed JSON', async () => {
      const h = sb();
      const res = await h.admin
        .post('/api/agents')
        .set('Content-Type', 'application/json')
        .send('{"name": "Ada",');
      expectError(res, 400, 'invalid_json');
      expect(res.body.error.message).to.equal('the body is not valid JSON');
      // JSON, but not an object: said so.
      const nothing = await h.admin.post('/api/agents').set('Content-Type', 'application/json').send('null');
      expectError(nothing, 400, 'invalid_json');
      expect(nothing.body.error.message).to.equal('the body must be a JSON object');
      expect((await h.admin.get('/api/agents').expect(200)).body.agents).to.deep.equal([]);
    });

    it('415 for a body that is not JSON (a form, plain text), naming the Content-Type to send', async () => {
      const h = sb();
      const text = await h.admin
        .post('/api/agents')
        .set('Content-Type', 'text/plain')
        .send('{"name": "Ada"}');
      expectError(text, 415, 'unsupported_media_type');
      expect(text.body.error.message).to.equal(
        'the body must be JSON, sent with Content-Type: application/json (it came as text/plain)',
      );
      const form = await h.admin.post('/api/agents').type('form').send({ name: 'Ada' });
      expectError(form, 415, 'unsupported_media_type');
      expect((await h.admin.get('/api/agents').expect(200)).body.agents).to.deep.equal([]);
      // No body at all is not refused for its type: POST /api/agents/:id/token takes none.
      const { agent } = await h.createAgent('Ada');
      await h.admin.post(`/api/agents/${agent.id}/token`).expect(200);
    });

    it('405 with Allow for a path the API has, asked with a method it does not take; 404 for a path it has not', async () => {
      const h = sb();
      const { agent } = await h.createAgent('Ada');
      const put = await h.admin.put(`/api/agents/${agent.id}`).send({ name: 'Ada L.' });
      expectError(put, 405, 'method_not_allowed');
      expect(put.headers.allow).to.equal('DELETE, GET, HEAD, PATCH');
      expect(put.body.error.message).to.equal(
        `PUT /agents/${agent.id}: this path takes DELETE, GET, HEAD, PATCH`,
      );
      expect((await h.admin.get(`/api/agents/${agent.id}`).expect(200)).body.agent.id).to.equal(agent.id);
      const none = await h.admin.get('/api/nowhere');
      expectError(none, 404, 'not_found');
      expect(none.body.error.message).to.equal('no route GET /nowhere');
    });

    it('413 too_large for a body over 64 kB; 400 for a body that is not an object', async () => {
      const h = sb();
      const big = await h.admin.post('/api/agents').send({ name: 'Ada', email: 'x'.repeat(70 * 1024) });
      expectError(big, 413, 'too_large');
      const list = await h.admin.post('/api/agents').send(['Ada']);
      expectError(list, 400, 'invalid_input');
      expect((await h.admin.get('/api/agents').expect(200)).body.agents).to.deep.equal([]);
    });

    it('a field a route does not know is refused by its name, not dropped (a typo loses nothing quietly)', async () => {
      const h = sb();
      const { agent } = await h.createAgent('Ada', {});
      const status = await h.admin
        .put(`/api/agents/${agent.id}/status`)
        .send({ status: 'away', reson: 'lunch' });
      expectError(status, 400, 'invalid_input', 'reson');
      expect((await h.admin.get(`/api/agents/${agent.id}`).expect(200)).body.agent.status).not.to.equal(
        'away',
      );
      const replies = await h.admin
        .put('/api/saved-replies')
        .send({ savedReplies: [{ name: 'Hi', text: 'Hello {name}', tag: 'greeting' }] });
      expectError(replies, 400, 'invalid_input', 'savedReplies.0.tag');
      const none = await h.admin.put('/api/saved-replies').send({});
      expectError(none, 400, 'invalid_input', 'savedReplies');
      expect(none.body.error.message).to.equal('saved replies: savedReplies: is required');
      const handoff = await h.admin
        .post('/api/conversations/cv_any/handoff')
        .send({ toAgentId: agent.id, note: 'n', urgent: true });
      expectError(handoff, 400, 'invalid_input', 'urgent');
    });

    it("an agent's name, which customers see, loses control characters and bidi overrides; none left is refused", async () => {
      const h = sb();
      const res = await h.admin.post('/api/agents').send({ name: 'Bad\u202Egnp.exe' }).expect(201);
      expect(res.body.agent.name).to.equal('Badgnp.exe');
      const patched = await h.admin
        .patch(`/api/agents/${res.body.agent.id}`)
        .send({ name: 'Ada\u0007' })
        .expect(200);
      expect(patched.body.agent.name).to.equal('Ada');
      expectError(
        await h.admin.post('/api/agents').send({ name: '\u202E\u2066' }),
        400,
        'invalid_input',
        'name',
      );
    });

    it('404 for unknown agent ids', async () => {
      const h = sb();
      const get = await h.admin.get('/api/agents/ag_missing');
      expectError(get, 404, 'not_found');
      expect(get.body.error.message).to.equal('agent ag_missing does not exist');
      expectError(await h.admin.patch('/api/agents/ag_missing').send({ name: 'X' }), 404, 'not_found');
      expectError(
        await h.admin.put('/api/agents/ag_missing/status').send({ status: 'available' }),
        404,
        'not_found',
      );
      expectError(await h.admin.post('/api/agents/ag_missing/token'), 404, 'not_found');
      const listed = await h.admin.get('/api/conversations?agent=ag_missing');
      expectError(listed, 404, 'not_found');
      expect(listed.body.error.message).to.equal('agent ag_missing does not exist');
    });

    it('POST /api/agents/:id/token → {agent, token}: a new console link, changing nothing else; 401 without the admin token', async () => {
      const h = sb();
      const { agent } = await h.createAgent('Ada', { skills: { billing: 3 } });
      await h.http().post(`/api/agents/${agent.id}/token`).expect(401);
      const res = await h.admin.post(`/api/agents/${agent.id}/token`).expect(200);
      expect(Object.keys(res.body).sort()).to.deep.equal(['agent', 'token']);
      expect(res.body.agent).to.deep.equal({ ...agent, tokenVersion: 1 });
      expect(res.body.token).to.equal(h.sb.tokens.sign('agent', `${agent.id}:1`));
      expect((await h.admin.get(`/api/agents/${agent.id}`).expect(200)).body.agent.tokenVersion).to.equal(1);
      // What an admin patches keeps the version (it is not a profile field anyone sends).
      const patched = await h.admin.patch(`/api/agents/${agent.id}`).send({ name: 'Ada L.' }).expect(200);
      expect(patched.body.agent.tokenVersion).to.equal(1);
      expectError(
        await h.admin.patch(`/api/agents/${agent.id}`).send({ tokenVersion: 0 }),
        400,
        'invalid_input',
        'tokenVersion',
      );
    });
  });

  describe('/api/conversations and /api/customers', () => {
    it('GET conversations filters by status', async () => {
      const h = sb();
      const first = await visitorWrites(h, 'first');
      await h.createAgent('Ada', { capacity: { chat: 1 } });
      const second = await visitorWrites(h, 'second');

      const all = await h.admin.get('/api/conversations').expect(200);
      expect(all.body.conversations.map((c: { id: string }) => c.id).sort()).to.deep.equal(
        [first.conversationId, second.conversationId].sort(),
      );
      const assigned = await h.admin.get('/api/conversations?status=assigned').expect(200);
      expect(assigned.body.conversations.map((c: { id: string }) => c.id)).to.deep.equal([
        first.conversationId,
      ]);
      const queued = await h.admin.get('/api/conversations?status=queued').expect(200);
      expect(queued.body.conversations.map((c: { id: string }) => c.id)).to.deep.equal([
        second.conversationId,
      ]);
      const resolved = await h.admin.get('/api/conversations?status=resolved').expect(200);
      expect(resolved.body.conversations).to.deep.equal([]);
      expectError(await h.admin.get('/api/conversations?status=bogus'), 400, 'invalid_input', 'status');
      expectError(await h.admin.get('/api/conversations?limit=0'), 400, 'invalid_input', 'limit');
      const limited = await h.admin.get('/api/conversations?limit=1').expect(200);
      expect(limited.body.conversations).to.have.length(1);
    });

    it('GET conversations pages back with before=<next>, each once; filters by agent; refuses what it does not know', async () => {
      const h = sb();
      const { agent } = await h.createAgent('Ada', { capacity: { chat: 2 } });
      const made: string[] = [];
      for (let i = 1; i <= 5; i++) {
        made.push((await visitorWrites(h, `visitor ${i}`)).conversationId);
        h.clock.advance(SECOND);
      }
      const seen: string[] = [];
      let path = '/api/conversations?limit=2';
      for (let pages = 0; pages < 5; pages++) {
        const page = (await h.admin.get(path).expect(200)).body;
        seen.unshift(...page.conversations.map((c: { id: string }) => c.id));
        if (!page.next) break;
        expect(page.next).to.equal(page.conversations[0].id);
        path = `/api/conversations?limit=2&before=${page.next}`;
      }
      expect(seen).to.deep.equal(made);
      // Ada has the first two (her chat capacity), the others wait.
      const hers = (await h.admin.get(`/api/conversations?agent=${agent.id}`).expect(200)).body;
      expect(hers.conversations.map((c: { id: string }) => c.id)).to.deep.equal(made.slice(0, 2));
      expect(hers).to.not.have.property('next');
      expectError(await h.admin.get('/api/conversations?before=cv_nobody'), 400, 'invalid_input', 'before');
      // A misspelt filter is refused by name, not dropped (which would list every conversation).
      const typo = await h.admin.get('/api/conversations?stauts=queued');
      expectError(typo, 400, 'invalid_input', 'stauts');
    });

    it('GET one conversation with its messages and ownership history', async () => {
      const h = sb();
      const { conversationId, customerId } = await visitorWrites(h, 'my order is late');
      h.clock.advance(10 * SECOND);
      const { agent } = await h.createAgent('Ada');
      const res = await h.admin.get(`/api/conversations/${conversationId}`).expect(200);
      expect(res.body.conversation.id).to.equal(conversationId);
      expect(res.body.conversation.status).to.equal('assigned');
      expect(res.body.conversation.ownerId).to.equal(agent.id);
      expect(res.body.customer.id).to.equal(customerId);
      expect(
        res.body.messages.map((m: { text: string; direction: string }) => [m.direction, m.text]),
      ).to.deep.equal([['in', 'my order is late']]);
      expect(res.body.ownership).to.deep.equal([
        { from: null, to: agent.id, reason: 'routed', at: h.clock.now() },
      ]);
      expect(res.body.conversation.ownership).to.deep.equal(res.body.ownership);
      expect(res.body.promises).to.deep.equal([]);
      expectError(await h.admin.get('/api/conversations/cv_missing'), 404, 'not_found');
    });

    it('GET customer with their conversations; 404 for an unknown one', async () => {
      const h = sb();
      const { conversationId, customerId } = await visitorWrites(h);
      const res = await h.admin.get(`/api/customers/${customerId}`).expect(200);
      expect(res.body.customer.id).to.equal(customerId);
      expect(res.body.customer.identities).to.have.length(1);
      expect(res.body.customer.identities[0].channel).to.equal('chat');
      expect(res.body.conversations.map((c: { id: string }) => c.id)).to.deep.equal([conversationId]);
      const missing = await h.admin.get('/api/customers/cu_missing');
      expectError(missing, 404, 'not_found');
      expect(missing.body.error.message).to.equal('customer cu_missing does not exist');
    });

    it('GET /api/customers finds who has a phone number, email address or visitor id, as customers write them', async () => {
      const h = sb();
      const { conversationId, customerId } = await visitorWrites(h);
      const visitorId = (await h.admin.get(`/api/customers/${customerId}`).expect(200)).body.customer
        .identities[0].address;
      // The visitor gives their email in the pre-chat form: found by it in any case, and by their visitor id.
      await h.sb.router.identify(customerId, { email: 'mary@example.com' }, 'chat:prechat');
      const byEmail = await h.admin.get('/api/customers').query({ email: 'MARY@example.com' }).expect(200);
      expect(byEmail.body.customer.id).to.equal(customerId);
      expect(byEmail.body.conversations.map((c: { id: string }) => c.id)).to.deep.equal([conversationId]);
      const byVisitor = await h.admin.get('/api/customers').query({ visitor: visitorId }).expect(200);
      expect(byVisitor.body.customer.id).to.equal(customerId);
      // A texter, found by their number however it is written.
      const texted = await h.sb.router.contact({
        channel: 'sms',
        from: '+14155550142',
        text: 'hi',
        externalId: 'SM00000000000000000000000000000042',
      });
      const byPhone = await h.admin.get('/api/customers').query({ phone: '(415) 555-0142' }).expect(200);
      expect(byPhone.body.customer.id).to.equal(texted.customer.id);

      const nobody = await h.admin.get('/api/customers').query({ email: 'nobody@example.com' });
      expectError(nobody, 404, 'not_found');
      expect(nobody.body.error.message).to.equal('customer email:nobody@example.com does not exist');
      const bad = await h.admin.get('/api/customers').query({ phone: 'call me' });
      expectError(bad, 400, 'invalid_input', 'phone');
      expect(bad.body.error).to.include({
        field: 'phone',
        message: 'phone: "call me" is not a phone number',
      });
      expectError(await h.admin.get('/api/customers'), 400, 'invalid_input');
      expectError(
        await h.admin.get('/api/customers').query({ email: 'a@b.co', phone: '+14155550142' }),
        400,
        'invalid_input',
      );
      const unknown = await h.admin.get('/api/customers').query({ emial: 'a@b.co' });
      expectError(unknown, 400, 'invalid_input', 'emial');
      await h.http().get('/api/customers').query({ email: 'a@b.co' }).expect(401);
    });

    it('POST merge folds one customer into another', async () => {
      const h = sb();
      const a = await visitorWrites(h, 'from laptop');
      const v2 = h.visitor();
      const s2 = await once(v2, 'session');
      expect((await emitAck(v2, 'identify', { name: 'Ada', email: 'ada@example.com' })).ok).to.equal(true);

      const res = await h.admin
        .post(`/api/customers/${a.customerId}/merge`)
        .send({ otherCustomerId: s2.customerId })
        .expect(200);
      expect(res.body.customer.id).to.equal(a.customerId);
      expect(res.body.customer.name).to.equal('Ada');
      expect(res.body.customer.facts.email.value).to.equal('ada@example.com');
      expect(res.body.customer.facts.email.source).to.equal('chat:prechat');
      expect(res.body.customer.identities.map((i: { channel: string }) => i.channel).sort()).to.deep.equal([
        'chat',
        'chat',
        'email',
      ]);
      const after = await h.admin.get(`/api/customers/${a.customerId}`).expect(200);
      expect(after.body.customer.facts.name.value).to.equal('Ada');

      expectError(
        await h.admin.post(`/api/customers/${a.customerId}/merge`).send({}),
        400,
        'invalid_input',
        'otherCustomerId',
      );
      expectError(
        await h.admin.post(`/api/customers/${a.customerId}/merge`).send({ otherCustomerId: a.customerId }),
        400,
        'invalid_input',
        'otherCustomerId',
      );
      expectError(
        await h.admin.post(`/api/customers/${a.customerId}/merge`).send({ otherCustomerId: 'cu_missing' }),
        404,
        'not_found',
      );
      expectError(
        await h.admin.post('/api/customers/cu_missing/merge').send({ otherCustomerId: a.customerId }),
        404,
        'not_found',
      );
    });

    it('POST block closes what is open and refuses what they send; DELETE lifts it', async () => {
      const h = sb();
      const a = await visitorWrites(h, 'first');
      const res = await h.admin
        .post(`/api/customers/${a.customerId}/block`)
        .send({ reason: 'fraud attempts' })
        .expect(200);
      expect(res.body.customer.blocked).to.include({ by: 'admin', reason: 'fraud attempts' });
      expect(res.body.closed.map((c: { id: string; status: string }) => [c.id, c.status])).to.deep.equal([
        [a.conversationId, 'abandoned'],
      ]);
      const after = await h.admin.get(`/api/customers/${a.customerId}`).expect(200);
      expect(after.body.customer.blocked.reason).to.equal('fraud attempts');
      expect(after.body.customer.notes.at(-1).text).to.equal('blocked by the admin: fraud attempts');

      // Refusals name the field; nothing changes.
      expectError(
        await h.admin.post(`/api/customers/${a.customerId}/block`).send({ reason: 'x'.repeat(501) }),
        400,
        'invalid_input',
        'reason',
      );
      expectError(
        await h.admin.post(`/api/customers/${a.customerId}/block`).send({ why: 'x' }),
        400,
        'invalid_input',
        'why',
      );
      expectError(await h.admin.post('/api/customers/cu_missing/block').send({}), 404, 'not_found');
      await h.http().post(`/api/customers/${a.customerId}/block`).send({}).expect(401);

      // The blocked customers, the latest blocked first.
      const b = await visitorWrites(h, 'second');
      h.clock.advance(1000);
      await h.admin.post(`/api/customers/${b.customerId}/block`).send({ reason: 'spam' }).expect(200);
      const listed = await h.admin.get('/api/customers/blocked').expect(200);
      expect(listed.body.customers.map((c: { id: string }) => c.id)).to.deep.equal([
        b.customerId,
        a.customerId,
      ]);
      const one = await h.admin.get('/api/customers/blocked').query({ limit: 1 }).expect(200);
      expect(one.body.customers.map((c: { id: string }) => c.id)).to.deep.equal([b.customerId]);
      expectError(
        await h.admin.get('/api/customers/blocked').query({ limit: 0 }),
        400,
        'invalid_input',
        'limit',
      );
      await h.admin.delete(`/api/customers/${b.customerId}/block`).expect(200);

      const lifted = await h.admin.delete(`/api/customers/${a.customerId}/block`).expect(200);
      expect(lifted.body.customer.blocked).to.equal(undefined);
      expect(lifted.body.customer.notes.at(-1).text).to.equal('unblocked by the admin');
      // Without a body, a block with no reason.
      const again = await h.admin.post(`/api/customers/${a.customerId}/block`).expect(200);
      expect(again.body.customer.blocked.reason).to.equal('');
      expect(again.body.closed).to.deep.equal([]);
      expectError(await h.admin.delete('/api/customers/cu_missing/block'), 404, 'not_found');
      expect((await h.admin.get('/api/customers/blocked').expect(200)).body.customers).to.have.length(1);
    });
  });

  describe('GET /api/stats', () => {
    it('an empty centre', async () => {
      const h = sb();
      const res = await h.admin.get('/api/stats').expect(200);
      expect(res.body.waiting).to.equal(0);
      expect(res.body.agents).to.deep.equal({ available: 0, away: 0, offline: 0 });
      expect(res.body.timeToHumanSeconds).to.deep.equal({ p50: null, p90: null, samples: 0 });
      expect(res.body.ownershipChanges).to.deep.equal({ total: 0, byReason: {} });
      expect(res.body.promises).to.deep.equal({ kept: 0, broken: 0, open: 0, keptShare: null });
    });

    it('waiting, agents by status, time to a human p50/p90, ownership changes, promises kept/broken', async () => {
      const h = sb();
      // One waits 10 s for Ada; two waits 20 s for Grace; three waits 600 s, past its 553 s quote.
      const one = await visitorWrites(h, 'one');
      const { agent: ada, token: adaToken } = await h.createAgent('Ada', {
        status: 'away',
        capacity: { chat: 1 },
      });
      h.clock.advance(10 * SECOND);
      await h.admin.put(`/api/agents/${ada.id}/status`).send({ status: 'available' }).expect(200);
      const two = await visitorWrites(h, 'two');
      h.clock.advance(20 * SECOND);
      const { agent: grace, token: graceToken } = await h.createAgent('Grace', { capacity: { chat: 1 } });
      const three = await visitorWrites(h, 'three');
      await h.createAgent('Linus', { status: 'offline' });

      let stats = (await h.admin.get('/api/stats').expect(200)).body;
      expect(stats.waiting).to.equal(1);
      expect(stats.waitingByChannel).to.deep.equal({ voice: 0, sms: 0, chat: 1, email: 0 });
      expect(stats.agents).to.deep.equal({ available: 2, away: 0, offline: 1 });
      expect(stats.timeToHumanSeconds).to.deep.equal({ p50: 10, p90: 20, samples: 2 });
      expect(stats.ownershipChanges).to.deep.equal({ total: 0, byReason: {} });
      // Two's quote (made while it waited) was kept; three's is open.
      expect(stats.promises).to.deep.equal({ kept: 1, broken: 0, open: 1, keptShare: 1 });
      expect(stats.conversations).to.deep.equal({ queued: 1, assigned: 2, resolved: 0, abandoned: 0 });

      const adaSocket = h.agentSocket(adaToken);
      const graceSocket = h.agentSocket(graceToken);
      await once(adaSocket, 'hello');
      await once(graceSocket, 'hello');
      h.clock.advance(600 * SECOND);
      // Before its quote broke, three was told, with a new honest time (a second quote).
      await h.sb.router.tick();
      // Grace frees up and takes three, past its first quote; Ada frees up; Grace hands three to Ada.
      expect(await emitAck(graceSocket, 'resolve', { conversationId: two.conversationId })).to.deep.equal({
        ok: true,
      });
      expect(await emitAck(adaSocket, 'resolve', { conversationId: one.conversationId })).to.deep.equal({
        ok: true,
      });
      expect(
        await emitAck(graceSocket, 'handoff', {
          conversationId: three.conversationId,
          toAgentId: ada.id,
          note: 'billing',
        }),
      ).to.deep.equal({ ok: true });
      expect(
        await emitAck(adaSocket, 'handoff.accept', { conversationId: three.conversationId }),
      ).to.deep.equal({
        ok: true,
      });

      stats = (await h.admin.get('/api/stats').expect(200)).body;
      expect(stats.waiting).to.equal(0);
      expect(stats.agents).to.deep.equal({ available: 2, away: 0, offline: 1 });
      expect(stats.timeToHumanSeconds).to.deep.equal({ p50: 20, p90: 600, samples: 3 });
      expect(stats.ownershipChanges).to.deep.equal({ total: 1, byReason: { handoff: 1 } });
      // Two's quote and three's revised one kept, three's first one broken.
      expect(stats.promises).to.deep.equal({ kept: 2, broken: 1, open: 0, keptShare: 2 / 3 });
      expect(stats.conversations).to.deep.equal({ queued: 0, assigned: 1, resolved: 2, abandoned: 0 });
      const conv = (await h.admin.get(`/api/conversations/${three.conversationId}`).expect(200)).body;
      expect(conv.conversation.ownerId).to.equal(ada.id);
      expect(
        conv.ownership.map((o: { from: string | null; to: string; reason: string }) => [
          o.from,
          o.to,
          o.reason,
        ]),
      ).to.deep.equal([
        [null, grace.id, 'routed'],
        [grace.id, ada.id, 'handoff'],
      ]);

      const metrics = (await h.http().get('/metrics').expect(200)).text;
      expect(metrics).to.include('switchboard_ownership_changes_total{reason="handoff"} 1\n');
      expect(metrics).to.include('switchboard_promises_total{kind="wait",outcome="kept"} 2\n');
      expect(metrics).to.include('switchboard_promises_total{kind="wait",outcome="broken"} 1\n');
      expect(metrics).to.include('switchboard_time_to_human_seconds_count{channel="chat"} 3\n');
      expect(metrics).to.include('switchboard_time_to_human_seconds_sum{channel="chat"} 630\n');
    });
  });
});
