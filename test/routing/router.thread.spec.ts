// A contact that names its conversation (an email thread), and the one-time
// acknowledgement of a wait, through the real Router.
import { expect } from 'chai';
import { type Harness, harness, MINUTE, SECOND } from './harness.js';

describe('Router: threads and wait acknowledgements', () => {
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });
  afterEach(() => {
    expect(h.invalidEvents()).to.deep.equal([]);
  });

  describe('contact({conversationId})', () => {
    /** One customer with two open conversations (two customers merged); the second is the latest. */
    async function twoOpen() {
      const byEmail = await h.contact({ channel: 'email', from: 'ana@example.org' });
      h.clock.advance(MINUTE);
      const bySms = await h.contact({ channel: 'sms', from: '+14155550100' });
      await h.router.mergeCustomers(byEmail.customer.id, bySms.customer.id);
      return {
        customerId: byEmail.customer.id,
        older: byEmail.conversation.id,
        latest: bySms.conversation.id,
      };
    }

    it('joins the named conversation even when the customer has a later open one', async () => {
      const { older, latest } = await twoOpen();
      const plain = await h.contact({ channel: 'email', from: 'ana@example.org' });
      expect(plain.conversation.id).to.equal(latest);
      const threaded = await h.contact({ channel: 'email', from: 'ana@example.org', conversationId: older });
      expect(threaded.conversation.id).to.equal(older);
      expect(threaded.created).to.equal(false);
      expect(threaded.message.conversationId).to.equal(older);
    });

    it("ignores another customer's conversation: the sender's own open one is used", async () => {
      const other = await h.contact({ channel: 'email', from: 'bo@example.org' });
      const mine = await h.contact({ channel: 'email', from: 'ana@example.org' });
      const again = await h.contact({
        channel: 'email',
        from: 'ana@example.org',
        conversationId: other.conversation.id,
      });
      expect(again.conversation.id).to.equal(mine.conversation.id);
      expect((await h.store.listMessages(other.conversation.id)).length).to.equal(1);
    });

    it('a resolved or unknown conversation is not reopened: a new one, offered to the last owner first', async () => {
      const sam = await h.agent('Sam');
      const first = await h.contact({ channel: 'email', from: 'ana@example.org' });
      expect(first.outcome).to.deep.equal({ type: 'assigned', agentId: sam.id });
      await h.router.resolve(sam.id, first.conversation.id);
      await h.agent('Max'); // idle longer than Sam from now on
      h.clock.advance(10 * MINUTE);
      const reply = await h.contact({
        channel: 'email',
        from: 'ana@example.org',
        conversationId: first.conversation.id,
      });
      expect(reply.created).to.equal(true);
      expect(reply.conversation.id).to.not.equal(first.conversation.id);
      expect(reply.outcome).to.deep.equal({ type: 'assigned', agentId: sam.id });
      expect(reply.conversation.ownership.map((o) => o.reason)).to.deep.equal(['last_owner']);
      const unknown = await h.contact({
        channel: 'email',
        from: 'zed@example.org',
        conversationId: 'cv_nope',
      });
      expect(unknown.created).to.equal(true);
    });
  });

  describe('acknowledgeWait', () => {
    it('once per wait in line: a system message on the last channel, emitted as message.sent', async () => {
      const queued = await h.contact({ channel: 'email', from: 'ana@example.org' });
      h.clearEvents();
      const ack = await h.router.acknowledgeWait(queued.conversation.id, 'You are number 1 in line.');
      expect(ack).to.deep.include({
        conversationId: queued.conversation.id,
        direction: 'out',
        channel: 'email',
        author: { type: 'system' },
        text: 'You are number 1 in line.',
      });
      expect(ack?.delivery.state).to.equal('pending');
      expect(h.eventsOf('message.sent').map((e) => e.message.id)).to.deep.equal([ack!.id]);

      h.clock.advance(5 * SECOND);
      await h.contact({ channel: 'email', from: 'ana@example.org' });
      expect(await h.router.acknowledgeWait(queued.conversation.id, 'again')).to.equal(null);
      expect(h.eventsOf('message.sent')).to.have.length(1);
      const texts = (await h.store.listMessages(queued.conversation.id)).map((m) => m.text);
      expect(texts.filter((t) => t === 'You are number 1 in line.')).to.have.length(1);
    });

    it('nothing while a person has it; once again when it waits for its away owner', async () => {
      const sam = await h.agent('Sam');
      const c = await h.contact({ channel: 'email', from: 'ana@example.org' });
      expect(await h.router.acknowledgeWait(c.conversation.id, 'wait')).to.equal(null);
      await h.router.setAgentStatus(sam.id, 'away');
      h.clock.advance(MINUTE);
      const waiting = await h.contact({ channel: 'email', from: 'ana@example.org' });
      expect(waiting.outcome.type).to.equal('waiting_for_owner');
      const first = await h.router.acknowledgeWait(c.conversation.id, 'Sam will reply within 4 hours.');
      expect(first?.text).to.equal('Sam will reply within 4 hours.');
      expect(await h.router.acknowledgeWait(c.conversation.id, 'again')).to.equal(null);
    });

    it('refuses an empty text and an unknown conversation', async () => {
      const c = await h.contact({ channel: 'email', from: 'ana@example.org' });
      const codeOf = async (p: Promise<unknown>) => {
        try {
          await p;
        } catch (err) {
          return (err as { code?: string }).code;
        }
        return 'resolved';
      };
      expect(await codeOf(h.router.acknowledgeWait(c.conversation.id, ' '))).to.equal('invalid_input');
      expect(await codeOf(h.router.acknowledgeWait('cv_nope', 'x'))).to.equal('not_found');
      expect(await h.store.listMessages(c.conversation.id)).to.have.length(1);
    });
  });
});
