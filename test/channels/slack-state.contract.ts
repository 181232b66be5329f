// What the Slack console remembers, as a contract every SlackState keeps: the
// memory implementation (test/channels/slack.state.spec.ts) and the Redis one
// (test/channels/slack/state.redis.spec.ts). `make` builds a fresh, empty state
// with the given limits; `cleanup`, when given, runs after each test (deletes
// what the test stored, closes connections).
import { expect } from 'chai';
import type { MemorySlackStateOptions, SlackState } from '../../channels/slack/state.js';

export type SlackStateFactory = (options?: MemorySlackStateOptions) => SlackState | Promise<SlackState>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function slackStateContract(
  name: string,
  make: SlackStateFactory,
  cleanup?: () => Promise<void>,
): void {
  describe(`SlackState contract: ${name}`, () => {
    if (cleanup) afterEach(cleanup);

    it('remembers DM channels per Slack user', async () => {
      const state = await make();
      expect(await state.dmChannel('U1')).to.equal(null);
      await state.rememberDmChannel('U1', 'D1');
      expect(await state.dmChannel('U1')).to.equal('D1');
      expect(await state.dmChannel('U2')).to.equal(null);
      await state.rememberDmChannel('U1', 'D9');
      expect(await state.dmChannel('U1')).to.equal('D9');
    });

    it('keeps one card per conversation and agent, and finds the conversation from its thread', async () => {
      const state = await make();
      await state.saveThread('cv_1', 'ag_a', { channel: 'D1', ts: '1.000001' });
      await state.saveThread('cv_1', 'ag_b', { channel: 'D2', ts: '1.000002' });
      await state.saveThread('cv_2', 'ag_a', { channel: 'D1', ts: '1.000003' });
      expect(await state.thread('cv_1', 'ag_a')).to.deep.equal({ channel: 'D1', ts: '1.000001' });
      expect(await state.thread('cv_1', 'ag_c')).to.equal(null);
      expect(await state.threadOwner('D1', '1.000003')).to.deep.equal({
        conversationId: 'cv_2',
        agentId: 'ag_a',
      });
      expect(await state.threadOwner('D2', '1.000001')).to.equal(null);
      expect((await state.threads('cv_1')).map((t) => t.agentId).sort()).to.deep.equal(['ag_a', 'ag_b']);
      // A new card replaces the old one: its thread no longer maps to the conversation.
      await state.saveThread('cv_1', 'ag_a', { channel: 'D1', ts: '1.000009' });
      expect(await state.threadOwner('D1', '1.000001')).to.equal(null);
      expect(await state.threadOwner('D1', '1.000009')).to.deep.equal({
        conversationId: 'cv_1',
        agentId: 'ag_a',
      });
      expect(await state.threadOwner('D2', '1.000002')).to.deep.equal({
        conversationId: 'cv_1',
        agentId: 'ag_b',
      });
      // Saving the same card again changes nothing.
      await state.saveThread('cv_1', 'ag_a', { channel: 'D1', ts: '1.000009' });
      expect(await state.threadOwner('D1', '1.000009')).to.deep.equal({
        conversationId: 'cv_1',
        agentId: 'ag_a',
      });
      const sorted = (await state.threads('cv_1')).sort((x, y) => x.agentId.localeCompare(y.agentId));
      expect(sorted).to.deep.equal([
        { agentId: 'ag_a', ref: { channel: 'D1', ts: '1.000009' } },
        { agentId: 'ag_b', ref: { channel: 'D2', ts: '1.000002' } },
      ]);
      expect(await state.threads('cv_none')).to.deep.equal([]);
    });

    it('answers copies: changing what it answered changes nothing it keeps', async () => {
      const state = await make();
      const ref = { channel: 'D1', ts: '3.000001' };
      await state.saveThread('cv_1', 'ag_a', ref);
      ref.ts = 'changed';
      const got = await state.thread('cv_1', 'ag_a');
      got!.ts = 'changed too';
      (await state.threads('cv_1'))[0]!.ref.ts = 'and this';
      (await state.threadOwner('D1', '3.000001'))!.agentId = 'ag_x';
      expect(await state.thread('cv_1', 'ag_a')).to.deep.equal({ channel: 'D1', ts: '3.000001' });
      expect(await state.threadOwner('D1', '3.000001')).to.deep.equal({
        conversationId: 'cv_1',
        agentId: 'ag_a',
      });
    });

    it('records where a message shows, once per place', async () => {
      const state = await make();
      await state.addPost('msg_1', { channel: 'D1', ts: '2.000001' });
      await state.addPost('msg_1', { channel: 'D1', ts: '2.000001' });
      await state.addPost('msg_1', { channel: 'D2', ts: '2.000002' });
      expect(await state.posts('msg_1')).to.deep.equal([
        { channel: 'D1', ts: '2.000001' },
        { channel: 'D2', ts: '2.000002' },
      ]);
      expect(await state.posts('msg_2')).to.deep.equal([]);
    });

    it('claims an event id once', async () => {
      const state = await make();
      expect(await state.claimEvent('Ev1', 1000)).to.equal(true);
      expect(await state.claimEvent('Ev1', 2000)).to.equal(false);
      expect(await state.claimEvent('Ev2', 2000)).to.equal(true);
    });

    it('claims an event id once when the claims come at the same time', async () => {
      const state = await make();
      const now = Date.now();
      const won = await Promise.all(Array.from({ length: 20 }, () => state.claimEvent('EvSame', now)));
      expect(won.filter(Boolean)).to.have.length(1);
    });

    it('forgets event ids after the retention window', async () => {
      const state = await make({ eventRetentionMs: 150 });
      expect(await state.claimEvent('Ev1', Date.now())).to.equal(true);
      expect(await state.claimEvent('Ev1', Date.now())).to.equal(false);
      await sleep(250);
      expect(await state.claimEvent('Ev1', Date.now())).to.equal(true);
      expect(await state.claimEvent('Ev1', Date.now())).to.equal(false);
    });

    it('lets an event claimed for processing be claimed again once its lease lapses, unless it was completed', async () => {
      const state = await make({ eventRetentionMs: 60_000 });
      expect(await state.claimEvent('EvA', Date.now(), 150)).to.equal(true);
      expect(await state.claimEvent('EvB', Date.now(), 150)).to.equal(true);
      // A retry while it is processed is dropped.
      expect(await state.claimEvent('EvA', Date.now(), 150)).to.equal(false);
      expect(await state.claimEvent('EvA', Date.now())).to.equal(false);
      await state.completeEvent('EvB', Date.now());
      await sleep(250);
      // EvA's process died before it was done: the next retry processes it; EvB was done.
      expect(await state.claimEvent('EvA', Date.now(), 150)).to.equal(true);
      expect(await state.claimEvent('EvB', Date.now(), 150)).to.equal(false);
      expect(await state.claimEvent('EvB', Date.now())).to.equal(false);
    });

    it('lets one caller open a card at a time, and tells the others when it is open and what it showed', async () => {
      const state = await make();
      const now = Date.now();
      expect(await state.cardState('cv_1', 'ag_a', now)).to.deep.equal({ opening: false, shows: null });
      expect(await state.reserveCard('cv_1', 'ag_a', now, 60_000)).to.equal(true);
      expect(await state.reserveCard('cv_1', 'ag_a', now, 60_000)).to.equal(false);
      // Another agent's card of the conversation, or the agent's card of another, is another reservation.
      expect(await state.reserveCard('cv_1', 'ag_b', now, 60_000)).to.equal(true);
      expect(await state.reserveCard('cv_2', 'ag_a', now, 60_000)).to.equal(true);
      expect(await state.cardState('cv_1', 'ag_a', now)).to.deep.equal({ opening: true, shows: null });
      const shown = ['msg_1', 'msg_2'];
      await state.endCard('cv_1', 'ag_a', shown);
      shown.push('msg_3');
      const opened = await state.cardState('cv_1', 'ag_a', now);
      expect(opened).to.deep.equal({ opening: false, shows: ['msg_1', 'msg_2'] });
      opened.shows!.push('changed');
      expect((await state.cardState('cv_1', 'ag_a', now)).shows).to.deep.equal(['msg_1', 'msg_2']);
      // Opening that failed ends the reservation and shows nothing.
      await state.endCard('cv_1', 'ag_b', null);
      expect(await state.cardState('cv_1', 'ag_b', now)).to.deep.equal({ opening: false, shows: null });
      expect(await state.reserveCard('cv_1', 'ag_b', now, 60_000)).to.equal(true);
    });

    it('gives a card to exactly one of the callers that reserve it at the same time', async () => {
      const state = await make();
      const now = Date.now();
      const won = await Promise.all(
        Array.from({ length: 20 }, () => state.reserveCard('cv_9', 'ag_a', now, 60_000)),
      );
      expect(won.filter(Boolean)).to.have.length(1);
    });

    it('lets a card reservation lapse (the process opening it died)', async () => {
      const state = await make();
      expect(await state.reserveCard('cv_1', 'ag_a', Date.now(), 100)).to.equal(true);
      expect(await state.reserveCard('cv_1', 'ag_a', Date.now(), 100)).to.equal(false);
      await sleep(200);
      expect((await state.cardState('cv_1', 'ag_a', Date.now())).opening).to.equal(false);
      expect(await state.reserveCard('cv_1', 'ag_a', Date.now(), 100)).to.equal(true);
    });

    it('keeps the posts of the newest messages only; a new post makes its message the newest', async () => {
      const state = await make({ maxPosts: 2 });
      await state.addPost('m1', { channel: 'D', ts: '1.1' });
      await state.addPost('m2', { channel: 'D', ts: '1.2' });
      await state.addPost('m3', { channel: 'D', ts: '1.3' });
      expect(await state.posts('m1')).to.deep.equal([]);
      expect(await state.posts('m2')).to.deep.equal([{ channel: 'D', ts: '1.2' }]);
      expect(await state.posts('m3')).to.deep.equal([{ channel: 'D', ts: '1.3' }]);
      // m2 gets a second post: now m3 is the oldest.
      await state.addPost('m2', { channel: 'E', ts: '1.4' });
      // A post already kept moves nothing.
      await state.addPost('m3', { channel: 'D', ts: '1.3' });
      await state.addPost('m4', { channel: 'D', ts: '1.5' });
      expect(await state.posts('m3')).to.deep.equal([]);
      expect(await state.posts('m2')).to.deep.equal([
        { channel: 'D', ts: '1.2' },
        { channel: 'E', ts: '1.4' },
      ]);
      expect(await state.posts('m4')).to.deep.equal([{ channel: 'D', ts: '1.5' }]);
    });

    it('remembers every message a thread shows: its card’s transcript and the lines added since', async () => {
      const state = await make();
      expect([...(await state.shown('cv_1', 'ag_a'))]).to.deep.equal([]);
      await state.reserveCard('cv_1', 'ag_a', Date.now(), 60_000);
      await state.endCard('cv_1', 'ag_a', ['msg_1', 'msg_2']);
      await state.markShown('cv_1', 'ag_a', ['msg_3']);
      await state.markShown('cv_1', 'ag_a', ['msg_3', 'msg_4']);
      await state.markShown('cv_1', 'ag_a', []);
      // A failed opening shows nothing; another agent's thread, or another conversation, is its own.
      await state.endCard('cv_1', 'ag_b', null);
      await state.markShown('cv_2', 'ag_a', ['msg_9']);
      expect([...(await state.shown('cv_1', 'ag_a'))].sort()).to.deep.equal([
        'msg_1',
        'msg_2',
        'msg_3',
        'msg_4',
      ]);
      expect([...(await state.shown('cv_1', 'ag_b'))]).to.deep.equal([]);
      expect([...(await state.shown('cv_2', 'ag_a'))]).to.deep.equal(['msg_9']);
      (await state.shown('cv_2', 'ag_a')).add('changed');
      expect([...(await state.shown('cv_2', 'ag_a'))]).to.deep.equal(['msg_9']);
    });

    it('hands a conversation whose Slack work ran out to one other holder; a renewed or released hold is not handed', async () => {
      const state = await make();
      await state.holdWork('cv_1', 'procA', 1_000);
      await state.holdWork('cv_2', 'procA', 1_000);
      await state.holdWork('cv_2', 'procB', 1_000);
      await state.holdWork('cv_3', 'procA', 1_000);
      // Renewed: later wins, an earlier until does not shorten it.
      await state.holdWork('cv_3', 'procA', 5_000);
      await state.holdWork('cv_3', 'procA', 2_000);
      await state.holdWork('cv_4', 'procA', 1_000);
      await state.releaseWork('cv_4', 'procA');
      expect(await state.takeOverWork('procC', 999, 10_000, 10)).to.deep.equal([]);
      // cv_2 ran out at two holders: handed once.
      expect((await state.takeOverWork('procC', 1_000, 10_000, 10)).sort()).to.deep.equal(['cv_1', 'cv_2']);
      expect(await state.takeOverWork('procD', 4_999, 10_000, 10)).to.deep.equal([]);
      expect(await state.takeOverWork('procD', 5_000, 10_000, 10)).to.deep.equal(['cv_3']);
      // Now procC's and procD's until 10,000; procC releases cv_1 when done, procD dies with cv_3.
      await state.releaseWork('cv_1', 'procC');
      expect((await state.takeOverWork('procE', 10_000, 20_000, 10)).sort()).to.deep.equal(['cv_2', 'cv_3']);
      expect(await state.takeOverWork('procF', 20_000, 30_000, 1)).to.have.length(1);
      expect(await state.takeOverWork('procF', 20_000, 30_000, 1)).to.have.length(1);
      expect(await state.takeOverWork('procF', 20_000, 30_000, 1)).to.deep.equal([]);
    });

    it('hands each conversation to one of the holders that take over at the same time', async () => {
      const state = await make();
      for (let i = 0; i < 10; i++) await state.holdWork(`cv_${i}`, 'dead', 1_000);
      const taken = await Promise.all(
        Array.from({ length: 8 }, (_, i) => state.takeOverWork(`proc${i}`, 2_000, 60_000, 3)),
      );
      expect(taken.flat().sort()).to.deep.equal(Array.from({ length: 10 }, (_, i) => `cv_${i}`).sort());
    });

    it('lets one team alert per topic go per window, counting the ones held back for the next', async () => {
      const state = await make();
      const every = 60_000;
      // [topic, now] → [post, unposted, since], in order: another topic has a window of its own.
      const steps: Array<[string, number, boolean, number, number | null]> = [
        ['chat', 1_000, true, 0, null],
        ['chat', 2_000, false, 1, 1_000],
        ['chat', 60_999, false, 2, 1_000],
        ['sms', 3_000, true, 0, null],
        ['chat', 61_000, true, 2, 1_000],
        ['chat', 62_000, false, 1, 61_000],
      ];
      for (const [topic, now, post, unposted, since] of steps) {
        expect(await state.alertWindow(topic, now, every), `${topic} at ${now}`).to.deep.equal({
          post,
          unposted,
          since,
        });
      }
      // A clock that went back (another process's) does not hold alerts back.
      expect((await state.alertWindow('chat', 30_000, every)).post).to.equal(true);
    });

    it('lets exactly one of the alerts that come at the same time go', async () => {
      const state = await make();
      const got = await Promise.all(
        Array.from({ length: 8 }, () => state.alertWindow('voice', 5_000, 60_000)),
      );
      expect(got.filter((w) => w.post)).to.have.length(1);
      expect(got.map((w) => w.unposted).sort((a, b) => a - b)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    });
  });
}
