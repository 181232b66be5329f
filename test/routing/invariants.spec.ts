// Routing invariants through the real Router over the memory store: scripted
// scenarios that once broke them, then randomized operation sequences with
// every invariant checked after every operation.
//
// Replay one sequence: SB_SEED=<seed> npx mocha test/routing/invariants.spec.ts
// Explore other seeds:  SB_SEED_BASE=<n> (sequences use seeds n, n+1, …)
import { expect } from 'chai';
import { parsePolicy } from '../../routing/policy.js';
import { Router } from '../../routing/router.js';
import { MemoryStore } from '../../routing/store/memory.js';
import { ManualClock } from '../../shared/clock.js';
import { sequentialIds } from '../../shared/ids.js';
import type { Channel, Skills } from '../../shared/model.js';
import { checkInvariants, RANDOM_POLICY, runRandomSequence, type SequenceResult } from './invariants.js';

const SEQUENCES = 300;
const OPS = 60;
const SEC = 1000;

function report(result: SequenceResult): string {
  return [
    `routing invariant broken with seed ${result.seed}`,
    `replay: SB_SEED=${result.seed} npx mocha test/routing/invariants.spec.ts`,
    'operations:',
    ...result.log.map((line) => `  ${line}`),
    'problems:',
    ...result.problems.map((p) => `  ${p}`),
  ].join('\n');
}

/** A router over a fresh memory store under the random sequences' policy (overflow after 90 s, sms sticky 300 s). */
function setup() {
  const store = new MemoryStore();
  const clock = new ManualClock();
  const policy = parsePolicy(RANDOM_POLICY);
  const router = new Router({ store, clock, policy, ids: sequentialIds() });
  let n = 0;
  const contact = (channel: Channel, from: string, skills: Skills = {}) =>
    router.contact({ channel, from, externalId: `ext-${++n}`, text: 'hi', skills });
  const agent = (
    name: string,
    capacity: { voice: number; sms: number; chat: number; email: number },
    skills: Skills = {},
  ) => router.createAgent({ name, capacity, skills, status: 'available' });
  const problems = () =>
    checkInvariants(store, { now: clock.now(), overflowAfterMs: policy.overflowAfterSeconds * SEC });
  const conversation = async (id: string) => (await store.getConversation(id))!;
  return { store, clock, router, contact, agent, problems, conversation };
}

const ANN = '+14155550101';
const BEN = '+14155550102';

describe('routing invariants: scenarios found by the random sequences', () => {
  it('a waiting customer who switches channel is routed on the new one', async () => {
    const { contact, agent, problems } = setup();
    const voiceOnly = await agent('Vic', { voice: 1, sms: 0, chat: 0, email: 0 });
    const texted = await contact('sms', ANN);
    expect(texted.outcome.type).to.equal('queued');
    const called = await contact('voice', ANN);
    expect(called.conversation.id).to.equal(texted.conversation.id);
    expect(called.outcome).to.deep.include({ type: 'offered', agentId: voiceOnly.id });
    expect(await problems()).to.deep.equal([]);
  });

  it('an owned call waiting for cover overflows to the whole team', async () => {
    const { clock, router, contact, agent, problems, conversation } = setup();
    const owner = await agent('Olga', { voice: 1, sms: 1, chat: 0, email: 0 }, { billing: 2 });
    const plain = await agent('Pat', { voice: 1, sms: 0, chat: 0, email: 0 });
    const first = await contact('sms', ANN, { billing: 2 });
    expect(first.outcome).to.deep.equal({ type: 'assigned', agentId: owner.id });
    await router.setAgentStatus(owner.id, 'away');
    const call = await contact('voice', ANN);
    expect(call.outcome.type).to.equal('queued');
    expect(await problems()).to.deep.equal([]);
    clock.advance(90 * SEC);
    await router.tick();
    const c = await conversation(first.conversation.id);
    expect(c.cover?.agentId).to.equal(plain.id);
    expect(c.ownerId).to.equal(owner.id);
    expect(await problems()).to.deep.equal([]);
  });

  it('a caller who texts while on hold for a colleague to cover keeps waiting on the call; hung up, waits on sms', async () => {
    const { router, contact, agent, problems, conversation } = setup();
    const owner = await agent('Olga', { voice: 0, sms: 1, chat: 0, email: 0 });
    const first = await contact('sms', ANN);
    expect(first.outcome).to.deep.equal({ type: 'assigned', agentId: owner.id });
    await router.setAgentStatus(owner.id, 'away');
    const smsOnly = await agent('Sam', { voice: 0, sms: 1, chat: 0, email: 0 });
    expect((await contact('voice', ANN)).outcome.type).to.equal('queued');
    expect(await problems()).to.deep.equal([]);
    // Still on the phone: nobody who only texts covers them (their call would hold on, unanswered).
    const text = await contact('sms', ANN);
    expect(text.outcome.type).to.not.equal('covered');
    const holding = await conversation(first.conversation.id);
    expect([holding.cover, holding.lastChannel]).to.deep.equal([null, 'voice']);
    expect(await problems()).to.deep.equal([]);
    // They hang up: what they wrote waits for a colleague on sms.
    const ended = await router.liveContactEnded(first.conversation.id);
    expect([ended.cover?.agentId, ended.cover?.channel, ended.ownerId]).to.deep.equal([
      smsOnly.id,
      'sms',
      owner.id,
    ]);
    expect(await problems()).to.deep.equal([]);
  });

  it('when the owner is gone for good, the colleague who covered gets the next waiting call', async () => {
    const { clock, router, contact, agent, problems, conversation } = setup();
    const owner = await agent('Olga', { voice: 0, sms: 1, chat: 0, email: 0 });
    const first = await contact('sms', ANN);
    expect(first.outcome).to.deep.equal({ type: 'assigned', agentId: owner.id });
    const coverer = await agent('Tess', { voice: 1, sms: 0, chat: 0, email: 0 }, { tech: 1 });
    await router.setAgentStatus(owner.id, 'away');
    expect((await contact('voice', ANN)).outcome).to.deep.equal({
      type: 'covered',
      agentId: coverer.id,
      ownerId: owner.id,
    });
    const waiting = await contact('voice', BEN, { tech: 1 });
    expect(waiting.outcome.type).to.equal('queued');
    await contact('sms', ANN);
    await router.setAgentStatus(owner.id, 'offline');
    clock.advance(300 * SEC);
    await router.tick();
    expect((await conversation(first.conversation.id)).status).to.equal('queued');
    expect((await conversation(waiting.conversation.id)).offer?.agentId).to.equal(coverer.id);
    expect(await problems()).to.deep.equal([]);
  });

  it('the colleague covering a call who accepts its hand-off owns it with one slot', async () => {
    const { router, contact, agent, problems, conversation } = setup();
    const owner = await agent('Olga', { voice: 0, sms: 1, chat: 0, email: 0 });
    const first = await contact('sms', ANN);
    const coverer = await agent('Tess', { voice: 1, sms: 1, chat: 0, email: 0 }, { tech: 1 });
    await router.setAgentStatus(owner.id, 'away');
    expect((await contact('voice', ANN)).outcome).to.deep.include({ type: 'covered', agentId: coverer.id });
    const waiting = await contact('voice', BEN, { tech: 1 });
    expect(waiting.outcome.type).to.equal('queued');
    await router.handoff(owner.id, first.conversation.id, coverer.id, 'please keep her');
    await router.acceptHandoff(coverer.id, first.conversation.id);
    const c = await conversation(first.conversation.id);
    expect(c.ownerId).to.equal(coverer.id);
    expect(c.cover).to.equal(null);
    // The call slot the cover held is free again: the waiting call rings them.
    expect((await conversation(waiting.conversation.id)).offer?.agentId).to.equal(coverer.id);
    expect(await problems()).to.deep.equal([]);
  });
});

describe('routing invariants under random operations (memory store)', () => {
  const replay = process.env.SB_SEED;
  const base = Number(process.env.SB_SEED_BASE ?? 1);
  const seeds =
    replay !== undefined ? [Number(replay)] : Array.from({ length: SEQUENCES }, (_, i) => base + i);

  it(`hold after every operation of ${seeds.length} sequences of ${OPS} operations`, async function () {
    this.timeout(60_000);
    let operations = 0;
    for (const seed of seeds) {
      const result = await runRandomSequence(seed, new MemoryStore(), OPS);
      operations += result.log.length;
      if (result.problems.length > 0) expect.fail(report(result));
    }
    expect(operations).to.be.greaterThan(seeds.length * OPS * 0.9);
  });
});
