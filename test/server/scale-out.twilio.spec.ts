// Twilio with several server processes on one Redis. Phone calls: the process that
// holds a live call moves it when routing is decided in another process, and when
// it dies, the process Twilio's next webhook reaches carries the call on; a call
// back is placed once, by the process whose routing gives it to an agent. Texts: a
// text that arrives at one process reaches the agent on another, whose reply goes
// out once. Child processes running server/main.ts; Twilio's REST API is the local
// stand-in, its webhooks are signed as Twilio signs them (over PUBLIC_URL) and
// posted to the process the load balancer would pick.
import { expect } from 'chai';
import { createClient } from 'redis';
import type { Socket } from 'socket.io-client';
import { RedisKeys } from '../../routing/store/redis-keys.js';
import type { Agent, Conversation } from '../../shared/model.js';
import {
  type Call,
  callStatus,
  dialResult,
  gathered,
  incomingCall,
  incomingSms,
  localPath,
  messageStatus,
  newCall,
  newSms,
  OUR_NUMBER,
  outboundLeg,
  queueResult,
  queueWait,
} from '../channels/twilio-harness.js';
import { type Cluster, type Node, next, until } from '../support/cluster.js';
import { twimlAt, useTwilioCluster, voiceAgent } from '../support/cluster-twilio.js';
import type { TwilioStandIn } from '../support/twilio-standin.js';
import { all, only, parseTwiml, queryOf, type Node as TwimlNode, verbs } from '../support/twiml.js';

// biome-ignore lint/suspicious/noExplicitAny: wire payloads are asserted field by field
type Json = any;

let phones = 300;
const nextPhone = () => `+1415555${String(++phones).padStart(4, '0')}`;

describe('scale-out: Twilio across processes', function () {
  this.timeout(60_000);
  const start = useTwilioCluster('voice');

  /** A call that `node` puts through to `agent`, and the agent picking up there: the conversation is theirs. */
  async function answeredCall(node: Node, agent: Agent): Promise<string> {
    const call = newCall(nextPhone());
    const dial = only(await twimlAt(node, '/twilio/voice', incomingCall(call)), 'Dial');
    expect(only(dial, 'Client').text).to.equal(agent.clientIdentity);
    const leg = newCall(call.From, `client:${agent.clientIdentity}`);
    await twimlAt(
      node,
      localPath(only(dial, 'Client').attrs.statusCallback),
      callStatus(leg, 'in-progress', { ParentCallSid: call.CallSid }),
    );
    return queryOf(dial.attrs.action).conversation!;
  }

  /** A caller `node` puts on hold. */
  async function holdingCall(node: Node): Promise<{ call: Call; conversationId: string }> {
    const call = newCall(nextPhone());
    const root = await twimlAt(node, '/twilio/voice', incomingCall(call));
    expect(verbs(root)).to.deep.equal(['Say', 'Enqueue']);
    return { call, conversationId: queryOf(only(root, 'Enqueue').attrs.waitUrl).conversation! };
  }

  async function conversation(node: Node, id: string): Promise<Conversation> {
    return (await node.api<Json>('GET', `/conversations/${id}`)).body.conversation;
  }

  /** The TwiML of the first REST update of `callSid` the stand-in receives. */
  async function pushedTo(twilioApi: TwilioStandIn, callSid: string): Promise<TwimlNode> {
    const update = await twilioApi.waitFor((r) => r.resource === 'call-update' && r.sid === callSid, 10_000);
    return parseTwiml(String(update.params.Twiml));
  }

  /** Ana (console on B) on a call A put through, and a second caller A put on hold behind her. */
  async function holdingBehindAna() {
    const { c, twilioApi } = await start();
    const [a, b] = c.nodes as [Node, Node];
    const { agent: ana, console } = await voiceAgent(c, 1, 'Ana');
    const first = await answeredCall(a, ana);
    const holding = await holdingCall(a);
    return { c, twilioApi, a, b, ana, console, first, holding };
  }

  /** The agent resolves the conversation in their console. */
  async function resolveIn(console: Socket, conversationId: string): Promise<void> {
    expect((await console.timeout(10_000).emitWithAck('resolve', { conversationId })).ok).to.equal(true);
  }

  it('an agent who frees up on B is put through to a caller holding on A at once, by A', async () => {
    const { twilioApi, b, ana, console, first, holding } = await holdingBehindAna();

    // Ana ends her call in her console on B: routing decides on B, and A (which holds the call) moves it.
    await resolveIn(console, first);
    const pushed = await pushedTo(twilioApi, holding.call.CallSid);
    expect(verbs(pushed)).to.deep.equal(['Dial']);
    expect(only(pushed, 'Client').text).to.equal('ana');
    expect(queryOf(only(pushed, 'Dial').attrs.action)).to.deep.equal({
      conversation: holding.conversationId,
      agent: ana.id,
    });
    expect((await conversation(b, holding.conversationId)).offer?.agentId).to.equal(ana.id);
  });

  it('when the process holding the calls dies, the one Twilio reaches next carries them on', async () => {
    const { c, twilioApi } = await start();
    const [a, b] = c.nodes;
    const { agent: ana, console: anaConsole } = await voiceAgent(c, 1, 'Ana');
    const { agent: bea, console: beaConsole } = await voiceAgent(c, 1, 'Bea');
    const anaCall = await answeredCall(a!, ana);
    const beaCall = await answeredCall(a!, bea);
    const holding = await holdingCall(a!);
    await a!.stop('SIGKILL');

    // Ana frees up on B, which has never seen the call: routing offers it to her.
    await resolveIn(anaConsole, anaCall);
    expect((await conversation(b!, holding.conversationId)).offer?.agentId).to.equal(ana.id);

    // The caller's next round of hold music asks B: the call leaves the queue, and its action dials Ana.
    const wait = await twimlAt(
      b!,
      `/twilio/voice/wait?conversation=${holding.conversationId}`,
      queueWait(holding.call),
    );
    expect(verbs(wait)).to.deep.equal(['Leave']);
    const dial = await twimlAt(
      b!,
      `/twilio/voice/queue?conversation=${holding.conversationId}`,
      queueResult(holding.call, 'leave'),
    );
    expect(only(dial, 'Client').text).to.equal('ana');

    // Ana does not answer: she goes away, and the caller keeps their place on hold (not hung up on).
    const after = await twimlAt(
      b!,
      localPath(only(dial, 'Dial').attrs.action),
      dialResult(holding.call, 'no-answer'),
    );
    expect(verbs(after)).to.deep.equal(['Say', 'Enqueue']);
    const away = (await b!.api<Json>('GET', `/agents/${ana.id}`)).body.agent;
    expect(away.status).to.equal('away');
    expect(away.statusReason).to.match(/^missed a call at \d\d:\d\d$/);
    const waiting = await conversation(b!, holding.conversationId);
    expect([waiting.status, waiting.offer]).to.deep.equal(['queued', null]);

    // Bea frees up: B holds the call now and moves it to her with a REST update.
    await resolveIn(beaConsole, beaCall);
    const pushed = await pushedTo(twilioApi, holding.call.CallSid);
    expect(only(pushed, 'Client').text).to.equal('bea');
    expect(all(pushed, 'Say')).to.deep.equal([]);
  });

  it('when A dies, an agent who frees up on B is put through at once: B takes the call over', async () => {
    const { c, twilioApi, a, b, ana, console, first, holding } = await holdingBehindAna();
    // A holds the call and says it is running; killed, its running key lapses within 3 s (deleted here).
    const base = new RedisKeys(c.prefix).base;
    const redis = createClient({ url: c.redisUrl });
    await redis.connect();
    try {
      const holder = await redis.get(`${base}voice:holder:${holding.call.CallSid}`);
      expect(holder).to.be.a('string');
      expect(await redis.exists(`${base}voice:alive:${holder}`)).to.equal(1);
      await a.stop('SIGKILL');
      await redis.del(`${base}voice:alive:${holder}`);
    } finally {
      redis.destroy();
    }

    await resolveIn(console, first);
    const pushed = await pushedTo(twilioApi, holding.call.CallSid);
    expect(only(pushed, 'Client').text).to.equal('ana');
    await b.waitFor((r) => r.msg === 'voice: took over a call whose process stopped');
    expect((await conversation(b, holding.conversationId)).offer?.agentId).to.equal(ana.id);
    // B holds it now: the Dial's end comes to B like any of its calls.
    const late = await twimlAt(
      b,
      localPath(only(pushed, 'Dial').attrs.action),
      dialResult(holding.call, 'completed'),
    );
    expect(verbs(late)).to.deep.equal(['Hangup']);
  });

  it('after A comes back and answers a call B took over, only A moves it', async () => {
    const { twilioApi, a, b, ana, console, first, holding } = await holdingBehindAna();
    const waitPath = `/twilio/voice/wait?conversation=${holding.conversationId}`;
    await a.stop('SIGKILL');
    // B answers a round of the caller's hold music: B holds the call.
    expect(verbs(await twimlAt(b, waitPath, queueWait(holding.call)))).to.deep.equal(['Gather']);
    // A is back, and the load balancer sends the call's next round to it: A holds it now.
    await a.start();
    expect(verbs(await twimlAt(a, waitPath, queueWait(holding.call)))).to.deep.equal(['Gather']);

    // Ana frees up on B: B leaves the call to A, which moves it, once.
    await resolveIn(console, first);
    await b.waitFor((r) => r.msg === 'voice: another process answers this call now');
    const pushed = await pushedTo(twilioApi, holding.call.CallSid);
    expect(only(pushed, 'Client').text).to.equal('ana');
    expect(twilioApi.callUpdates().filter((u) => u.sid === holding.call.CallSid)).to.have.length(1);
    expect((await conversation(a, holding.conversationId)).offer?.agentId).to.equal(ana.id);
  });

  it('a Dial that ends on another process after A died still tries the next agent', async () => {
    const { c } = await start();
    const [a, b] = c.nodes;
    const { agent: ana } = await voiceAgent(c, 1, 'Ana');
    const { agent: bea } = await voiceAgent(c, 1, 'Bea');
    const call = newCall(nextPhone());
    const dial = only(await twimlAt(a!, '/twilio/voice', incomingCall(call)), 'Dial');
    const conversationId = queryOf(dial.attrs.action).conversation!;
    const offered = queryOf(dial.attrs.action).agent;
    const other = offered === ana.id ? bea : ana;
    await a!.stop('SIGKILL');

    const nextDial = await twimlAt(b!, localPath(dial.attrs.action), dialResult(call, 'busy'));
    expect(verbs(nextDial)).to.deep.equal(['Dial']);
    expect(only(nextDial, 'Client').text).to.equal(other.clientIdentity);
    expect((await conversation(b!, conversationId)).offer?.agentId).to.equal(other.id);
    // They declined it (busy): still available, passed over for this caller only.
    const declined = (await b!.api<Json>('GET', `/agents/${offered}`)).body.agent;
    expect([declined.status, declined.statusReason]).to.deep.equal(['available', undefined]);
    expect((await conversation(b!, conversationId)).declinedBy).to.deep.equal([offered]);
  });

  /** The holding caller presses 1 on `node`, hears the confirmation and hangs up: a call back is owed. */
  async function pressOne(node: Node, holding: { call: Call; conversationId: string }): Promise<void> {
    const q = `conversation=${holding.conversationId}`;
    expect(
      verbs(await twimlAt(node, `/twilio/voice/gather?${q}`, gathered(holding.call, '1'))),
    ).to.deep.equal(['Leave']);
    const bye = await twimlAt(node, `/twilio/voice/queue?${q}`, queueResult(holding.call, 'leave'));
    expect(only(bye, 'Say').text).to.match(
      /^We will call you back at the number ending in (\d ){3}\d, within about/,
    );
    await twimlAt(node, '/twilio/voice/status', callStatus(holding.call, 'completed'));
  }

  /** The call back leg placed to `agent` picks up on `node`, which dials the customer; they talk. */
  async function callBackConnects(
    twilioApi: TwilioStandIn,
    node: Node,
    agent: Agent,
    holding: { call: Call; conversationId: string },
  ): Promise<void> {
    const placed = await twilioApi.waitFor((r) => r.resource === 'calls', 10_000);
    expect(placed.params.To).to.equal(`client:${agent.clientIdentity}`);
    const onLeg = await twimlAt(
      node,
      localPath(String(placed.params.Url)),
      outboundLeg(placed.sid!, String(placed.params.To), 'in-progress'),
    );
    expect(verbs(onLeg)).to.deep.equal(['Say', 'Dial']);
    expect(only(onLeg, 'Number').text).to.equal(holding.call.From);
    expect(only(onLeg, 'Dial').attrs.callerId).to.equal(OUR_NUMBER);
    const leg = { CallSid: placed.sid!, From: OUR_NUMBER, To: String(placed.params.To) };
    const done = await twimlAt(
      node,
      localPath(only(onLeg, 'Dial').attrs.action),
      dialResult(leg, 'completed', { DialCallDuration: '60' }),
    );
    expect(verbs(done)).to.deep.equal(['Hangup']);
    const view = (await node.api<Json>('GET', `/conversations/${holding.conversationId}`)).body;
    expect([view.conversation.status, view.conversation.ownerId]).to.deep.equal(['assigned', agent.id]);
    expect(view.promises.filter((p: Json) => p.kind === 'callback').map((p: Json) => p.state)).to.deep.equal([
      'kept',
    ]);
  }

  it('a call back taken on A is placed once, by B where an agent freed up; A answers its legs', async () => {
    const { twilioApi, a, ana, console, first, holding } = await holdingBehindAna();
    await pressOne(a, holding);
    await resolveIn(console, first);
    await callBackConnects(twilioApi, a, ana, holding);
    expect(twilioApi.calls()).to.have.length(1);
  });

  it('a call back owed by a process that died is placed by the others', async () => {
    const { twilioApi, a, b, ana, console, first, holding } = await holdingBehindAna();
    await pressOne(a, holding);
    await a.stop('SIGKILL');
    await resolveIn(console, first);
    await callBackConnects(twilioApi, b, ana, holding);
    expect(twilioApi.calls()).to.have.length(1);
  });

  /** Ana, with one text line and her console on A (node 0); a new texter's text reaches `at` and her. */
  async function textToAna(
    c: Cluster,
    at: Node,
    text: string,
  ): Promise<{ console: Socket; texter: string; view: Json }> {
    const created = await c.nodes[0]!.api<{ agent: Agent; token: string }>('POST', '/agents', {
      name: 'Ana',
      capacity: { sms: 1 },
      status: 'available',
    });
    const console = c.socket(0, '/agent', { token: created.body.token });
    await next(console, 'hello');
    const texter = nextPhone();
    const assigned = next<Json>(console, 'assigned');
    await twimlAt(at, '/twilio/sms', incomingSms(newSms(texter, text)));
    return { console, texter, view: await assigned };
  }

  it('a text that arrives at B reaches the agent on A, whose reply goes out once, from our number', async () => {
    const { c, twilioApi } = await start();
    const [a, b] = c.nodes as [Node, Node];
    const { console, texter, view } = await textToAna(c, b, 'Where is my order?');
    expect(view.messages.map((m: Json) => m.text)).to.include('Where is my order?');

    const reply = await console.timeout(10_000).emitWithAck('reply', {
      conversationId: view.conversation.id,
      text: 'On its way',
      clientMessageId: 'r1',
    });
    expect(reply.ok).to.equal(true);
    const sent = await twilioApi.waitFor((r) => r.resource === 'messages', 10_000);
    expect([sent.params.To, sent.params.From, sent.params.Body]).to.deep.equal([
      texter,
      OUR_NUMBER,
      'On its way',
    ]);

    // Twilio reports the delivery to B: the message is delivered, read back through A.
    await twimlAt(
      b,
      localPath(String(sent.params.StatusCallback)),
      messageStatus(sent.sid!, texter, 'delivered'),
    );
    const messages = (await a.api<Json>('GET', `/conversations/${view.conversation.id}`)).body.messages;
    const out = messages.filter((m: Json) => m.direction === 'out');
    expect(out.map((m: Json) => [m.text, m.delivery.state])).to.deep.equal([['On its way', 'delivered']]);
    expect(twilioApi.messages()).to.have.length(1);
  });

  it('a reply whose send failed at A, which then died, is sent again by B when its retry is due', async () => {
    const { c, twilioApi } = await start({ TICK_MS: '100' });
    const [a, b] = c.nodes as [Node, Node];
    const { console, texter, view } = await textToAna(c, a, 'Is my order late?');
    const conversationId = view.conversation.id;

    // Twilio is briefly unavailable: A's send fails and its retry is due 2 s later; then A dies.
    twilioApi.failNext('messages', { status: 503, code: 20503, message: 'Service Unavailable' });
    const reply = await console.timeout(10_000).emitWithAck('reply', {
      conversationId,
      text: 'Checking now',
      clientMessageId: 'r1',
    });
    expect(reply.ok).to.equal(true);
    const delivery = async () => {
      const messages = (await b.api<Json>('GET', `/conversations/${conversationId}`)).body.messages;
      return messages.find((m: Json) => m.id === reply.messageId).delivery;
    };
    await until(async () => (await delivery()).state === 'failed', 'the failed send to be recorded');
    await a.stop('SIGKILL');

    // B takes the retry from Redis when it is due and sends it, once.
    const sent = await twilioApi.waitFor((r) => r.resource === 'messages' && r.status === 201, 10_000);
    expect([sent.params.To, sent.params.Body]).to.deep.equal([texter, 'Checking now']);
    expect(localPath(String(sent.params.StatusCallback))).to.equal(
      `/twilio/sms/status?message=${reply.messageId}&attempt=2`,
    );
    await until(async () => (await delivery()).state === 'sent', 'the retry to be recorded as sent');
    expect(await delivery()).to.deep.include({ state: 'sent', attempts: 2 });
    expect(twilioApi.requests.filter((r) => r.resource === 'messages')).to.have.length(2);
  });

  it('a texter who has to wait is told so once per wait, whichever process their texts reach', async () => {
    const { c, twilioApi } = await start();
    const [a, b] = c.nodes as [Node, Node];
    const created = await a.api<{ agent: Agent }>('POST', '/agents', {
      name: 'Ana',
      capacity: { sms: 1 },
      status: 'available',
    });
    // Ana's one line is taken: the next texter waits.
    await twimlAt(a, '/twilio/sms', incomingSms(newSms(nextPhone(), 'first')));
    const texter = nextPhone();
    const first = await twimlAt(a, '/twilio/sms', incomingSms(newSms(texter, 'anyone there?')));
    expect(verbs(first)).to.deep.equal(['Message']);
    const told = only(first, 'Message').text;
    expect(told).to.match(/^You are number 1 in line; a person will be with you within /);
    // The next texts reach B, then A again: nothing more to say, the wait is the same.
    expect(verbs(await twimlAt(b, '/twilio/sms', incomingSms(newSms(texter, 'hello?'))))).to.deep.equal([]);
    expect(verbs(await twimlAt(a, '/twilio/sms', incomingSms(newSms(texter, 'still here'))))).to.deep.equal(
      [],
    );

    // What the texter was told is in the conversation's history, once, sent (by the TwiML), and never
    // sent again through the REST API.
    const waiting = (await b.api<Json>('GET', '/conversations?status=queued')).body.conversations;
    expect(waiting).to.have.length(1);
    const messages = (await b.api<Json>('GET', `/conversations/${waiting[0].id}`)).body.messages;
    expect(messages.map((m: Json) => [m.direction, m.author.type, m.text, m.delivery.state])).to.deep.equal([
      ['in', 'customer', 'anyone there?', 'delivered'],
      ['out', 'system', told, 'sent'],
      ['in', 'customer', 'hello?', 'delivered'],
      ['in', 'customer', 'still here', 'delivered'],
    ]);
    await new Promise((r) => setTimeout(r, 300));
    expect(twilioApi.messages()).to.deep.equal([]);
    expect(created.status).to.equal(201);
  });
});
