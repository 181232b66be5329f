// What the Slack console remembers, as a contract every SlackState keeps: the
// memory implementation today (test/channels/slack.state.spec.ts), a Redis one later.
import { expect } from 'chai';
import type { SlackState } from '../../channels/slack/state.js';

export function slackStateContract(name: string, make: () => SlackState): void {
  describe(`SlackState contract: ${name}`, () => {
    it('remembers DM channels per Slack user', async () => {
      const state = make();
      expect(await state.dmChannel('U1')).to.equal(null);
      await state.rememberDmChannel('U1', 'D1');
      expect(await state.dmChannel('U1')).to.equal('D1');
      expect(await state.dmChannel('U2')).to.equal(null);
    });

    it('keeps one card per conversation and agent, and finds the conversation from its thread', async () => {
      const state = make();
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
    });

    it('records where a message shows, once per place', async () => {
      const state = make();
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
      const state = make();
      expect(await state.claimEvent('Ev1', 1000)).to.equal(true);
      expect(await state.claimEvent('Ev1', 2000)).to.equal(false);
      expect(await state.claimEvent('Ev2', 2000)).to.equal(true);
    });
  });
}
