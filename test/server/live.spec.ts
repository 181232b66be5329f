// The team's live view, GET /api/live, through the real express app: what waits and for whom, what each
// customer was told, the agents' status and load, and a process reading it at most once a second.
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { emitAck, type Harness, type Json, once, SECOND, useHarness } from './harness.js';

/** A chat visitor writes; their socket stays open to write again. */
async function visitor(h: Harness, text: string): Promise<{ socket: Socket; conversationId: string }> {
  const socket = h.visitor();
  await once(socket, 'session');
  const ack = await emitAck(socket, 'message', { text, clientMessageId: `${text}-1` });
  expect(ack.ok).to.equal(true);
  return { socket, conversationId: ack.conversationId };
}

const live = async (h: Harness): Promise<Json> => (await h.admin.get('/api/live').expect(200)).body;
const only = (chat: number, email = 0) => ({ voice: 0, sms: 0, chat, email });

describe('GET /api/live (the team view)', () => {
  const sb = useHarness();

  it('401 without the admin token, in the error shape', async () => {
    const res = await sb().http().get('/api/live').expect(401);
    expect(res.body.error.code).to.equal('unauthorized');
  });

  it('what waits, for whom and for how long, what each was told, and every agent', async () => {
    const h = sb();
    const { agent: ada } = await h.createAgent('Ada', { capacity: only(1) });
    const { agent: grace } = await h.createAgent('Grace', { status: 'away', capacity: only(2) });
    const { agent: ken } = await h.createAgent('Ken', { capacity: only(0, 1) });
    await h.createAgent('Linus', { status: 'offline' });

    const one = await visitor(h, 'one');
    expect((await emitAck(one.socket, 'identify', { name: 'Mia Jones' })).ok).to.equal(true);
    h.clock.advance(5 * SECOND);
    const two = await visitor(h, 'two');
    const twoSince = h.clock.now();
    h.clock.advance(90 * SECOND);

    let view = await live(h);
    expect(view.at).to.equal(h.clock.now());
    // No opening hours set: nothing said about them.
    expect(view.hours).to.equal(null);
    expect(view.waitingTotal).to.equal(1);
    expect(view.channels.chat).to.deep.equal({
      on: true,
      waiting: 1,
      longestWaitSeconds: 90,
      agentsFree: 0,
      freeSlots: 0,
      inProgress: 1,
    });
    // Email is not set up here: said so, for the page to leave it out (its figures still stand).
    expect(view.channels.email).to.deep.equal({
      on: false,
      waiting: 0,
      longestWaitSeconds: null,
      agentsFree: 1,
      freeSlots: 1,
      inProgress: 0,
    });
    expect(view.waiting).to.have.length(1);
    const waiting = view.waiting[0];
    expect(waiting).to.include({
      conversationId: two.conversationId,
      customer: `Website visitor ${waiting.customerId.slice(-4)}`,
      channel: 'chat',
      priority: 0,
      waitedSeconds: 90,
      owner: null,
      offeredTo: null,
    });
    // Ada was busy: the customer was told a wait, not yet broken.
    expect(waiting.quoted.late).to.equal(false);
    expect(waiting.quoted.kind).to.equal('wait');
    expect(waiting.quoted.dueAt).to.be.above(h.clock.now());
    // Available first, then away, then offline; Ken (nothing held) idle since he became available.
    expect(view.agents.map((a: Json) => [a.name, a.status, a.holding, a.idleSeconds])).to.deep.equal([
      ['Ada', 'available', 1, null],
      ['Ken', 'available', 0, 95],
      ['Grace', 'away', 0, null],
      ['Linus', 'offline', 0, null],
    ]);
    expect(view.agents[0]).to.deep.include({ id: ada.id, load: only(1), capacity: only(1) });
    expect(view.day.conversations).to.deep.equal({ queued: 1, assigned: 1, resolved: 0, abandoned: 0 });
    expect(view.day.timeToHumanSeconds).to.deep.equal({ p50: 0, p90: 0, samples: 1 });

    // Past the time it was told, nobody having answered: late.
    h.clock.set(waiting.quoted.dueAt + 30 * SECOND);
    view = await live(h);
    expect(view.waiting[0].quoted).to.deep.equal({ dueAt: waiting.quoted.dueAt, kind: 'wait', late: true });

    // Ada steps away and Mia writes again: she waits for Ada (and in line for a colleague to cover).
    await h.admin.put(`/api/agents/${ada.id}/status`).send({ status: 'away', reason: 'lunch' }).expect(200);
    h.clock.advance(10 * SECOND);
    expect(
      (await emitAck(one.socket, 'message', { text: 'still there?', clientMessageId: 'one-2' })).ok,
    ).to.equal(true);
    h.clock.advance(4 * SECOND);
    view = await live(h);
    expect(view.waitingTotal).to.equal(2);
    expect(view.channels.chat.waiting).to.equal(2);
    expect(
      view.waiting.map((w: Json) => [w.conversationId, w.customer, w.waitedSeconds, w.owner]),
    ).to.deep.equal([
      [
        two.conversationId,
        `Website visitor ${waiting.customerId.slice(-4)}`,
        (h.clock.now() - twoSince) / SECOND,
        null,
      ],
      [one.conversationId, 'Mia Jones', 4, { id: ada.id, name: 'Ada', status: 'away' }],
    ]);
    expect(view.agents.find((a: Json) => a.id === ada.id)).to.include({
      status: 'away',
      statusReason: 'lunch',
    });

    // Grace comes back and takes the longest wait; Mia still waits for Ada, her owner, for the sticky wait.
    await h.admin.put(`/api/agents/${grace.id}/status`).send({ status: 'available' }).expect(200);
    h.clock.advance(SECOND);
    view = await live(h);
    expect(view.waiting.map((w: Json) => [w.conversationId, w.owner?.name ?? null])).to.deep.equal([
      [one.conversationId, 'Ada'],
    ]);
    expect(view.channels.chat).to.include({ waiting: 1, longestWaitSeconds: 5, inProgress: 2 });
    expect(view.agents.find((a: Json) => a.id === grace.id)).to.deep.include({ holding: 1, load: only(1) });

    // Ada is back: nobody waits.
    await h.admin.put(`/api/agents/${ada.id}/status`).send({ status: 'available' }).expect(200);
    h.clock.advance(SECOND);
    view = await live(h);
    expect(view.waitingTotal).to.equal(0);
    expect(view.waiting).to.deep.equal([]);
    expect(view.channels.chat).to.deep.equal({
      on: true,
      waiting: 0,
      longestWaitSeconds: null,
      agentsFree: 1,
      freeSlots: 1,
      inProgress: 2,
    });
    expect(view.agents.find((a: Json) => a.id === ken.id).idleSeconds).to.be.above(95);
  });

  it('lists the customers an owner left unanswered when they stepped away or went offline, not those answered', async () => {
    const h = sb();
    const { agent: ada } = await h.createAgent('Ada', { capacity: only(2) });
    const first = await visitor(h, 'my order is late');
    const mia = await visitor(h, 'hello');
    const { agent: ken } = await h.createAgent('Ken', { capacity: only(1) });
    const sam = await visitor(h, 'where is my refund?');
    const seen = (await live(h)).waiting.map((w: Json) => w.conversationId);
    expect(seen).to.deep.equal([]);
    const owners = await Promise.all(
      [first, mia, sam].map(async (v) => (await h.store.getConversation(v.conversationId))!.ownerId),
    );
    expect(owners).to.deep.equal([ada.id, ada.id, ken.id]);
    // Ada answers the first; Mia's hello waits for an answer. Ken answers nobody.
    await h.sb.router.reply(ada.id, first.conversationId, 'Let me look.');
    h.clock.advance(30 * SECOND);

    await h.admin.put(`/api/agents/${ada.id}/status`).send({ status: 'away', reason: 'lunch' }).expect(200);
    await h.admin.put(`/api/agents/${ken.id}/status`).send({ status: 'offline' }).expect(200);
    h.clock.advance(20 * SECOND);
    const view = await live(h);
    // Mia and Sam wait for their owners from when they wrote (50 s ago); the answered customer waits for nothing.
    expect(view.waitingTotal).to.equal(2);
    expect(view.channels.chat).to.include({ waiting: 2, longestWaitSeconds: 50 });
    expect(view.waiting.map((w: Json) => [w.conversationId, w.waitedSeconds, w.owner])).to.have.deep.members([
      [mia.conversationId, 50, { id: ada.id, name: 'Ada', status: 'away' }],
      [sam.conversationId, 50, { id: ken.id, name: 'Ken', status: 'offline' }],
    ]);

    // Ada answers Mia from her phone while away: Mia waits no more.
    await h.sb.router.reply(ada.id, mia.conversationId, 'Hi Mia, back shortly.');
    h.clock.advance(SECOND);
    expect((await live(h)).waiting.map((w: Json) => w.conversationId)).to.deep.equal([sam.conversationId]);
  });

  it('a process reads it at most once a second, however many ask', async () => {
    const h = sb();
    const { agent: ada } = await h.createAgent('Ada');
    expect((await live(h)).agents[0].status).to.equal('available');
    await h.admin.put(`/api/agents/${ada.id}/status`).send({ status: 'away' }).expect(200);
    // The same second: the same view.
    h.clock.advance(999);
    expect((await live(h)).agents[0].status).to.equal('available');
    h.clock.advance(1);
    expect((await live(h)).agents[0].status).to.equal('away');
  });
});

describe('GET /api/live with opening hours', () => {
  // The harness clock starts on Monday 5 January 2026, 09:00 UTC: an hour before the team opens.
  const sb = useHarness({
    env: { ROUTING_POLICY: JSON.stringify({ hours: { timeZone: 'UTC', week: { mon: '10:00-17:00' } } }) },
  });

  it('says the team is closed and when it opens, then open', async () => {
    const h = sb();
    expect((await live(h)).hours).to.deep.equal({ open: false, opensInSeconds: 3600 });
    h.clock.advance(3600 * SECOND);
    expect((await live(h)).hours).to.deep.equal({ open: true, opensInSeconds: 0 });
  });
});

describe("the team view by a team lead's console link", () => {
  const sb = useHarness();
  const as = (h: Harness, token: string) => ({
    get: (path: string) => h.http().get(path).set('Authorization', `Bearer ${token}`),
    head: (path: string) => h.http().head(path).set('Authorization', `Bearer ${token}`),
    put: (path: string) => h.http().put(path).set('Authorization', `Bearer ${token}`),
    post: (path: string) => h.http().post(path).set('Authorization', `Bearer ${token}`),
    delete: (path: string) => h.http().delete(path).set('Authorization', `Bearer ${token}`),
  });

  it('opens the live view, sets statuses and lifts blocks in the lead’s name; nothing else', async () => {
    const h = sb();
    const { agent: grace, token } = await h.createAgent('Grace', { lead: true, capacity: only(0) });
    const { agent: ada } = await h.createAgent('Ada', { status: 'away', capacity: only(1) });
    const lead = as(h, token);

    const view = (await lead.get('/api/live').expect(200)).body;
    expect(view.viewer).to.deep.equal({ role: 'lead', id: grace.id, name: 'Grace' });
    expect(view.agents.map((a: Json) => a.name)).to.include.members(['Ada', 'Grace']);
    expect((await live(h)).viewer).to.deep.equal({ role: 'admin' });

    const set = await lead
      .put(`/api/agents/${ada.id}/status`)
      .send({ status: 'available', reason: 'set from the team view' })
      .expect(200);
    expect(set.body.agent).to.include({
      status: 'available',
      statusReason: 'set from the team view by Grace',
    });
    const bare = await lead.put(`/api/agents/${ada.id}/status`).send({ status: 'away' }).expect(200);
    expect(bare.body.agent.statusReason).to.equal('set by Grace');
    await lead.put(`/api/agents/${ada.id}/status`).send({ status: 'available' }).expect(200);

    const mal = await visitor(h, 'you are all useless');
    const { customerId } = (await h.store.getConversation(mal.conversationId))!;
    await h.admin.post(`/api/customers/${customerId}/block`).send({ reason: 'insults' }).expect(200);
    expect((await lead.get('/api/customers/blocked').expect(200)).body.customers).to.have.length(1);
    const lifted = await lead.delete(`/api/customers/${customerId}/block`).expect(200);
    expect(lifted.body.customer.notes.at(-1).text).to.equal('unblocked by Grace');

    // What only the admin does: refused, by name, changing nothing.
    for (const refused of [
      await lead.post('/api/agents').send({ name: 'Mallory' }),
      await lead.get(`/api/customers/${customerId}`),
      await lead.get(`/api/customers/${customerId}/export`),
      await lead.delete(`/api/customers/${customerId}`),
      await lead.get('/api/conversations'),
      await lead.get('/api/stats'),
    ]) {
      expect(refused.status).to.equal(403);
      expect(refused.body.error.code).to.equal('forbidden');
      expect(refused.body.error.message).to.contain('needs the admin token');
    }
    expect(await h.store.getCustomer(customerId)).to.not.equal(null);
    expect((await h.admin.get('/api/agents').expect(200)).body.agents).to.have.length(2);
  });

  it("offers an agent's conversation to a colleague in the owner's stead: they accept as a hand-off of the owner's own", async () => {
    const h = sb();
    const { token } = await h.createAgent('Grace', { lead: true, capacity: only(0) });
    const { agent: ada, token: adaToken } = await h.createAgent('Ada', { capacity: only(1) });
    const adaConsole = h.agentSocket(adaToken);
    await once(adaConsole, 'hello');
    const mia = await visitor(h, 'my parcel is late');
    const { agent: bo, token: boToken } = await h.createAgent('Bo', { capacity: only(1) });
    const boConsole = h.agentSocket(boToken);
    await once(boConsole, 'hello');
    const lead = as(h, token);

    const offer = once<Json>(boConsole, 'handoff.offer');
    const res = await lead
      .post(`/api/conversations/${mia.conversationId}/handoff`)
      .send({ toAgentId: bo.id, note: 'Ada is off at five; the parcel number is in the thread.' })
      .expect(200);
    expect(res.body.conversation.ownerId).to.equal(ada.id);
    expect(res.body.conversation.handoff).to.include({
      from: ada.id,
      to: bo.id,
      note: 'Ada is off at five; the parcel number is in the thread. (offered by Grace, team view)',
    });
    expect((await offer).from.id).to.equal(ada.id);
    // What Ada is on shows it offered.
    const held = (await lead.get(`/api/agents/${ada.id}/conversations`).expect(200)).body.conversations;
    expect(held.map((c: Json) => c.handoffTo)).to.deep.equal(['Bo']);
    expect((await emitAck(boConsole, 'handoff.accept', { conversationId: mia.conversationId })).ok).to.equal(
      true,
    );
    const after = (await h.store.getConversation(mia.conversationId))!;
    expect([after.ownerId, after.ownership.at(-1)?.reason]).to.deep.equal([bo.id, 'handoff']);

    // The admin may too; refused by name: no note, one nobody owns, an agent's own link.
    const second = await visitor(h, 'and my refund?');
    const byAdmin = await h.admin
      .post(`/api/conversations/${second.conversationId}/handoff`)
      .send({ toAgentId: bo.id, note: 'Refunds are yours.' })
      .expect(200);
    expect(byAdmin.body.conversation.handoff.note).to.equal(
      'Refunds are yours. (offered by the admin, team view)',
    );
    const noNote = await lead
      .post(`/api/conversations/${second.conversationId}/handoff`)
      .send({ toAgentId: bo.id, note: ' ' })
      .expect(400);
    expect(noNote.body.error.field).to.equal('note');
    const waits = await visitor(h, 'anyone?');
    const queued = await lead
      .post(`/api/conversations/${waits.conversationId}/handoff`)
      .send({ toAgentId: bo.id, note: 'yours' })
      .expect(409);
    expect(queued.body.error.code).to.equal('invalid_state');
    await as(h, adaToken)
      .post(`/api/conversations/${second.conversationId}/handoff`)
      .send({ toAgentId: bo.id, note: 'x' })
      .expect(403);
  });

  it("an agent who is not a lead is refused; a lead's renewed link and a lead no longer one too", async () => {
    const h = sb();
    const { agent: ada, token: adaToken } = await h.createAgent('Ada');
    const refused = await as(h, adaToken).get('/api/live').expect(403);
    expect(refused.body.error.message).to.contain('only for a team lead');
    await as(h, adaToken).put(`/api/agents/${ada.id}/status`).send({ status: 'away' }).expect(403);

    const { agent: grace, token } = await h.createAgent('Grace', { lead: true });
    await as(h, token).get('/api/live').expect(200);
    // No longer a lead: refused.
    const patched = await h.admin.patch(`/api/agents/${grace.id}`).send({ lead: false }).expect(200);
    expect(patched.body.agent.lead).to.equal(false);
    await as(h, token).get('/api/live').expect(403);
    await h.admin.patch(`/api/agents/${grace.id}`).send({ lead: true }).expect(200);
    await as(h, token).get('/api/live').expect(200);
    // HEAD, as a monitor asks: what the lead may GET.
    await as(h, token).head('/api/live').expect(200);
    // A renewed link: the old one no longer opens anything.
    const renewed = await h.admin.post(`/api/agents/${grace.id}/token`).expect(200);
    await as(h, token).get('/api/live').expect(401);
    await as(h, renewed.body.token).get('/api/live').expect(200);
    // `lead` must be true or false.
    const bad = await h.admin.patch(`/api/agents/${grace.id}`).send({ lead: 'yes' }).expect(400);
    expect(bad.body.error.field).to.equal('lead');
    await as(h, 'not a token at all').get('/api/live').expect(401);
  });
});

describe('GET /api/agents/:id/conversations (what an agent is on)', () => {
  const sb = useHarness();

  it('each conversation with the customer, the part, and how long the customer waits for an answer', async () => {
    const h = sb();
    const { agent: ada, token } = await h.createAgent('Ada', { capacity: only(2) });
    const console = h.agentSocket(token);
    await once(console, 'hello');
    const mia = await visitor(h, 'my parcel is late');
    expect((await emitAck(mia.socket, 'identify', { name: 'Mia Jones' })).ok).to.equal(true);
    h.clock.advance(30 * SECOND);
    const bo = await visitor(h, 'can I change my address?');
    h.clock.advance(60 * SECOND);
    // Ada answers Mia; Bo has waited 60 s, Mia not at all now.
    const reply = await emitAck(console, 'reply', {
      conversationId: mia.conversationId,
      text: 'It ships today.',
      clientMessageId: 'r1',
    });
    expect(reply.ok).to.equal(true);
    const res = await h.admin.get(`/api/agents/${ada.id}/conversations`).expect(200);
    expect(res.body.agent).to.deep.equal({ id: ada.id, name: 'Ada' });
    expect(res.body.conversations).to.deep.equal([
      {
        id: bo.conversationId,
        customer: `Website visitor ${(await h.store.getConversation(bo.conversationId))!.customerId.slice(-4)}`,
        channel: 'chat',
        role: 'owner',
        sinceSeconds: 60,
        waitingForReplySeconds: 60,
        handoffTo: null,
        callOutSeconds: null,
      },
      {
        id: mia.conversationId,
        customer: 'Mia Jones',
        channel: 'chat',
        role: 'owner',
        sinceSeconds: 90,
        waitingForReplySeconds: null,
        handoffTo: null,
        callOutSeconds: null,
      },
    ]);
    // Internal notes are no answer: Bo still waits.
    await emitAck(console, 'note', { conversationId: bo.conversationId, text: 'checking the address rules' });
    h.clock.advance(15 * SECOND);
    const later = (await h.admin.get(`/api/agents/${ada.id}/conversations`).expect(200)).body;
    expect(later.conversations[0].waitingForReplySeconds).to.equal(75);

    const { token: leadToken } = await h.createAgent('Lena', { lead: true, capacity: only(0) });
    await h
      .http()
      .get(`/api/agents/${ada.id}/conversations`)
      .set('Authorization', `Bearer ${leadToken}`)
      .expect(200);
    await h
      .http()
      .get(`/api/agents/${ada.id}/conversations`)
      .set('Authorization', `Bearer ${token}`)
      .expect(403);
    const missing = await h.admin.get('/api/agents/ag_nobody/conversations').expect(404);
    expect(missing.body.error.code).to.equal('not_found');
  });

  it('an agent is idle since their last conversation ended (resolved, or handed on), not since it began', async () => {
    const h = sb();
    const { agent: bo } = await h.createAgent('Bo', { capacity: only(1) });
    h.clock.advance(SECOND);
    const { agent: ada } = await h.createAgent('Ada', { capacity: only(2) });
    const mia = await visitor(h, 'my parcel is late');
    const sam = await visitor(h, 'where is my refund?');
    const owners = async () =>
      Promise.all([mia, sam].map(async (v) => (await h.store.getConversation(v.conversationId))!.ownerId));
    expect(await owners()).to.deep.equal([bo.id, ada.id]);
    const idle = async () =>
      Object.fromEntries((await live(h)).agents.map((a: Json) => [a.name, a.idleSeconds]));
    expect(await idle()).to.deep.equal({ Ada: null, Bo: null });

    // Bo hands Mia to Ada at 5 minutes; Ada resolves both at 10.
    h.clock.advance(300 * SECOND);
    await h.sb.router.handoff(bo.id, mia.conversationId, ada.id, 'she needs a refund');
    h.clock.advance(5 * SECOND);
    await h.sb.router.acceptHandoff(ada.id, mia.conversationId);
    h.clock.advance(295 * SECOND);
    await h.sb.router.resolve(ada.id, sam.conversationId);
    await h.sb.router.resolve(ada.id, mia.conversationId);
    h.clock.advance(60 * SECOND);
    // Bo has had nothing since Ada took Mia, Ada since she resolved them: not since each was assigned.
    expect(await idle()).to.deep.equal({ Ada: 60, Bo: 355 });
  });

  it('a conversation handed to an agent counts from when it became theirs, not from its first assignment', async () => {
    const h = sb();
    const { agent: ada } = await h.createAgent('Ada', { capacity: only(2) });
    const mia = await visitor(h, 'my parcel is late');
    h.clock.advance(120 * SECOND);
    const { agent: bo } = await h.createAgent('Bo', { capacity: only(2) });
    await h.sb.router.handoff(ada.id, mia.conversationId, bo.id, 'she needs a refund');
    h.clock.advance(5 * SECOND);
    await h.sb.router.acceptHandoff(bo.id, mia.conversationId);
    h.clock.advance(10 * SECOND);
    const held = (await h.admin.get(`/api/agents/${bo.id}/conversations`).expect(200)).body.conversations;
    expect(held.map((c: { id: string; sinceSeconds: number }) => [c.id, c.sinceSeconds])).to.deep.equal([
      [mia.conversationId, 10],
    ]);
  });

  it("a colleague counts from when they joined, were invited or were offered it, not from the conversation's start", async () => {
    const h = sb();
    const { agent: ada } = await h.createAgent('Ada', { capacity: only(2) });
    const mia = await visitor(h, 'my parcel is late');
    const { agent: bo } = await h.createAgent('Bo', { capacity: only(0) });
    const { agent: cy } = await h.createAgent('Cy', { capacity: only(0) });
    const { agent: di } = await h.createAgent('Di', { capacity: only(1) });
    h.clock.advance(120 * SECOND);
    await h.sb.router.consult(ada.id, mia.conversationId, bo.id);
    h.clock.advance(30 * SECOND);
    await h.sb.router.joinConsult(bo.id, mia.conversationId);
    h.clock.advance(10 * SECOND);
    await h.sb.router.consult(ada.id, mia.conversationId, cy.id);
    h.clock.advance(5 * SECOND);
    await h.sb.router.handoff(ada.id, mia.conversationId, di.id, 'she needs a refund');
    h.clock.advance(5 * SECOND);
    const parts: Array<[string, string, number]> = [];
    for (const agent of [ada, bo, cy, di]) {
      const held = (await h.admin.get(`/api/agents/${agent.id}/conversations`).expect(200)).body
        .conversations;
      for (const c of held as Array<{ id: string; role: string; sinceSeconds: number }>) {
        expect(c.id).to.equal(mia.conversationId);
        parts.push([agent.name, c.role, c.sinceSeconds]);
      }
    }
    expect(parts).to.deep.equal([
      ['Ada', 'owner', 170],
      ['Bo', 'consultant', 20],
      ['Cy', 'invited', 10],
      ['Di', 'offered', 5],
    ]);
  });
});
