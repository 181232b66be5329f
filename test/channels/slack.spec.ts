// The Slack console against the real Bolt app: signed requests to /slack/events
// (events, interactivity, the slash command), the real Web API client talking to
// the local stand-in, chat visitors as customers.
import { expect } from 'chai';
import { ACTION, FIELD, VIEW } from '../../channels/slack/blocks.js';
import { MemorySlackState } from '../../channels/slack/state.js';
import { slackDate } from '../../channels/slack/text.js';
import { MemoryStore } from '../../routing/store/memory.js';
import { StoreUnavailableError } from '../../shared/errors.js';
import { useHarness } from '../server/harness.js';
import { BOT_ID, BOT_USER_ID, type SlackCall, WORKSPACE_URL } from '../support/slack-standin.js';
import { emailEnv, mailWith, useSink } from './email-harness.js';
import {
  appHomeOpened,
  BOT_TOKEN,
  blockActions,
  cardOf,
  cardTsOf,
  dmMessage,
  dmOf,
  newEventId,
  pressCard,
  SIGNING_SECRET,
  type SlackHarness,
  type SlackHarnessOptions,
  sign,
  slashCommand,
  startSlackHarness,
  TWILIO_SID,
  useSlackHarness,
  type Visitor,
  viewSubmission,
} from './slack-harness.js';

/** A memory store that counts how often every agent is read (what a Slack event must not need). */
class CountingAgents extends MemoryStore {
  listed = 0;
  override async listAgents(...args: Parameters<MemoryStore['listAgents']>) {
    this.listed++;
    return super.listAgents(...args);
  }
}

const ADA = 'U0ADA00001';
const BOB = 'U0BOB00001';
const CAT = 'U0CAT00001';

// biome-ignore lint/suspicious/noExplicitAny: Block Kit JSON as the stand-in recorded it
type Json = any;

/** Ada available and linked; a chat visitor (Mary, known email) writes; Ada's card is posted. */
async function maryWrites(h: SlackHarness, text = 'my order #1234 is late') {
  const ada = await h.agent('Ada', ADA);
  const mary = await h.visitor();
  await mary.identify({ name: 'Mary Major', email: 'mary@example.com' });
  const sent = await mary.say(text);
  await h.idle();
  return { ada, mary, conversationId: sent.conversationId, card: cardOf(h, ADA) };
}

/** `user` presses a button of the card in their DM (`threadTs`) for `conversationId`; Slack gets 200. */
async function pressOnCard(
  h: SlackHarness,
  user: string,
  actionId: string,
  conversationId: string,
  threadTs: string,
): Promise<void> {
  await h
    .interact(
      blockActions({ user, actionId, value: conversationId, channel: dmOf(user), messageTs: threadTs }),
    )
    .expect(200);
}

function threadTexts(h: SlackHarness, user: string, threadTs: string): string[] {
  return h.slack
    .ok('chat.postMessage', (a) => a.channel === dmOf(user) && a.thread_ts === threadTs)
    .map((c) => String(c.args.text));
}

/** What reached a chat visitor from Switchboard (its texts, in order). */
function repliesTo(visitor: Visitor): unknown[] {
  return visitor.received.filter((m) => m.direction === 'out').map((m) => m.text);
}

/** Run `body` on a Slack harness of its own (the tests whose state differs), closed after. */
async function withSlackHarness(
  options: SlackHarnessOptions,
  body: (h: SlackHarness) => Promise<void>,
): Promise<void> {
  const h = await startSlackHarness(options);
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

function blockTexts(blocks: Json[]): string {
  return JSON.stringify(blocks);
}

/** A button pressed or an option picked, answered 200, and what it started done. */
async function press(h: SlackHarness, input: Parameters<typeof blockActions>[0]): Promise<void> {
  await h.interact(blockActions(input)).expect(200);
  await h.idle();
}

describe('Slack console off', () => {
  const plain = useHarness();

  it('without SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET: off, said at start, and /slack/events does not exist', async () => {
    const h = plain();
    expect(h.sb.slack).to.equal(null);
    expect(h.config.off).to.include(
      'Slack console: off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to turn it on)',
    );
    await h.http().post('/slack/events').send({ type: 'url_verification', challenge: 'x' }).expect(404);
  });
});

describe('Slack console (Bolt, /slack/events)', () => {
  const sb = useSlackHarness();

  describe('request signatures', () => {
    it('answers Slack’s url_verification challenge when signed', async () => {
      const h = sb();
      const body = JSON.stringify({
        token: 't',
        challenge: 'c-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
        type: 'url_verification',
      });
      const res = await h.post(body, 'application/json').expect(200);
      expect(res.body).to.deep.equal({ challenge: 'c-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
    });

    it('rejects a wrong signature, a wrong secret, no signature and a stale timestamp, and processes none', async () => {
      const h = sb();
      await h.agent('Ada', ADA);
      await h.idle();
      const before = h.slack.calls.length;
      const now = Math.floor(Date.now() / 1000);
      await h.event(appHomeOpened(ADA), { signature: `v0=${'0'.repeat(64)}` }).expect(401);
      await h.event(appHomeOpened(ADA), { secret: 'not-the-signing-secret-0123456' }).expect(401);
      await h.event(appHomeOpened(ADA), { signature: null }).expect(401);
      await h.event(appHomeOpened(ADA), { timestamp: now - 6 * 60 }).expect(401);
      await h
        .command(slashCommand(ADA, 'away', h.slack.responseUrl()), { timestamp: now - 3600 })
        .expect(401);
      await h
        .interact(blockActions({ user: ADA, actionId: `${ACTION.status}_away`, value: 'away' }), {
          secret: 'x'.repeat(32),
        })
        .expect(401);
      await h.idle();
      expect(h.slack.calls.slice(before).map((c) => c.method)).to.deep.equal([]);
      expect((await h.store.getAgent((await h.store.listAgents())[0]!.id))!.status).to.equal('available');
    });

    it('a body changed after signing is rejected', async () => {
      const h = sb();
      const ts = Math.floor(Date.now() / 1000);
      const signed = JSON.stringify({ type: 'url_verification', challenge: 'a' });
      await h
        .post(JSON.stringify({ type: 'url_verification', challenge: 'b' }), 'application/json', {
          timestamp: ts,
          signature: sign(SIGNING_SECRET, ts, signed),
        })
        .expect(401);
    });
  });

  describe('context card and thread', () => {
    it('on assignment posts a Block Kit card in the owner’s DM with what is known, then the messages in its thread', async () => {
      const h = sb();
      const { card } = await maryWrites(h);
      expect(h.slack.ok('conversations.open')[0]!.args.users).to.equal(ADA);
      expect(card.args.channel).to.equal(dmOf(ADA));
      expect(card.token).to.equal('xoxb-1111-2222-switchboardtest');
      const blocks = card.args.blocks as Json[];
      expect(blocks[0]).to.deep.equal({ type: 'header', text: { type: 'plain_text', text: 'Mary Major' } });
      const text = blockTexts(blocks);
      expect(text).to.contain('Already known');
      expect(text).to.contain('mary@example.com');
      expect(text).to.contain('(the chat form)');
      expect(text).to.contain('Channels used');
      expect(text).to.contain('Waiting so far');
      const actions = blocks.find((b) => b.type === 'actions')!;
      expect(actions.elements.map((e: Json) => [e.text.text, e.action_id])).to.deep.equal([
        ['Resolve', ACTION.resolve],
        ['Resolve with follow-up…', ACTION.followUp],
        ['Consult', ACTION.consult],
        ['Hand off', ACTION.handoff],
        ['Promise', ACTION.promise],
        ['Details…', ACTION.details],
        ['Block…', ACTION.block],
      ]);
      const threadTs = cardTsOf(h, ADA);
      const lines = threadTexts(h, ADA, threadTs);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.contain('Mary Major');
      expect(lines[0]).to.contain('my order #1234 is late');
    });

    it('a later customer message appears in the thread as it arrives, escaped', async () => {
      const h = sb();
      const { mary } = await maryWrites(h);
      const threadTs = cardTsOf(h, ADA);
      await mary.say('hello <!channel> & <@U0BOB00001>');
      await h.idle();
      const lines = threadTexts(h, ADA, threadTs);
      expect(lines).to.have.length(2);
      expect(lines[1]).to.contain('hello &lt;!channel&gt; &amp; &lt;@U0BOB00001&gt;');
    });

    it('a reply with a colleague mentioned, emoji and marks reaches the customer as they would read it', async () => {
      const h = sb();
      const { mary } = await maryWrites(h);
      await h.agent('Bob', 'U0BOB00001', { status: 'away' });
      const msg = dmMessage(
        ADA,
        dmOf(ADA),
        'My colleague <@U0BOB00001> will call you :+1::skin-tone-2: *now*, <@U0NOBODY1> too :tada:',
        cardTsOf(h, ADA),
      );
      await h.event(msg).expect(200);
      await h.idle();
      expect(mary.received.filter((m) => m.direction === 'out').map((m) => m.text)).to.deep.equal([
        'My colleague Bob will call you 👍🏻 now, a colleague too 🎉',
      ]);
    });

    it('an agent who edits or deletes a reply in the thread is told it does not reach the customer', async () => {
      const h = sb();
      const { mary } = await maryWrites(h);
      const threadTs = cardTsOf(h, ADA);
      const sent = dmMessage(ADA, dmOf(ADA), 'Price is 40', threadTs);
      await h.event(sent).expect(200);
      await h.idle();
      const edit = {
        type: 'message',
        subtype: 'message_changed',
        channel: dmOf(ADA),
        channel_type: 'im',
        ts: `${Number(sent.ts) + 1}`,
        hidden: true,
        message: { type: 'message', user: ADA, text: 'Price is 50', ts: sent.ts, thread_ts: threadTs },
        previous_message: {
          type: 'message',
          user: ADA,
          text: 'Price is 40',
          ts: sent.ts,
          thread_ts: threadTs,
        },
      };
      await h.event(edit).expect(200);
      await h.event({ ...edit, subtype: 'message_deleted', message: undefined }).expect(200);
      await h.idle();
      expect(mary.received.filter((m) => m.direction === 'out').map((m) => m.text)).to.deep.equal([
        'Price is 40',
      ]);
      const told = h.slack
        .ok('chat.postEphemeral')
        .filter((c) => c.args.user === ADA && c.args.thread_ts === threadTs)
        .map((c) => String(c.args.text));
      expect(told).to.deep.equal([
        'Edits made here do not reach Switchboard: what you first wrote stands (sent to the customer, or kept as a note). To correct it, write again in the thread.',
        'Deleting a message here does not take it back: what you wrote stands (sent to the customer, or kept as a note). To correct it, write again in the thread.',
      ]);
    });

    it('a reply in the thread goes to the customer and the thread shows it was delivered', async () => {
      const h = sb();
      const { mary, conversationId } = await maryWrites(h);
      const threadTs = cardTsOf(h, ADA);
      const msg = dmMessage(
        ADA,
        dmOf(ADA),
        'Sorry Mary &amp; thanks — see <https://example.com/t/1|tracking>',
        threadTs,
      );
      await h.event(msg).expect(200);
      await h.idle();
      const out = mary.received.filter((m) => m.direction === 'out');
      expect(out.map((m) => m.text)).to.deep.equal([
        'Sorry Mary & thanks — see tracking (https://example.com/t/1)',
      ]);
      const stored = (await h.store.listMessages(conversationId)).filter((m) => m.direction === 'out');
      expect(stored).to.have.length(1);
      expect(stored[0]!.author).to.deep.equal({
        type: 'agent',
        id: (await h.store.listAgents())[0]!.id,
        name: 'Ada',
      });
      const marks = h.slack.ok('reactions.add');
      expect(marks.map((c) => [c.args.channel, c.args.timestamp, c.args.name])).to.deep.equal([
        [dmOf(ADA), msg.ts, 'white_check_mark'],
      ]);
      // Not echoed back into the thread it was written in.
      expect(threadTexts(h, ADA, threadTs)).to.have.length(1);
    });

    it('what happens elsewhere shows in the thread too: a reply from the web console, a promise and its due time', async () => {
      const h = sb();
      const { ada, mary, conversationId } = await maryWrites(h);
      await h.sb.router.reply(ada.id, conversationId, 'Written in the web console', 'web-1');
      await h.sb.router.promise(
        ada.id,
        conversationId,
        h.clock.now() + 600_000,
        'Call back about the refund',
      );
      await h.idle();
      h.clock.advance(600_000);
      await h.sb.router.tick();
      await h.idle();
      const lines = threadTexts(h, ADA, cardTsOf(h, ADA));
      expect(lines.slice(1).map((l) => l.split('\n')[0])).to.deep.equal([
        '*Ada* → customer · chat',
        `:handshake: Promise by *Ada*: “Call back about the refund” — due <!date^${Math.floor(h.clock.now() / 1000)}^{date_short_pretty} {time}|2026-01-05 09:10 UTC>`,
        // The reminder came due in the same tick: the clock jumped past it.
        `:hourglass_flowing_sand: Your promise “Call back about the refund” is due <!date^${Math.floor(h.clock.now() / 1000)}^{date_short_pretty} {time}|2026-01-05 09:10 UTC>. Mark it kept once it is done: one not marked kept by then counts as broken.`,
        ':alarm_clock: Promise due now: “Call back about the refund” (made by *Ada*): not marked kept, so it counts as broken.',
      ]);
      expect(repliesTo(mary)).to.deep.equal(['Written in the web console']);
    });

    it('a `note:` stays internal: nothing reaches the customer', async () => {
      const h = sb();
      const { mary, conversationId } = await maryWrites(h);
      const threadTs = cardTsOf(h, ADA);
      await h.event(dmMessage(ADA, dmOf(ADA), 'Note: she called yesterday too', threadTs)).expect(200);
      await h.event(dmMessage(ADA, dmOf(ADA), '  note:refund approved', threadTs)).expect(200);
      await h.idle();
      expect(mary.received.filter((m) => m.direction === 'out')).to.deep.equal([]);
      const stored = await h.store.listMessages(conversationId);
      expect(stored.filter((m) => m.direction === 'out')).to.deep.equal([]);
      expect(stored.filter((m) => m.direction === 'internal').map((m) => m.text)).to.deep.equal([
        'she called yesterday too',
        'refund approved',
      ]);
      expect(h.slack.ok('reactions.add')).to.deep.equal([]);
    });

    it('ignores its own messages, other bots, edits, and threads it does not know', async () => {
      const h = sb();
      const { mary, conversationId } = await maryWrites(h);
      const threadTs = cardTsOf(h, ADA);
      const before = h.slack.calls.length;
      await h
        .event({ ...dmMessage(BOT_USER_ID, dmOf(ADA), 'echo of our own', threadTs), bot_id: BOT_ID })
        .expect(200);
      await h
        .event({
          ...dmMessage(BOT_USER_ID, dmOf(ADA), 'own, subtype', threadTs),
          subtype: 'bot_message',
          bot_id: BOT_ID,
        })
        .expect(200);
      await h
        .event({ ...dmMessage('U0OTHERBOT', dmOf(ADA), 'another bot', threadTs), bot_id: 'B0OTHER001' })
        .expect(200);
      await h
        .event({ ...dmMessage(ADA, dmOf(ADA), 'edited', threadTs), subtype: 'message_changed' })
        .expect(200);
      await h.event(dmMessage(ADA, dmOf(ADA), 'in some other thread', '1700000000.000001')).expect(200);
      await h.idle();
      expect(mary.received.filter((m) => m.direction === 'out')).to.deep.equal([]);
      expect((await h.store.listMessages(conversationId)).filter((m) => m.direction !== 'in')).to.deep.equal(
        [],
      );
      expect(h.slack.calls.slice(before).map((c) => c.method)).to.deep.equal([]);
    });

    it('a retried event (same event id, X-Slack-Retry-Num) is processed once', async () => {
      const h = sb();
      const { mary } = await maryWrites(h);
      const threadTs = cardTsOf(h, ADA);
      const msg = dmMessage(ADA, dmOf(ADA), 'only once please', threadTs);
      const eventId = newEventId();
      await h.event(msg, { eventId }).expect(200);
      await h.event(msg, { eventId, retryNum: 1 }).expect(200);
      await h.event(msg, { eventId, retryNum: 2 }).expect(200);
      await h.idle();
      expect(repliesTo(mary)).to.deep.equal(['only once please']);
    });

    it('a reply or note written in the thread is stored before Slack is answered, though finding its thread is slow', async () => {
      // Redis answering slowly: the shared state takes 300 ms to say whose thread it is.
      class Slow extends MemorySlackState {
        override async threadOwner(channel: string, ts: string) {
          await new Promise((resolve) => setTimeout(resolve, 300));
          return super.threadOwner(channel, ts);
        }
      }
      await withSlackHarness({ state: new Slow() }, async (h) => {
        const { conversationId } = await maryWrites(h);
        const threadTs = cardTsOf(h, ADA);
        await h.event(dmMessage(ADA, dmOf(ADA), 'stored before the answer', threadTs)).expect(200);
        await h.event(dmMessage(ADA, dmOf(ADA), 'note: and this note too', threadTs)).expect(200);
        const texts = (await h.store.listMessages(conversationId)).map((m) => m.text);
        expect(texts).to.include('stored before the answer');
        expect(texts).to.include('and this note too');
      });
    });

    it('a button, a form and the slash command are stored before Slack is answered, though finding the agent is slow', async () => {
      // Redis answering slowly: looking up who pressed takes 300 ms once the world is set up.
      class Slow extends MemoryStore {
        slow = false;
        override async listAgents(...args: Parameters<MemoryStore['listAgents']>) {
          if (this.slow) await new Promise((resolve) => setTimeout(resolve, 300));
          return super.listAgents(...args);
        }
      }
      const store = new Slow();
      await withSlackHarness({ store }, async (h) => {
        const { ada, conversationId } = await maryWrites(h);
        const bob = await h.agent('Bob', BOB);
        const threadTs = cardTsOf(h, ADA);
        await h.idle();
        store.slow = true;
        const note = {
          [FIELD.handoffTarget.block]: {
            [FIELD.handoffTarget.action]: { type: 'users_select', selected_user: BOB },
          },
          [FIELD.handoffNote.block]: {
            [FIELD.handoffNote.action]: { type: 'plain_text_input', value: 'yours?' },
          },
        };
        await h.interact(viewSubmission(ADA, VIEW.handoff, conversationId, note)).expect(200);
        expect((await h.store.getConversation(conversationId))!.handoff?.to).to.equal(bob.id);
        const press = (actionId: string) =>
          blockActions({
            user: ADA,
            actionId,
            value: conversationId,
            channel: dmOf(ADA),
            messageTs: threadTs,
          });
        await h.interact(press(ACTION.resolve)).expect(200);
        expect((await h.store.getConversation(conversationId))!.status).to.equal('resolved');
        await h.command(slashCommand(ADA, 'away', h.slack.responseUrl())).expect(200);
        expect((await h.store.getAgent(ada.id))!.status).to.equal('away');
        await h.idle();
      });
    });

    it('a retry of an event whose process stopped before it was done is processed; one being processed or done is not', async () => {
      const state = new MemorySlackState();
      await withSlackHarness({ state }, async (h) => {
        const { mary } = await maryWrites(h);
        const threadTs = cardTsOf(h, ADA);
        // Another process claimed it 31 seconds ago and stopped: its claim (30 s) has lapsed.
        const lapsed = newEventId();
        await state.claimEvent(lapsed, Date.now() - 31_000, 30_000);
        // Another is still processing this one.
        const busy = newEventId();
        await state.claimEvent(busy, Date.now(), 30_000);
        const msg = (text: string) => dmMessage(ADA, dmOf(ADA), text, threadTs);
        await h.event(msg('the lapsed one'), { eventId: lapsed, retryNum: 2 }).expect(200);
        await h.event(msg('the busy one'), { eventId: busy, retryNum: 1 }).expect(200);
        await h.event(msg('the lapsed one'), { eventId: lapsed, retryNum: 3 }).expect(200);
        await h.idle();
        expect(repliesTo(mary)).to.deep.equal(['the lapsed one']);
      });
    });

    it('an event that cannot be claimed (its state unreachable) is answered 503, so Slack sends it again', async () => {
      class Away extends MemorySlackState {
        away = false;
        override async claimEvent(eventId: string, now: number, leaseMs?: number) {
          if (this.away)
            throw new StoreUnavailableError('slack claimEvent: no answer from Redis within 1000 ms');
          return super.claimEvent(eventId, now, leaseMs);
        }
      }
      const state = new Away();
      await withSlackHarness({ state }, async (h) => {
        const { mary } = await maryWrites(h);
        const threadTs = cardTsOf(h, ADA);
        const msg = dmMessage(ADA, dmOf(ADA), 'sent again by Slack', threadTs);
        const eventId = newEventId();
        state.away = true;
        await h.event(msg, { eventId }).expect(503);
        state.away = false;
        await h.event(msg, { eventId, retryNum: 1 }).expect(200);
        await h.idle();
        expect(repliesTo(mary)).to.deep.equal(['sent again by Slack']);
      });
    });

    it('an event that comes while the app cannot tell who it is (auth.test failed) is answered 503', async () => {
      const h = sb();
      h.slack.fail('auth.test', 'service_unavailable');
      const msg = dmMessage(ADA, dmOf(ADA), 'hello?', '1767000000.000001');
      await h.event(msg).expect(503);
      await h.event(msg, { retryNum: 1 }).expect(200);
    });

    it('a file shared in the thread goes to the customer with the text, read from Slack with the bot token', async () => {
      const h = sb();
      const { mary, conversationId } = await maryWrites(h);
      const threadTs = cardTsOf(h, ADA);
      const pdf = Buffer.from('%PDF-1.4 returns label');
      const shared = {
        ...dmMessage(ADA, dmOf(ADA), 'here is your label', threadTs),
        subtype: 'file_share',
        files: [h.slack.addFile('label.pdf', 'application/pdf', pdf)],
      };
      await h.event(shared).expect(200);
      await h.idle();
      expect(repliesTo(mary)).to.deep.equal(['here is your label']);
      const [reply] = mary.received.filter((m) => m.direction === 'out');
      const [file] = (reply as Json).attachments;
      expect([file.name, file.type, file.size]).to.deep.equal(['label.pdf', 'application/pdf', pdf.length]);
      const got = await fetch(`${h.url}${new URL(file.url).pathname}`);
      expect(Buffer.compare(Buffer.from(await got.arrayBuffer()), pdf)).to.equal(0);
      expect(h.slack.fileReads.map((r) => r.token)).to.deep.equal([BOT_TOKEN]);
      expect(h.slack.ok('chat.postEphemeral')).to.have.length(0);
      const stored = await h.store.listMessages(conversationId);
      expect(stored.at(-1)?.attachments.map((a) => a.name)).to.deep.equal(['label.pdf']);
    });

    it('a file Slack does not hand over, too large, or linked elsewhere stays in Slack: the agent is told why', async () => {
      const h = sb();
      const { mary } = await maryWrites(h);
      const threadTs = cardTsOf(h, ADA);
      const share = (text: string, files: Json[], ts: string) => ({
        ...dmMessage(ADA, dmOf(ADA), text, threadTs),
        ts,
        subtype: 'file_share',
        files,
      });
      const png = h.slack.addFile('a.png', 'image/png', Buffer.from('png'));
      const big = {
        ...h.slack.addFile('b <c>.png', 'image/png', Buffer.from('big')),
        size: 11 * 1024 * 1024,
      };
      const elsewhere = { ...png, name: 'd.png', url_private_download: 'https://evil.example.com/steal' };
      await h.event(share('', [big, elsewhere], '1767000100.000001')).expect(200);
      h.slack.filesScope = false;
      await h.event(share('the form', [png], '1767000100.000002')).expect(200);
      await h.idle();
      expect(repliesTo(mary)).to.deep.equal(['the form']);
      // The bot token went to no other host.
      expect(h.slack.fileReads).to.have.length(1);
      const told = h.slack.ok('chat.postEphemeral').map((c) => String(c.args.text));
      expect(told).to.deep.equal([
        '“b &lt;c&gt;.png” was not sent to the customer: it is larger than 10 MB.\n' +
          '“d.png” was not sent to the customer: Slack gave a link outside its file hosts.',
        '“a.png” was not sent to the customer: Slack did not hand it over (the app needs the files:read scope).\n' +
          'Your text was sent.',
      ]);
      expect(h.slack.ok('chat.postEphemeral').every((c) => c.args.thread_ts === threadTs)).to.equal(true);
    });

    it('finds who wrote without reading every agent each time, and follows a link moved to another Slack user', async () => {
      const store = new CountingAgents();
      await withSlackHarness({ store }, async (h) => {
        const { ada, mary } = await maryWrites(h);
        const threadTs = cardTsOf(h, ADA);
        await h.idle();
        const before = store.listed;
        for (const text of ['one', 'two', 'three']) {
          await h.event(dmMessage(ADA, dmOf(ADA), text, threadTs)).expect(200);
        }
        await h.idle();
        expect(repliesTo(mary)).to.deep.equal(['one', 'two', 'three']);
        expect(store.listed - before).to.be.at.most(1);
        // Ada's agent is now linked to another Slack user: the old one is a stranger, the new one is Ada.
        const ADA2 = 'U0ADA00002';
        await h.sb.router.updateAgent(ada.id, { slackUserId: ADA2 });
        await h.event(dmMessage(ADA, dmOf(ADA), 'from the old account', threadTs)).expect(200);
        await h.event(dmMessage(ADA2, dmOf(ADA), 'from the new account', threadTs)).expect(200);
        await h.idle();
        expect(repliesTo(mary)).to.deep.equal(['one', 'two', 'three', 'from the new account']);
        /** Who was told something only they see, and what. */
        const ephemerals = () =>
          h.slack.ok('chat.postEphemeral').map((c) => [c.args.user, String(c.args.text)]);
        const told = ephemerals();
        expect(told).to.have.length(1);
        expect(told[0]![0]).to.equal(ADA);
        expect(told[0]![1]).to.contain('not linked');
        // The link taken away (the agent left): the Slack user no longer acts for the agent.
        await h.sb.router.updateAgent(ada.id, { slackUserId: null });
        await h.event(dmMessage(ADA2, dmOf(ADA), 'after leaving', threadTs)).expect(200);
        await h.idle();
        expect(repliesTo(mary)).to.deep.equal(['one', 'two', 'three', 'from the new account']);
        const last = ephemerals();
        expect(last).to.have.length(2);
        expect(last[1]![0]).to.equal(ADA2);
        expect(last[1]![1]).to.contain('not linked');
      });
    });

    it('a colleague linked to no agent is looked for once, not on each visit, until an agent changes', async () => {
      const store = new CountingAgents();
      await withSlackHarness({ store }, async (h) => {
        const grace = await h.agent('Grace', null);
        await h.idle();
        const before = store.listed;
        for (let i = 0; i < 3; i++) await h.event(appHomeOpened('U0GRACE001')).expect(200);
        await h.idle();
        expect(store.listed - before).to.equal(1);
        const homes = h.slack.ok('views.publish', (a) => a.user_id === 'U0GRACE001');
        expect(homes).to.have.length(3);
        expect(blockTexts(homes[2]!.args.view.blocks)).to.contain('slackUserId');
        // An admin links her: her next visit finds her at once.
        await h.sb.router.updateAgent(grace.id, { slackUserId: 'U0GRACE001' });
        await h.event(appHomeOpened('U0GRACE001')).expect(200);
        await h.idle();
        const last = h.slack.ok('views.publish', (a) => a.user_id === 'U0GRACE001').at(-1)!;
        expect(blockTexts(last.args.view.blocks)).to.contain('You are *available*');
      });
    });

    it('someone not linked to an agent is told so, and nothing is sent', async () => {
      const h = sb();
      const { mary } = await maryWrites(h);
      const threadTs = cardTsOf(h, ADA);
      await h.event(dmMessage('U0STRANGER', dmOf(ADA), 'hi', threadTs)).expect(200);
      await h.idle();
      expect(mary.received.filter((m) => m.direction === 'out')).to.deep.equal([]);
      const eph = h.slack.ok('chat.postEphemeral');
      expect(eph).to.have.length(1);
      expect(eph[0]!.args.user).to.equal('U0STRANGER');
      expect(eph[0]!.args.text).to.contain('not linked');
    });

    it('acknowledges at once and survives payloads that do not fit', async () => {
      const h = sb();
      await h.agent('Ada', ADA);
      await h.idle();
      const published = h.slack.ok('views.publish').length;
      await h.event({ type: 'message', channel: 12, ts: 'nope' }).expect(200);
      await h
        .interact({ type: 'block_actions', actions: 'x', user: null })
        .expect((r) => expect(r.status).to.be.lessThan(500));
      await h
        .post('payload=%7Bnot-json', 'application/x-www-form-urlencoded')
        .expect((r) => expect(r.status).to.be.within(200, 499));
      await h.idle();
      const res = await h.event(appHomeOpened(ADA)).expect(200);
      expect(res.status).to.equal(200);
      await h.idle();
      expect(h.slack.ok('views.publish')).to.have.length(published + 1);
    });
  });

  describe("a customer's pictures in the thread", () => {
    const PNG = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
      'base64',
    );

    /** The one picture uploaded: `name`, its bytes PNG's, shared in Ada's card thread. */
    const sharedUnderCard = (h: SlackHarness, name: string) => {
      const uploads = [...h.slack.uploads.values()];
      expect(uploads.map((u) => [u.filename, u.shared?.thread_ts])).to.deep.equal([[name, cardTsOf(h, ADA)]]);
      expect(uploads[0]!.bytes!.equals(PNG)).to.equal(true);
    };

    it('a picture a visitor sends is shared in the thread under its line (as Slack uploads), a PDF stays a link', async () => {
      const h = sb();
      const { mary } = await maryWrites(h);
      const threadTs = cardTsOf(h, ADA);
      await mary.sendFiles('the box, and the invoice', [
        { name: 'box.png', type: 'image/png', content: PNG },
        { name: 'invoice.pdf', type: 'application/pdf', content: Buffer.from('%PDF-1.4 invoice') },
      ]);
      await h.idle();
      const line = threadTexts(h, ADA, threadTs).at(-1)!;
      expect(line).to.contain('the box, and the invoice');
      expect(line).to.contain('box.png');
      expect(line).to.contain('invoice.pdf');
      const asked = h.slack.ok('files.getUploadURLExternal');
      expect(asked.map((c) => [c.args.filename, Number(c.args.length)])).to.deep.equal([
        ['box.png', PNG.length],
      ]);
      const [upload] = [...h.slack.uploads.values()];
      expect(upload!.bytes!.equals(PNG)).to.equal(true);
      expect(upload!.shared).to.deep.equal({ channel: dmOf(ADA), thread_ts: threadTs, title: 'box.png' });
      // Shared after the line that names it.
      const lineAt = h.slack.ok('chat.postMessage', (a) =>
        String(a.text).includes('the box, and the invoice'),
      )[0]!;
      expect(h.slack.ok('files.completeUploadExternal')[0]!.at).to.be.at.least(lineAt.at);
    });

    it("a first message with a picture: shared under the new card's transcript", async () => {
      const h = sb();
      await h.agent('Ada', ADA);
      const mary = await h.visitor();
      await mary.sendFiles('hello, see this', [{ name: 'first.png', type: 'image/png', content: PNG }]);
      await h.idle();
      const threadTs = cardTsOf(h, ADA);
      expect([...h.slack.uploads.values()].map((u) => [u.filename, u.shared])).to.deep.equal([
        ['first.png', { channel: dmOf(ADA), thread_ts: threadTs, title: 'first.png' }],
      ]);
    });

    it("a picture a customer emailed is shown too (its kept attachment's bytes)", async () => {
      const token = 'test-email-inbound-token-0123456789';
      await withSlackHarness(
        // Replies are not sent here: the SMTP server is never reached.
        {
          env: {
            EMAIL_INBOUND_TOKEN: token,
            SMTP_URL: 'smtp://127.0.0.1:9',
            EMAIL_FROM: 'support@support.example.com',
          },
        },
        async (h) => {
          await h.agent('Ada', ADA);
          const mail = mailWith('pic-1', [['dent.png', 'image/png', PNG]]);
          const res = await fetch(`${h.url}/email/inbound`, {
            method: 'POST',
            headers: { 'Content-Type': 'message/rfc822', Authorization: `Bearer ${token}` },
            body: mail,
          });
          expect(res.status).to.equal(202);
          await h.idle();
          sharedUnderCard(h, 'dent.png');
        },
      );
    });

    it('a picture a customer texted (MMS) is shown too: Switchboard fetched and kept it', async () => {
      await withSlackHarness({ twilio: true }, async (h) => {
        await h.agent('Ada', ADA);
        const sid = `SM${'1'.repeat(32)}`;
        const res = await h
          .twilioWebhook('/twilio/sms', {
            MessageSid: sid,
            AccountSid: TWILIO_SID,
            From: '+14155550142',
            To: '+14155550100',
            Body: 'the dent',
            NumMedia: '1',
            MediaUrl0: h.twilio!.addMedia(PNG, 'image/png', sid),
            MediaContentType0: 'image/png',
          })
          .expect(200);
        expect(res.text).to.contain('<Response');
        await h.idle();
        sharedUnderCard(h, 'mms-1.png');
      });
    });

    it('without files:write the line keeps the link, and the next picture is not tried', async () => {
      const h = sb();
      h.slack.filesWriteScope = false;
      const { mary } = await maryWrites(h);
      await mary.sendFiles('first', [{ name: 'one.png', type: 'image/png', content: PNG }]);
      await h.idle();
      await mary.sendFiles('second', [{ name: 'two.png', type: 'image/png', content: PNG }]);
      await h.idle();
      expect(
        threadTexts(h, ADA, cardTsOf(h, ADA))
          .slice(-2)
          .map((t) => t.includes('.png')),
      ).to.deep.equal([true, true]);
      expect(h.slack.calls.filter((c) => c.method === 'files.getUploadURLExternal')).to.have.length(1);
      expect(h.slack.uploads.size).to.equal(0);
    });
  });

  describe('acknowledging and pacing', () => {
    it('acknowledges a button at once and does the Slack work after', async () => {
      const h = sb();
      const { conversationId } = await maryWrites(h);
      const threadTs = cardTsOf(h, ADA);
      h.slack.hold('chat.update');
      const started = Date.now();
      await pressOnCard(h, ADA, ACTION.resolve, conversationId, threadTs);
      expect(Date.now() - started).to.be.lessThan(3000);
      // Answered while the card update is still waiting on Slack.
      await h.slack.waitFor('chat.update', () => true, 3000, false);
      expect(h.slack.calls.filter((c) => c.method === 'chat.update').map((c) => c.status)).to.deep.equal([0]);
      h.slack.release('chat.update');
      await h.idle();
      expect(h.slack.ok('chat.update', (a) => a.ts === threadTs)).to.have.length(1);
    });

    it('a 429 from Slack is waited out (Retry-After) and the same message goes again: nothing dropped', async () => {
      const h = sb();
      await h.agent('Ada', ADA);
      await h.idle();
      h.slack.rateLimit('chat.postMessage', 1);
      const mary = await h.visitor();
      await mary.identify({ name: 'Mary Major' });
      await mary.say('first');
      await h.idle();
      const posts = h.slack.calls.filter((c) => c.method === 'chat.postMessage');
      expect(posts.map((c) => c.status)).to.deep.equal([429, 200, 200]);
      expect(posts[0]!.args).to.deep.equal(posts[1]!.args);
      expect(h.waits).to.include(1000);
      expect(posts[2]!.args.thread_ts).to.equal(posts[1]!.answer.ts);
      expect(posts[2]!.args.text).to.contain('first');
    });
  });

  describe('a card another process opens (the shared Slack state)', () => {
    // Another process opens Ada's card between this process's look for it and its reservation: the state
    // it shares shows the card saved and its reservation ended just then.
    const OTHER_CARD = { channel: dmOf(ADA), ts: '1767000000.000001' };
    class OpenedMeanwhile extends MemorySlackState {
      #done = false;
      override async cardState(conversationId: string, agentId: string, now: number) {
        if (!this.#done) {
          this.#done = true;
          await this.saveThread(conversationId, agentId, OTHER_CARD);
          await this.endCard(conversationId, agentId, []);
        }
        return super.cardState(conversationId, agentId, now);
      }
    }
    const shared = useSlackHarness({ state: new OpenedMeanwhile() });

    it('is not posted again: what the customer wrote goes into its thread', async () => {
      const h = shared();
      // Mary waits; Ada, arriving, is given her conversation, and reaches for its card as the other process
      // opens it. (Routed at once, Mary's first message would show in that card's transcript, not as a line.)
      const mary = await h.visitor();
      await mary.say('first');
      await h.idle();
      await h.agent('Ada', ADA);
      await h.idle();
      await mary.say('a card was opened meanwhile');
      await h.idle();
      const cards = h.slack.ok(
        'chat.postMessage',
        (a) => a.thread_ts === undefined && Array.isArray(a.blocks),
      );
      expect(cards).to.deep.equal([]);
      expect(
        threadTexts(h, ADA, OTHER_CARD.ts).some((t) => t.includes('a card was opened meanwhile')),
      ).to.equal(true);
    });
  });

  describe('updates another process left unfinished (it stopped)', () => {
    const TAKEOVER = 60_000;
    let h: SlackHarness | null = null;
    afterEach(async () => {
      await h?.close();
      h = null;
    });

    /** A message stored by a process that stopped before its Slack updates went out: no event here. */
    async function storedElsewhere(harness: SlackHarness, conversationId: string, text: string) {
      const at = harness.clock.now();
      return harness.store.appendMessage({
        id: `msg_elsewhere_${text.length}`,
        conversationId,
        direction: 'in',
        channel: 'chat',
        author: { type: 'customer' },
        text,
        attachments: [],
        at,
        delivery: { state: 'delivered', attempts: 0, at },
      });
    }

    it('are taken over once the stopped process’s hold runs out: the card brought up to date, each missing line posted once', async () => {
      const state = new MemorySlackState();
      h = await startSlackHarness({ state });
      const { conversationId } = await maryWrites(h);
      const threadTs = cardTsOf(h, ADA);
      // Ada answers in the thread: it is shown there already.
      const reply = dmMessage(ADA, dmOf(ADA), 'Looking into it now', threadTs);
      expect((await h.event(reply)).status).to.equal(200);
      await h.idle();
      expect(threadTexts(h, ADA, threadTs)).to.have.length(1);

      await storedElsewhere(h, conversationId, 'is anyone reading this?');
      await state.holdWork(conversationId, 'stopped-process', Date.now() + TAKEOVER);
      const updatesBefore = h.slack.ok('chat.update').length;
      // Its hold still runs: nobody else touches the conversation.
      expect(await h.sb.slack!.sweep()).to.deep.equal([]);
      await h.idle();
      expect(threadTexts(h, ADA, threadTs)).to.have.length(1);

      expect(await h.sb.slack!.sweep(Date.now() + TAKEOVER + 1)).to.deep.equal([conversationId]);
      await h.idle();
      const lines = threadTexts(h, ADA, threadTs);
      expect(lines).to.have.length(2);
      expect(lines[0]).to.contain('my order #1234 is late');
      expect(lines[1]).to.contain('is anyone reading this?');
      expect(lines.join('\n')).not.to.contain('Looking into it now');
      const updates = h.slack.ok('chat.update').slice(updatesBefore);
      expect(updates.map((u) => [u.args.channel, u.args.ts])).to.deep.include([dmOf(ADA), threadTs]);
      // Done: nothing is left to take over, and what is shown is not posted again.
      expect(await h.sb.slack!.sweep(Date.now() + 2 * TAKEOVER + 2)).to.deep.equal([]);
      expect(await h.sb.slack!.sweep(Date.now() + 3 * TAKEOVER + 3)).to.deep.equal([]);
      await h.idle();
      expect(threadTexts(h, ADA, threadTs)).to.have.length(2);
    });

    it('a conversation erased by a process that stopped before clearing its threads: the taker clears them', async () => {
      const state = new MemorySlackState();
      h = await startSlackHarness({ state });
      const { mary, conversationId } = await maryWrites(h);
      const threadTs = cardTsOf(h, ADA);
      await h.sb.router.resolve((await h.store.getConversation(conversationId))!.ownerId!, conversationId);
      await h.idle();
      // Erased in the store by a process that then stopped: no event here, its hold left to run out.
      await h.store.eraseCustomer(mary.customerId);
      await state.holdWork(conversationId, 'stopped-process', Date.now() - 1);
      expect(h.slack.messages.some((m) => m.ts === threadTs)).to.equal(true);
      expect(await h.sb.slack!.sweep()).to.deep.equal([conversationId]);
      await h.idle();
      expect(h.slack.messages.filter((m) => m.ts === threadTs || m.thread_ts === threadTs)).to.deep.equal([]);
    });

    it('a process that closes with lines still to post leaves them held, for another process to take over', async () => {
      const state = new MemorySlackState();
      h = await startSlackHarness({ state });
      const { mary, conversationId } = await maryWrites(h);
      h.slack.hold('chat.postMessage', (a) => String(a.text).includes('just before closing'));
      await mary.say('just before closing');
      await h.slack.waitFor(
        'chat.postMessage',
        (a) => String(a.text).includes('just before closing'),
        3000,
        false,
      );
      const closing = h.sb.slack!.close(50);
      await mary.say('and one more');
      h.slack.release('chat.postMessage');
      await closing;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(
        await state.takeOverWork('another-process', Date.now(), Date.now() + TAKEOVER, 10),
      ).to.deep.equal([]);
      expect(
        await state.takeOverWork('another-process', Date.now() + TAKEOVER + 1, Date.now() + 2 * TAKEOVER, 10),
      ).to.deep.equal([conversationId]);
    });

    it('a thread kept from before its shown messages were remembered gets its card updated, not the history again', async () => {
      class FromBefore extends MemorySlackState {
        forget = false;
        override async shown(conversationId: string, agentId: string) {
          return this.forget ? new Set<string>() : super.shown(conversationId, agentId);
        }
      }
      const state = new FromBefore();
      h = await startSlackHarness({ state });
      const { conversationId } = await maryWrites(h);
      const threadTs = cardTsOf(h, ADA);
      state.forget = true;
      await storedElsewhere(h, conversationId, 'one more thing');
      await state.holdWork(conversationId, 'stopped-process', Date.now() - 1);
      const updatesBefore = h.slack.ok('chat.update').length;
      expect(await h.sb.slack!.sweep()).to.deep.equal([conversationId]);
      await h.idle();
      expect(threadTexts(h, ADA, threadTs)).to.have.length(1);
      expect(h.slack.ok('chat.update').length).to.be.greaterThan(updatesBefore);
    });

    it('a new owner whose card the stopped process never posted gets it, with the whole transcript; the former owner’s card says so', async () => {
      const state = new MemorySlackState();
      h = await startSlackHarness({ state });
      const { ada, conversationId } = await maryWrites(h);
      const adaTs = cardTsOf(h, ADA);
      const bob = await h.agent('Bob', BOB);
      // Ada hands it to Bob on a process that stops right after storing it: no event reaches this one.
      await h.store.offerHandoff(conversationId, ada.id, bob.id, 'billing question', h.clock.now());
      await h.store.acceptHandoff(conversationId, bob.id, h.clock.now());
      await storedElsewhere(h, conversationId, 'thanks, and the refund?');
      await state.holdWork(conversationId, 'stopped-process', Date.now() - 1);
      expect(await h.sb.slack!.sweep()).to.deep.equal([conversationId]);
      await h.idle();

      const bobCard = cardOf(h, BOB);
      expect(blockTexts(bobCard.args.blocks)).to.contain('Mary Major');
      const bobLines = threadTexts(h, BOB, String(bobCard.answer.ts)).join('\n');
      expect(bobLines).to.contain('my order #1234 is late');
      expect(bobLines).to.contain('thanks, and the refund?');
      // Ada's card no longer offers her the conversation's buttons; her thread gets no new lines.
      const adaUpdate = h.slack.ok('chat.update', (a) => a.channel === dmOf(ADA) && a.ts === adaTs).at(-1);
      expect(adaUpdate, 'Ada’s card updated').to.not.equal(undefined);
      expect(blockTexts(adaUpdate!.args.blocks)).to.contain('Bob');
      expect(blockTexts(adaUpdate!.args.blocks)).not.to.contain(ACTION.resolve);
      expect(threadTexts(h, ADA, adaTs)).to.have.length(1);
    });
  });

  describe('pacing (40 ms apart here; about one second by default)', () => {
    const paced = useSlackHarness({ paceMs: 40 });

    it('messages to one channel leave spaced out, in order', async () => {
      const h = paced();
      const { mary } = await maryWrites(h, 'one');
      const threadTs = cardTsOf(h, ADA);
      await Promise.all([mary.say('two'), mary.say('three'), mary.say('four')]);
      await h.idle();
      const posts = h.slack.ok('chat.postMessage', (a) => a.channel === dmOf(ADA));
      expect(
        posts.filter((c) => c.args.thread_ts === threadTs).map((c) => String(c.args.text).split('\n').at(-1)),
      ).to.deep.equal(['one', 'two', 'three', 'four']);
      // Each left at least 40 ms after the one before (arrival times jitter a little: compare the whole run).
      expect(posts.at(-1)!.at - posts[0]!.at).to.be.at.least((posts.length - 1) * 40 - 15);
      expect(h.waits.some((w) => w > 0 && w <= 40)).to.equal(true);
    });
  });

  describe('buttons', () => {
    it('Resolve resolves and turns the card into a resolved one', async () => {
      const h = sb();
      const { conversationId } = await maryWrites(h);
      const threadTs = cardTsOf(h, ADA);
      await pressCard(h, ADA, ACTION.resolve, conversationId, threadTs);
      expect((await h.store.getConversation(conversationId))!.status).to.equal('resolved');
      const update = h.slack.ok('chat.update', (a) => a.ts === threadTs)[0]!;
      expect(update.args.channel).to.equal(dmOf(ADA));
      expect(blockTexts(update.args.blocks)).to.contain('Resolved');
      expect((update.args.blocks as Json[]).some((b) => b.type === 'actions')).to.equal(false);
      expect(threadTexts(h, ADA, threadTs).at(-1)).to.contain('Resolved by *Ada*');
    });

    it('Read one: an earlier conversation of the customer, to the agent alone in the thread; refused to one who does not serve them', async () => {
      const h = sb();
      const { ada, mary, conversationId: earlier } = await maryWrites(h);
      await h.agent('Bob', BOB);
      await h.sb.router.reply(ada.id, earlier, 'A new one is on its way.');
      await h.sb.router.resolve(ada.id, earlier);
      h.clock.advance(3_600_000);
      const again = await mary.say('still nothing');
      await h.idle();
      const cards = h.slack.ok(
        'chat.postMessage',
        (a) => a.channel === dmOf(ADA) && a.thread_ts === undefined && Array.isArray(a.blocks),
      );
      const card = cards.find((c) => JSON.stringify(c.args.blocks).includes(again.conversationId))!;
      const select = (card.args.blocks as Json[]).find(
        (b) => b.accessory?.action_id === ACTION.read,
      )!.accessory;
      expect(select.type).to.equal('static_select');
      expect(select.options.map((o: Json) => o.value)).to.deep.equal([earlier]);
      expect(select.options[0].text.text).to.match(
        /^\d{4}-\d\d-\d\d \d\d:\d\d UTC · chat · resolved with Ada$/,
      );
      const cardTs = String(card.answer.ts);
      await press(h, {
        user: ADA,
        actionId: ACTION.read,
        selectedOption: earlier,
        channel: dmOf(ADA),
        messageTs: cardTs,
      });
      const told = h.slack.ok('chat.postEphemeral', (a) => a.user === ADA);
      expect(told).to.have.length(1);
      expect(told[0]!.args.thread_ts).to.equal(cardTs);
      const text = String(told[0]!.args.text);
      expect(text).to.match(/^\*Earlier conversation\* · .* · chat · resolved with Ada\n/);
      expect(text).to.contain('my order #1234 is late');
      expect(text).to.contain('A new one is on its way.');
      expect(text).not.to.contain('still nothing');

      // Bob serves neither conversation: refused, with the reason, and nothing of it shown.
      await press(h, {
        user: BOB,
        actionId: ACTION.read,
        selectedOption: earlier,
        channel: dmOf(BOB),
        messageTs: cardTs,
      });
      const refused = h.slack.ok('chat.postEphemeral', (a) => a.user === BOB);
      expect(refused).to.have.length(1);
      expect(String(refused[0]!.args.text)).to.contain('not on this conversation');
      expect(String(refused[0]!.args.text)).not.to.contain('my order');
    });

    it('a button pressed by someone who may not is refused with an explanation', async () => {
      const h = sb();
      const { conversationId } = await maryWrites(h);
      await h.agent('Bob', BOB);
      const threadTs = cardTsOf(h, ADA);
      await pressCard(h, BOB, ACTION.resolve, conversationId, threadTs);
      expect((await h.store.getConversation(conversationId))!.status).to.equal('assigned');
      const eph = h.slack.ok('chat.postEphemeral', (a) => a.user === BOB);
      expect(eph).to.have.length(1);
      expect(eph[0]!.args.text).to.contain('not on this conversation');
    });

    it('Consult: a select of the team in the thread invites the colleague into their own thread; they write, ownership stays; Leave is one button', async () => {
      const h = sb();
      const { ada, mary, conversationId } = await maryWrites(h);
      const bob = await h.agent('Bob', BOB);
      const threadTs = cardTsOf(h, ADA);
      const consult = await pressCard(h, ADA, ACTION.consult, conversationId, threadTs);
      const section = consult.picker!.section;
      expect(section.accessory.type).to.equal('static_select');
      expect(section.accessory.action_id).to.equal(ACTION.consultPick);
      expect(
        section.accessory.option_groups.map((g: Json) => [g.label.text, g.options.map((o: Json) => o.value)]),
      ).to.deep.equal([['Available', [bob.id]]]);
      const pickerTs = consult.picker!.ts;
      await consult.pick(bob.id);
      const conv = await h.store.getConversation(conversationId);
      expect(conv!.ownerId).to.equal(ada.id);
      expect(conv!.invited).to.deep.equal([bob.id]);
      // Bob's DM: a card saying Ada asked, with Leave; and the history in its thread.
      const bobCard = h.slack.ok(
        'chat.postMessage',
        (a) => a.channel === dmOf(BOB) && a.thread_ts === undefined,
      )[0]!;
      expect(bobCard.args.text).to.equal('Ada asks for your help with Mary Major (chat)');
      const bobActions = (bobCard.args.blocks as Json[]).find((b) => b.type === 'actions');
      expect(bobActions.elements.map((e: Json) => e.action_id)).to.deep.equal([ACTION.promise, ACTION.leave]);
      const bobThread = cardTsOf(h, BOB);
      expect(threadTexts(h, BOB, bobThread)[0]).to.contain('my order #1234 is late');
      expect(threadTexts(h, ADA, threadTs).some((t) => t.includes('Invited *Bob*'))).to.equal(true);
      expect(h.slack.ok('chat.update', (a) => a.ts === pickerTs)[0]!.args.text).to.contain('Invited *Bob*');
      // Bob writes in his thread: it reaches Mary and shows in Ada's thread; ownership does not move.
      await h
        .event(dmMessage(BOB, dmOf(BOB), 'Bob from billing here: refund is on its way', bobThread))
        .expect(200);
      await h.idle();
      expect(repliesTo(mary)).to.deep.equal(['Bob from billing here: refund is on its way']);
      expect(threadTexts(h, ADA, threadTs).some((t) => t.includes('*Bob* → customer'))).to.equal(true);
      expect((await h.store.getConversation(conversationId))!.consultants).to.deep.equal([bob.id]);
      expect((await h.store.getConversation(conversationId))!.ownerId).to.equal(ada.id);
      // Leave.
      await h
        .interact(
          blockActions({
            user: BOB,
            actionId: ACTION.leave,
            value: conversationId,
            channel: dmOf(BOB),
            messageTs: bobThread,
            blockId: 'card:consult',
          }),
        )
        .expect(200);
      await h.idle();
      expect((await h.store.getConversation(conversationId))!.consultants).to.deep.equal([]);
      expect(threadTexts(h, ADA, threadTs).some((t) => t.includes('*Bob* left'))).to.equal(true);
      expect(blockTexts(h.slack.ok('chat.update', (a) => a.ts === bobThread).at(-1)!.args.blocks)).to.contain(
        'You left',
      );
    });

    it('Hand off: a modal, an offer with Accept/Decline; ownership moves only on Accept and the thread moves with the history', async () => {
      const h = sb();
      const { ada, mary, conversationId } = await maryWrites(h);
      const bob = await h.agent('Bob', BOB);
      await h.agent('Cat', CAT);
      const threadTs = cardTsOf(h, ADA);
      await pressCard(h, ADA, ACTION.handoff, conversationId, threadTs);
      const open = h.slack.ok('views.open')[0]!;
      expect(open.args.view.callback_id).to.equal(VIEW.handoff);
      expect(open.args.view.private_metadata).to.equal(conversationId);
      const values = (agentId: string | null, note: string) => ({
        [FIELD.handoffTarget.block]: {
          [FIELD.handoffTarget.action]: {
            type: 'static_select',
            selected_option: agentId === null ? null : { value: agentId },
          },
        },
        [FIELD.handoffNote.block]: { [FIELD.handoffNote.action]: { type: 'plain_text_input', value: note } },
      });
      // No colleague of the team / empty note: the modal shows errors and nothing happens.
      const refused = await h
        .interact(viewSubmission(ADA, VIEW.handoff, conversationId, values('ag_nobody', '')))
        .expect(200);
      expect(refused.body.response_action).to.equal('errors');
      expect(Object.keys(refused.body.errors).sort()).to.deep.equal([
        FIELD.handoffNote.block,
        FIELD.handoffTarget.block,
      ]);
      await h
        .interact(
          viewSubmission(
            ADA,
            VIEW.handoff,
            conversationId,
            values(bob.id, 'Refund approved, needs the label'),
          ),
        )
        .expect(200);
      await h.idle();
      let conv = await h.store.getConversation(conversationId);
      expect(conv!.ownerId).to.equal(ada.id);
      expect(conv!.handoff?.to).to.equal(bob.id);
      const offer = h.slack.ok(
        'chat.postMessage',
        (a) => a.channel === dmOf(BOB) && a.thread_ts === undefined,
      )[0]!;
      expect(offer.args.text).to.equal('Ada offers you Mary Major (chat)');
      expect(blockTexts(offer.args.blocks)).to.contain('Refund approved, needs the label');
      const offerActions = (offer.args.blocks as Json[]).find((b) => b.type === 'actions');
      expect(offerActions.elements.map((e: Json) => [e.text.text, e.action_id])).to.deep.equal([
        ['Accept', ACTION.accept],
        ['Decline', ACTION.decline],
      ]);
      const bobThread = cardTsOf(h, BOB);
      expect(threadTexts(h, BOB, bobThread)[0]).to.contain('my order #1234 is late');
      // Bob accepts: ownership moves; his card becomes the owner's card; Ada's thread says so.
      await h
        .interact(
          blockActions({
            user: BOB,
            actionId: ACTION.accept,
            value: conversationId,
            channel: dmOf(BOB),
            messageTs: bobThread,
            blockId: 'card:offer',
          }),
        )
        .expect(200);
      await h.idle();
      conv = await h.store.getConversation(conversationId);
      expect(conv!.ownerId).to.equal(bob.id);
      expect(conv!.ownership.at(-1)).to.include({ from: ada.id, to: bob.id, reason: 'handoff' });
      const bobCard = h.slack.ok('chat.update', (a) => a.ts === bobThread).at(-1)!;
      expect(
        (bobCard.args.blocks as Json[])
          .find((b) => b.type === 'actions')
          .elements.map((e: Json) => e.action_id),
      ).to.deep.equal([
        ACTION.resolve,
        ACTION.followUp,
        ACTION.consult,
        ACTION.handoff,
        ACTION.promise,
        ACTION.details,
        ACTION.block,
      ]);
      expect(blockTexts(h.slack.ok('chat.update', (a) => a.ts === threadTs).at(-1)!.args.blocks)).to.contain(
        'Now owned by *Bob*',
      );
      // New messages go to Bob's thread only; Ada's replies are refused.
      const adaLinesBefore = threadTexts(h, ADA, threadTs).length;
      await mary.say('thanks!');
      await h.idle();
      expect(threadTexts(h, BOB, bobThread).at(-1)).to.contain('thanks!');
      expect(threadTexts(h, ADA, threadTs)).to.have.length(adaLinesBefore);
      await h.event(dmMessage(ADA, dmOf(ADA), 'still me', threadTs)).expect(200);
      await h.idle();
      expect(repliesTo(mary)).to.deep.equal([]);
      expect(h.slack.ok('chat.postEphemeral', (a) => a.user === ADA).at(-1)!.args.text).to.contain(
        'not on this conversation',
      );
    });

    it('Decline keeps the owner', async () => {
      const h = sb();
      const { ada, conversationId } = await maryWrites(h);
      const bob = await h.agent('Bob', BOB);
      const threadTs = cardTsOf(h, ADA);
      await h.sb.router.handoff(ada.id, conversationId, bob.id, 'can you take this?');
      await h.idle();
      const bobThread = cardTsOf(h, BOB);
      await h
        .interact(
          blockActions({
            user: BOB,
            actionId: ACTION.decline,
            value: conversationId,
            channel: dmOf(BOB),
            messageTs: bobThread,
            blockId: 'card:offer',
          }),
        )
        .expect(200);
      await h.idle();
      const conv = await h.store.getConversation(conversationId);
      expect(conv!.ownerId).to.equal(ada.id);
      expect(conv!.handoff).to.equal(null);
      expect(threadTexts(h, ADA, threadTs).at(-1)).to.contain('*Bob* declined');
      expect(blockTexts(h.slack.ok('chat.update', (a) => a.ts === bobThread).at(-1)!.args.blocks)).to.contain(
        'You declined',
      );
    });

    it('Promise: a modal with a date-time; a time in the past is refused in the modal', async () => {
      const h = sb();
      const { conversationId } = await maryWrites(h);
      const threadTs = cardTsOf(h, ADA);
      await pressCard(h, ADA, ACTION.promise, conversationId, threadTs);
      expect(h.slack.ok('views.open')[0]!.args.view.callback_id).to.equal(VIEW.promise);
      const values = (at: number, text: string) => ({
        [FIELD.promiseText.block]: { [FIELD.promiseText.action]: { type: 'plain_text_input', value: text } },
        [FIELD.promiseDue.block]: {
          [FIELD.promiseDue.action]: { type: 'datetimepicker', selected_date_time: at },
        },
      });
      const now = Math.floor(h.clock.now() / 1000);
      const refused = await h
        .interact(viewSubmission(ADA, VIEW.promise, conversationId, values(now - 60, 'call back')))
        .expect(200);
      expect(refused.body).to.deep.equal({
        response_action: 'errors',
        errors: { [FIELD.promiseDue.block]: 'Pick a time in the future.' },
      });
      await h
        .interact(
          viewSubmission(
            ADA,
            VIEW.promise,
            conversationId,
            values(now + 7200, 'I will call you back with the label'),
          ),
        )
        .expect(200);
      await h.idle();
      const promises = (await h.store.listPromises(conversationId)).filter((p) => p.kind === 'agent');
      expect(promises.map((p) => [p.text, p.dueAt, p.state])).to.deep.equal([
        ['I will call you back with the label', (now + 7200) * 1000, 'open'],
      ]);
      expect(threadTexts(h, ADA, threadTs).at(-1)).to.contain('I will call you back with the label');
    });

    it('Block…: a modal saying what it does; submitted, the customer is blocked with the reason and the conversation closes', async () => {
      const h = sb();
      const { conversationId } = await maryWrites(h);
      const threadTs = cardTsOf(h, ADA);
      await pressCard(h, ADA, ACTION.block, conversationId, threadTs);
      const view = h.slack.ok('views.open')[0]!.args.view;
      expect(view.callback_id).to.equal(VIEW.block);
      expect(blockTexts(view.blocks)).to.contain('Block *Mary Major*');
      const reason = (text: string | null) => ({
        [FIELD.blockReason.block]: { [FIELD.blockReason.action]: { type: 'plain_text_input', value: text } },
      });
      await h
        .interact(viewSubmission(ADA, VIEW.block, conversationId, reason('threatened staff')))
        .expect(200);
      await h.idle();
      const conv = await h.store.getConversation(conversationId);
      expect(conv!.status).to.equal('resolved');
      const customer = await h.store.getCustomer(conv!.customerId);
      expect(customer!.blocked).to.include({ reason: 'threatened staff' });
      expect(customer!.notes.at(-1)!.text).to.equal('blocked by Ada: threatened staff');
    });
  });

  describe('saved replies', () => {
    const replies = [
      { name: 'Refund sent', text: 'Your refund is on its way: 3 to 5 working days.' },
      { name: 'Address', text: 'Could you confirm the delivery address?' },
      { name: 'Greeting', text: 'Hi {name}, {agent} here.' },
      // Offered only to agents with the skill: not to Ada, who has none.
      { name: 'Chargeback', text: 'Your bank has opened a chargeback.', skills: ['billing'] },
    ];
    const env = { ROUTING_POLICY: JSON.stringify({ savedReplies: replies }) };
    /** The card's saved-reply select. */
    const savedPicker = (card: SlackCall): Json =>
      (card.args.blocks as Json[])
        .find((b) => b.type === 'actions')!
        .elements.find((e: Json) => e.action_id === ACTION.saved);
    /** A saved reply picked on Ada's card: its form opens. */
    const pick = (h: SlackHarness, conversationId: string, name: string) =>
      press(h, {
        user: ADA,
        actionId: ACTION.saved,
        selectedOption: `${conversationId}#${name}`,
        channel: dmOf(ADA),
        messageTs: cardTsOf(h, ADA),
      });
    const values = (text: string) => ({
      [FIELD.replyText.block]: { [FIELD.replyText.action]: { type: 'plain_text_input', value: text } },
    });

    it('picked on the card, a form opens with its text; what the agent sends from it reaches the customer', async () => {
      await withSlackHarness({ env }, async (h) => {
        const { mary, conversationId, card } = await maryWrites(h);
        const picker = savedPicker(card);
        expect(picker.type).to.equal('static_select');
        expect(picker.options.map((o: Json) => [o.text.text, o.value])).to.deep.equal([
          ['Refund sent', `${conversationId}#Refund sent`],
          ['Address', `${conversationId}#Address`],
          ['Greeting', `${conversationId}#Greeting`],
        ]);
        await pick(h, conversationId, 'Refund sent');
        const form = h.slack.ok('views.open')[0]!.args.view;
        expect(form.callback_id).to.equal(VIEW.savedReply);
        expect(form.private_metadata).to.equal(conversationId);
        expect(form.blocks[0].element.initial_value).to.equal(replies[0]!.text);
        // Placeholders come filled: the customer's first name and the agent's.
        await pick(h, conversationId, 'Greeting');
        expect(h.slack.ok('views.open')[1]!.args.view.blocks[0].element.initial_value).to.equal(
          'Hi Mary, Ada here.',
        );

        // Emptied: refused in the form, nothing sent.
        const refused = await h
          .interact(viewSubmission(ADA, VIEW.savedReply, conversationId, values('  ')))
          .expect(200);
        expect(refused.body).to.deep.equal({
          response_action: 'errors',
          errors: { [FIELD.replyText.block]: 'Write what the customer should read.' },
        });
        const changed = 'Your refund is on its way: 3 to 5 working days. The reference is R-88.';
        await h.interact(viewSubmission(ADA, VIEW.savedReply, conversationId, values(changed))).expect(200);
        await h.idle();
        expect(repliesTo(mary)).to.deep.equal([changed]);
        expect((await h.store.listMessages(conversationId)).at(-1)).to.deep.include({
          direction: 'out',
          text: changed,
        });
      });
    });

    it('a colleague who may not reply is refused in the thread; a reply the team has since removed is said to be gone', async () => {
      await withSlackHarness({ env }, async (h) => {
        const { conversationId } = await maryWrites(h);
        await h.agent('Bob', BOB);
        await h
          .interact(viewSubmission(BOB, VIEW.savedReply, conversationId, values('Hello from Bob')))
          .expect(200);
        await h.idle();
        expect((await h.store.listMessages(conversationId)).map((m) => m.text)).not.to.include(
          'Hello from Bob',
        );
        expect(String(h.slack.ok('chat.postEphemeral', (a) => a.user === BOB).at(-1)?.args.text)).to.contain(
          'not on this conversation',
        );
        await pick(h, conversationId, 'Old greeting');
        expect(h.slack.ok('views.open')).to.have.length(0);
        expect(String(h.slack.ok('chat.postEphemeral', (a) => a.user === ADA).at(-1)?.args.text)).to.contain(
          'no longer there',
        );
      });
    });

    it('the ones an admin set since (PUT /api/saved-replies) are what cards offer and forms fill', async () => {
      const h = sb();
      const set = [{ name: 'Opening hours', text: 'We answer every day from 8 to 20.' }];
      await h.sb.router.setSavedReplies(set);
      const { conversationId, card } = await maryWrites(h);
      const picker = savedPicker(card);
      expect(picker.options.map((o: Json) => o.text.text)).to.deep.equal(['Opening hours']);
      await pick(h, conversationId, 'Opening hours');
      expect(h.slack.ok('views.open')[0]!.args.view.blocks[0].element.initial_value).to.equal(set[0]!.text);
    });

    it('without saved replies the card has no picker', async () => {
      const h = sb();
      const { card } = await maryWrites(h);
      expect(JSON.stringify(card.args.blocks)).not.to.contain(ACTION.saved);
    });
  });

  describe('slash command /switchboard', () => {
    it('available, away, offline set the status; queue and stats answer; anything else shows the usage', async () => {
      const h = sb();
      const ada = await h.agent('Ada', ADA, { status: 'away', skills: { billing: 3 } });
      const answer = async (text: string) => {
        const url = h.slack.responseUrl();
        const res = await h.command(slashCommand(ADA, text, url)).expect(200);
        expect(res.text).to.equal('');
        await h.idle();
        const got = h.slack.responses.filter((r) => url.endsWith(r.path));
        expect(got, text).to.have.length(1);
        expect(got[0]!.body.response_type).to.equal('ephemeral');
        return got[0]!.body;
      };
      expect((await answer('available')).text).to.equal('You are now *available*.');
      expect((await h.store.getAgent(ada.id))!.status).to.equal('available');
      expect((await answer('AWAY')).text).to.equal('You are now *away*.');
      expect((await h.store.getAgent(ada.id))!.status).to.equal('away');
      // Something waits that Ada can serve (she is away): the queue shows it.
      const mary = await h.visitor();
      await mary.identify({ name: 'Mary Major' });
      await mary.say('anyone there?');
      const queue = await answer('queue');
      expect(queue.text).to.equal('1 waiting that you can serve');
      expect(blockTexts(queue.blocks)).to.contain('Mary Major');
      const stats = await answer('stats');
      expect(stats.text).to.equal('Today: 0 taken, 0 resolved, 0 open');
      expect((await answer('dance')).text).to.contain('/switchboard available');
      expect((await answer('offline')).text).to.equal('You are now *offline*.');
    });

    it('team lists every agent of a large team over several sections, none cut off', async () => {
      const h = sb();
      await h.agent('Bob', BOB);
      const statuses = ['available', 'away', 'offline'] as const;
      for (let i = 0; i < 60; i++) {
        const agent = await h.sb.router.createAgent({
          name: `Agent number ${i} with a rather long name from the night shift`,
          status: statuses[i % 3]!,
        });
        if (i % 3 === 2) await h.sb.router.setAgentStatus(agent.id, 'offline');
      }
      const url = h.slack.responseUrl();
      await h.command(slashCommand(BOB, 'team', url)).expect(200);
      await h.idle();
      const body = h.slack.responses.find((r) => url.endsWith(r.path))!.body;
      const texts = (body.blocks as Json[]).map((b) => String(b.text.text));
      expect(texts.every((t) => t.length <= 3000)).to.equal(true);
      const all = texts.join('\n');
      expect(all).not.to.contain('(truncated)');
      expect(all).to.contain('*Available (21)*');
      expect(all).to.contain('*Away (20)*');
      expect(all).to.contain('*Offline (20)*');
      for (let i = 0; i < 60; i += 3) expect(all).to.contain(`Agent number ${i} with`);
    });

    it('queue names a visitor who gave no name as the team view does, never by their visitor id', async () => {
      const h = sb();
      await h.agent('Ada', ADA, { status: 'away' });
      const anon = await h.visitor();
      await anon.say('hello?');
      const url = h.slack.responseUrl();
      await h.command(slashCommand(ADA, 'queue', url)).expect(200);
      await h.idle();
      const text = blockTexts(h.slack.responses.find((r) => url.endsWith(r.path))!.body.blocks);
      expect(text).to.contain(`*Website visitor ${anon.customerId.slice(-4)}* · chat`);
      expect(text).to.not.contain('visitor-');
    });

    it('team shows who waits, for how long and for whom, and the whole team', async () => {
      const h = sb();
      const ada = await h.agent('Ada', ADA, { capacity: { voice: 0, sms: 0, chat: 1, email: 0 } });
      // Room for texts too, but texts are off here: not counted, not shown.
      const grace = await h.agent('Grace', BOB, { capacity: { voice: 0, sms: 2, chat: 2, email: 0 } });
      await h.sb.router.setAgentStatus(grace.id, 'away', 'training');
      const mary = await h.visitor();
      await mary.identify({ name: 'Mary Major' });
      await mary.say('first');
      const joe = await h.visitor();
      await joe.identify({ name: 'Joe Bloggs' });
      await joe.say('second');
      h.clock.advance(125_000);
      const url = h.slack.responseUrl();
      await h.command(slashCommand(BOB, 'team', url)).expect(200);
      await h.idle();
      const got = h.slack.responses.filter((r) => url.endsWith(r.path));
      expect(got).to.have.length(1);
      const body = got[0]!.body;
      expect(body.response_type).to.equal('ephemeral');
      expect(body.text).to.equal('The team now: 1 waiting');
      const text = (body.blocks as Json[]).map((b) => b.text.text).join('\n');
      // Mary was answered at once, Joe waits past chat's 30 s: half in time, under the 80 % goal.
      expect(text).to.contain(
        '*The team now*\n*1 waiting*\n• chat: *1 waiting*, longest 2 min · nobody free · 1 in progress · :warning: *50% answered within 30 s (24h)*',
      );
      expect(text).to.match(
        /\*Next in line\*\n• \*Joe Bloggs\* · chat · waiting 2 min · told by <!date\^\d+\^/,
      );
      expect(text).to.contain(
        '*Available (1)*\n• Ada · chat 1/1\n*Away (1)*\n• Grace (training) · chat 0/2\n*Offline (0)*',
      );
      expect(text).not.to.contain('Mary Major');
      // Past the time Joe was told: said so.
      const [told] = (await h.store.listConversations({ status: 'queued' })).map((c) => c.id);
      const due = (await h.store.listPromises(told!)).find((p) => p.kind === 'wait')!.dueAt;
      h.clock.set(due + 60_000);
      const later = h.slack.responseUrl();
      await h.command(slashCommand(BOB, 'team', later)).expect(200);
      await h.idle();
      const lateText = (h.slack.responses.find((r) => later.endsWith(r.path))!.body.blocks as Json[])
        .map((b) => b.text.text)
        .join('\n');
      expect(lateText).to.contain('*1 waiting* · :warning: 1 past the wait they were told');
      expect(lateText).to.contain('• *Joe Bloggs* · chat · waiting');
      expect(lateText).to.contain('*late by 1 min*');
      expect((await h.store.getAgent(ada.id))!.load.chat).to.equal(1);
      // Ada resolves Mary's chat (Joe's comes to her): her day shows beside her (counted once a minute, as the
      // /team page's).
      const [marys] = await h.store.listConversations({ status: 'assigned' });
      await h.sb.router.resolve(ada.id, marys!.id);
      h.clock.advance(61_000);
      const after = h.slack.responseUrl();
      await h.command(slashCommand(BOB, 'team', after)).expect(200);
      await h.idle();
      const afterText = (h.slack.responses.find((r) => after.endsWith(r.path))!.body.blocks as Json[])
        .map((b) => b.text.text)
        .join('\n');
      expect(afterText).to.match(/• Ada · chat 1\/1 · resolved 1 \(24h\), handle \d+ min on average\n/);
    });

    it('tells an unlinked Slack user how to get linked', async () => {
      const h = sb();
      const url = h.slack.responseUrl();
      await h.command(slashCommand('U0NOBODY01', 'available', url)).expect(200);
      await h.idle();
      expect(h.slack.responses[0]!.body.text).to.contain('not linked');
    });
  });

  describe('App Home', () => {
    it('shows the status with buttons, owned conversations with links to their threads, and today’s figures', async () => {
      const h = sb();
      await maryWrites(h);
      const threadTs = cardTsOf(h, ADA);
      await h.event(appHomeOpened(ADA)).expect(200);
      await h.idle();
      const publish = h.slack.ok('views.publish', (a) => a.user_id === ADA).at(-1)!;
      expect(publish.args.view.type).to.equal('home');
      const text = blockTexts(publish.args.view.blocks);
      expect(text).to.contain('You are *available*');
      expect(text).to.contain('Mary Major');
      expect(text).to.contain(`${WORKSPACE_URL}archives/${dmOf(ADA)}/p${threadTs.replace('.', '')}`);
      expect(text).to.contain('Taken');
      const status = (publish.args.view.blocks as Json[]).find((b) => b.block_id === 'home:status');
      expect(status.elements.map((e: Json) => [e.value, e.style ?? null])).to.deep.equal([
        ['available', 'primary'],
        ['away', null],
        ['offline', null],
      ]);
      // The Away button: status changes and the home is published again.
      const count = h.slack.ok('views.publish').length;
      await h
        .interact(
          blockActions({
            user: ADA,
            actionId: `${ACTION.status}_away`,
            value: 'away',
            blockId: 'home:status',
          }),
        )
        .expect(200);
      await h.idle();
      expect((await h.store.listAgents())[0]!.status).to.equal('away');
      const again = h.slack.ok('views.publish', (a) => a.user_id === ADA);
      expect(again.length).to.be.greaterThan(count);
      expect(blockTexts(again.at(-1)!.args.view.blocks)).to.contain('You are *away*');
    });

    it('an unlinked user sees how to link their account', async () => {
      const h = sb();
      await h.event(appHomeOpened('U0NOBODY01')).expect(200);
      await h.idle();
      expect(blockTexts(h.slack.ok('views.publish')[0]!.args.view.blocks)).to.contain('slackUserId');
    });
  });
});

describe('Slack team channel (SLACK_TEAM_CHANNEL)', () => {
  const TEAM = 'C0TEAM0001';
  const sb = useSlackHarness({ env: { SLACK_TEAM_CHANNEL: TEAM } });

  /** Ada (room for one chat) has Mary; Joe waits, told 1106 s; 885 s on, his wait is at risk (told anew). */
  async function joeAtRisk(h: SlackHarness) {
    await h.agent('Ada', ADA, { capacity: { voice: 0, sms: 0, chat: 1, email: 0 } });
    const mary = await h.visitor();
    await mary.say('first');
    const joe = await h.visitor();
    await joe.identify({ name: 'Joe Bloggs' });
    const sent = await joe.say('second');
    await h.idle();
    h.clock.advance(885_000);
    await h.sb.router.tick();
    await h.idle();
    return sent.conversationId;
  }

  it('hears when a customer will wait past the time they were told, with how their channel stands', async () => {
    const h = sb();
    const conversationId = await joeAtRisk(h);
    const [quote, revised] = await h.store.listPromises(conversationId);
    const posts = h.slack.ok('chat.postMessage', (a) => a.channel === TEAM);
    expect(posts).to.have.length(1);
    const text = String(posts[0]!.args.text);
    expect(text).to.equal(
      [
        `:hourglass_flowing_sand: *Joe Bloggs* (chat) will wait for a person past the time they were told (${slackDate(quote!.dueAt)}). They were told ${slackDate(revised!.dueAt)} now.`,
        'chat now: 1 waiting, longest 14 min · nobody free. `/switchboard team` shows the whole team.',
      ].join('\n'),
    );
    // Told once: a second look at the same promise says nothing more.
    await h.sb.router.tick();
    await h.idle();
    expect(h.slack.ok('chat.postMessage', (a) => a.channel === TEAM)).to.have.length(1);
  });

  it("erasing the customer deletes the team channel's alert about them", async () => {
    const h = sb();
    const conversationId = await joeAtRisk(h);
    const inTeam = () => h.slack.messages.filter((m) => m.channel === TEAM).map((m) => m.text);
    expect(inTeam()).to.have.length(1);
    expect(inTeam()[0]).to.contain('Joe Bloggs');
    const { customerId } = (await h.store.getConversation(conversationId))!;
    await h.sb.router.eraseCustomer(customerId, 'admin');
    await h.idle();
    expect(inTeam()).to.deep.equal([]);
    expect(h.slack.ok('chat.delete', (a) => a.channel === TEAM)).to.have.length(1);
  });

  it('at most one post a minute per customer channel; the next one counts those in between', async () => {
    const h = sb();
    await joeAtRisk(h);
    const first = h.events.find((e) => e.type === 'promise.at_risk')!;
    const posted = () => h.slack.ok('chat.postMessage', (a) => a.channel === TEAM);
    expect(posted()).to.have.length(1);
    const firstAt = h.clock.now();
    // Two more customers' waits on chat at risk within the minute (the event as the router tells it): no post.
    for (let i = 0; i < 2; i++) {
      h.clock.advance(20_000);
      h.sb.router.events.publish({ ...first, at: h.clock.now() });
      await h.idle();
    }
    expect(posted()).to.have.length(1);
    // A minute after the first post: the next one is posted, and says how many came in between.
    h.clock.advance(20_000);
    h.sb.router.events.publish({ ...first, at: h.clock.now() });
    await h.idle();
    expect(posted()).to.have.length(2);
    expect(String(posted()[1]!.args.text)).to.contain(
      `Since ${slackDate(firstAt)}, 2 more customers on chat came to wait past the time they were told (not posted one by one).`,
    );
  });

  it('a team channel the app is not in is tried once; the console goes on', async () => {
    const h = sb();
    h.slack.notInChannels.add(TEAM);
    const conversationId = await joeAtRisk(h);
    const tried = h.slack.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === TEAM);
    expect(tried).to.have.length(1);
    expect(tried[0]!.answer.error).to.equal('not_in_channel');
    // Joe's wait at risk again (its revised time, 1659 s, checked a fifth before it is due; he is told again):
    // not tried again.
    h.clock.advance(1_400_000);
    await h.sb.router.tick();
    await h.idle();
    const notices = (await h.store.listMessages(conversationId)).filter((m) =>
      m.externalId?.startsWith('at-risk:'),
    );
    expect(notices).to.have.length(2);
    expect(
      h.slack.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === TEAM),
    ).to.have.length(1);
    // Ada's card and thread work as ever.
    expect(h.slack.ok('chat.postMessage', (a) => a.channel === dmOf(ADA)).length).to.be.above(0);
  });
});

describe('Slack console: erasing a customer', () => {
  const sb = useSlackHarness();
  const PNG = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
    'base64',
  );
  /** What a thread in Ada's DM holds now (the card first), as [who, text, files]. */
  const thread = (h: SlackHarness, ts: string) =>
    h.slack.messages
      .filter((m) => m.channel === dmOf(ADA) && (m.ts === ts || m.thread_ts === ts))
      .map((m) => [m.user, m.text, (m.files ?? []).length]);

  it("clears what the app posted of their conversation from the agent's thread, the picture too; the agent's own words stay", async () => {
    const h = sb();
    const { mary } = await maryWrites(h);
    const threadTs = cardTsOf(h, ADA);
    await mary.sendFiles('the box', [{ name: 'box.png', type: 'image/png', content: PNG }]);
    await h.idle();
    // Ada answers in her thread: her own message in Slack.
    const said = dmMessage(ADA, dmOf(ADA), 'Sorry about that, a new one is on its way.', threadTs);
    h.slack.addPeopleMessage(dmOf(ADA), threadTs, ADA, String(said.text), String(said.ts));
    await h.event(said).expect(200);
    await h.idle();
    // Someone else writes too: their card, in Ada's DM as well.
    const lee = await h.visitor();
    await lee.say('where is my refund?');
    await h.idle();
    const leeTs = String(
      h.slack
        .ok(
          'chat.postMessage',
          (a) => a.channel === dmOf(ADA) && a.thread_ts === undefined && Array.isArray(a.blocks),
        )
        .at(-1)!.answer.ts,
    );
    expect(leeTs).to.not.equal(threadTs);
    expect(thread(h, threadTs).filter(([user]) => user === BOT_USER_ID).length).to.be.above(2);
    expect(h.slack.uploads.size).to.equal(1);
    const leeBefore = thread(h, leeTs);

    await h.sb.router.eraseCustomer(mary.customerId, 'admin');
    await h.idle();
    expect(thread(h, threadTs)).to.deep.equal([[ADA, 'Sorry about that, a new one is on its way.', 0]]);
    expect(h.slack.uploads.size).to.equal(0);
    expect(thread(h, leeTs)).to.deep.equal(leeBefore);
    // Ada's home tab was drawn again without it.
    const home = h.slack.ok('views.publish', (a) => a.user_id === ADA).at(-1)!;
    expect(blockTexts(home.args.view.blocks)).to.not.contain('Mary');
  });
});

describe('Slack console: writing to a customer first', () => {
  const sink = useSink();
  const sb = useSlackHarness({ env: emailEnv(sink) });

  it("/switchboard write <address> <message>: the mail goes, the conversation is the agent's with its card in their DM; refused by name", async () => {
    const h = sb();
    const ada = await h.agent('Ada', ADA, { capacity: { voice: 0, sms: 0, chat: 1, email: 2 } });
    const url = h.slack.responseUrl();
    await h
      .command(
        slashCommand(ADA, 'write Lee.Chen@example.com Your order shipped today.\nIt comes Friday.', url),
      )
      .expect(200);
    await h.idle();
    const said = h.slack.responses.find((r) => url.endsWith(r.path))!.body;
    expect(said.text).to.equal(
      'Emailed lee.chen@example.com. The conversation is yours: its thread is in your DMs.',
    );
    const mail = await sink().next();
    expect([mail.envelope.to, mail.mail.subject, mail.mail.text?.trim()]).to.deep.equal([
      ['lee.chen@example.com'],
      'Your order shipped today.',
      'Your order shipped today.\nIt comes Friday.',
    ]);
    const [conversation] = await h.sb.store.listConversations({ ownerId: ada.id });
    expect(conversation?.ownership.map((m) => m.reason)).to.deep.equal(['outbound']);
    // Its card, in Ada's DM.
    expect(
      h.slack.ok(
        'chat.postMessage',
        (a) => a.channel === dmOf(ADA) && a.thread_ts === undefined && Array.isArray(a.blocks),
      ),
    ).to.have.length(1);

    const refusals: Array<[string, string]> = [
      ['write lee.chen@example.com again', 'open'],
      ['write +14155550100 by text', 'texts do not go out here'],
      ['write someone', 'Usage:'],
    ];
    for (const [text, expected] of refusals) {
      const at = h.slack.responseUrl();
      await h.command(slashCommand(ADA, text, at)).expect(200);
      await h.idle();
      expect(h.slack.responses.find((r) => at.endsWith(r.path))!.body.text, text).to.contain(expected);
    }
  });

  it('/switchboard write reads the address and text as Slack sends them; a blocked customer is said to be blocked', async () => {
    const h = sb();
    await h.agent('Ada', ADA, { capacity: { voice: 0, sms: 0, chat: 1, email: 2 } });
    const url = h.slack.responseUrl();
    // Slack sends an address as a mailto link, and & < > escaped.
    await h
      .command(slashCommand(ADA, 'write <mailto:tom@example.com|tom@example.com> Tom &amp; Jerry :+1:', url))
      .expect(200);
    await h.idle();
    const mail = await sink().next();
    expect([mail.envelope.to, mail.mail.text?.trim()]).to.deep.equal([['tom@example.com'], 'Tom & Jerry 👍']);
    const [conversation] = await h.sb.store.listConversations({});
    await h.sb.router.resolve(conversation!.ownerId!, conversation!.id);
    await h.sb.router.blockCustomer(conversation!.customerId, 'admin', 'abusive');
    const again = h.slack.responseUrl();
    await h.command(slashCommand(ADA, 'write tom@example.com are you ok?', again)).expect(200);
    await h.idle();
    expect(h.slack.responses.find((r) => again.endsWith(r.path))!.body.text).to.equal(
      'This customer is blocked, so nothing was sent. A team lead can lift the block in the team view.',
    );
  });

  it('the home tab has Write to a customer…: the form, its mistakes shown on it, and sent', async () => {
    const h = sb();
    await h.agent('Ada', ADA, { capacity: { voice: 0, sms: 0, chat: 1, email: 2 } });
    await h.event(appHomeOpened(ADA)).expect(200);
    await h.idle();
    const home = h.slack.ok('views.publish', (a) => a.user_id === ADA).at(-1)!;
    const button = (home.args.view.blocks as Json[])
      .flatMap((b) => (b.elements as Json[] | undefined) ?? [])
      .find((e) => e.action_id === ACTION.write);
    expect(button?.text.text).to.equal('Write to a customer…');

    await h.interact(blockActions({ user: ADA, actionId: ACTION.write })).expect(200);
    await h.idle();
    const form = h.slack.ok('views.open').at(-1)!.args.view;
    expect(form.callback_id).to.equal(VIEW.write);
    // Email is on here, texts are not: the one way offered, chosen already.
    const by = (form.blocks as Json[]).find((b) => b.block_id === FIELD.writeBy.block)!;
    expect(by.element.options.map((o: Json) => o.value)).to.deep.equal(['email']);
    expect(by.element.initial_option.value).to.equal('email');

    const values = (channel: string, to: string, text: string, subject = '') => ({
      [FIELD.writeBy.block]: {
        [FIELD.writeBy.action]: { type: 'static_select', selected_option: { value: channel } },
      },
      [FIELD.writeTo.block]: { [FIELD.writeTo.action]: { type: 'plain_text_input', value: to } },
      [FIELD.writeSubject.block]: {
        [FIELD.writeSubject.action]: { type: 'plain_text_input', value: subject },
      },
      [FIELD.writeText.block]: { [FIELD.writeText.action]: { type: 'plain_text_input', value: text } },
    });
    const refused = await h
      .interact(viewSubmission(ADA, VIEW.write, '', values('email', 'lee', ' ')))
      .expect(200);
    expect(refused.body.response_action).to.equal('errors');
    expect(Object.keys(refused.body.errors).sort()).to.deep.equal(
      [FIELD.writeText.block, FIELD.writeTo.block].sort(),
    );
    const noSms = await h
      .interact(viewSubmission(ADA, VIEW.write, '', values('sms', '+14155550100', 'hi')))
      .expect(200);
    expect(Object.keys(noSms.body.errors)).to.deep.equal([FIELD.writeBy.block]);

    await h
      .interact(
        viewSubmission(
          ADA,
          VIEW.write,
          '',
          values('email', 'kim@example.com', 'Your refund went out.', 'Refund'),
        ),
      )
      .expect(200);
    await h.idle();
    const mail = await sink().next();
    expect([mail.envelope.to, mail.mail.subject]).to.deep.equal([['kim@example.com'], 'Refund']);
    // Its card, in Ada's DMs.
    expect(
      h.slack.ok(
        'chat.postMessage',
        (a) => a.channel === dmOf(ADA) && a.thread_ts === undefined && Array.isArray(a.blocks),
      ),
    ).to.have.length(1);
    // Writing to them again while it is open: said in Ada's DMs, nothing sent.
    await h
      .interact(viewSubmission(ADA, VIEW.write, '', values('email', 'kim@example.com', 'And another thing')))
      .expect(200);
    await h.idle();
    const said = h.slack.ok('chat.postEphemeral', (a) => a.user === ADA).at(-1)!;
    expect(String(said.args.text)).to.contain('has a conversation open');
  });
});
