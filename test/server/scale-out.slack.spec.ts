// The Slack console with several server processes on one Redis: Slack's events
// and buttons reach whichever process the load balancer picks, and what one
// process posts another must find. Child processes running server/main.ts with
// SLACK_API_URL pointed at the Web API stand-in; requests signed as Slack signs
// them.
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { ACTION } from '../../channels/slack/blocks.js';
import type { Agent } from '../../shared/model.js';
import {
  BOT_TOKEN,
  blockActions,
  dmMessage,
  envelope,
  newEventId,
  SIGNING_SECRET,
  sign,
} from '../channels/slack-harness.js';
import { ack, Cluster, type Node, next, until } from '../support/cluster.js';
import { sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';
import { type SlackCall, SlackStandIn } from '../support/slack-standin.js';

// biome-ignore lint/suspicious/noExplicitAny: wire payloads are asserted field by field
type Json = any;

const ADA = 'U0ADA00009';
const dmOf = (user: string) => `D${user.slice(1)}`;

/** POST a body to `node`'s /slack/events, signed as Slack signs it. */
async function toSlackEvents(
  node: Node,
  body: string,
  contentType: string,
  retryNum?: number,
): Promise<number> {
  const timestamp = Math.floor(Date.now() / 1000);
  const res = await fetch(`${node.url}/slack/events`, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': sign(SIGNING_SECRET, timestamp, body),
      ...(retryNum === undefined
        ? {}
        : { 'x-slack-retry-num': String(retryNum), 'x-slack-retry-reason': 'http_timeout' }),
    },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  await res.text();
  return res.status;
}

const interact = (node: Node, payload: Record<string, unknown>) =>
  toSlackEvents(
    node,
    new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
    'application/x-www-form-urlencoded',
  );

const event = (node: Node, e: Record<string, unknown>, eventId: string, retryNum?: number) =>
  toSlackEvents(node, JSON.stringify(envelope(e, eventId)), 'application/json', retryNum);

/** Cards (thread roots with blocks) posted in a DM for one conversation, answered or not. */
function cardsFor(slack: SlackStandIn, user: string, conversationId: string): SlackCall[] {
  return slack.calls.filter(
    (c) =>
      c.method === 'chat.postMessage' &&
      c.args.channel === dmOf(user) &&
      c.args.thread_ts === undefined &&
      Array.isArray(c.args.blocks) &&
      JSON.stringify(c.args.blocks).includes(conversationId),
  );
}

/** Every text posted in a DM that contains `text` (cards' transcripts and thread lines). */
function postsWith(slack: SlackStandIn, user: string, text: string): SlackCall[] {
  return slack.ok('chat.postMessage', (a) => a.channel === dmOf(user) && String(a.text).includes(text));
}

describe('scale-out: the Slack console across processes', function () {
  this.timeout(60_000);
  let cluster: Cluster | null = null;
  let standIn: SlackStandIn | null = null;
  afterEach(async () => {
    await cluster?.close();
    await standIn?.close();
    cluster = null;
    standIn = null;
  });

  async function start(
    env: Record<string, string> = {},
  ): Promise<{ c: Cluster; slack: SlackStandIn; ada: Agent }> {
    const slack = await SlackStandIn.start(BOT_TOKEN);
    standIn = slack;
    const c = await Cluster.start({
      nodes: 2,
      redisUrl: await sharedRedisUrl(),
      prefix: uniquePrefix('slack'),
      env: {
        PUBLIC_URL: 'https://support.example.com',
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl,
        ...env,
      },
    });
    cluster = c;
    const created = await c.nodes[0]!.api<{ agent: Agent }>('POST', '/agents', {
      name: 'Ada',
      capacity: { chat: 1 },
      slackUserId: ADA,
      status: 'available',
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    return { c, slack, ada: created.body.agent };
  }

  /** A chat visitor on node `on` who writes `text`: the conversation id. */
  async function visitorWrites(
    c: Cluster,
    on: number,
    text: string,
  ): Promise<{ visitor: Socket; id: string }> {
    const visitor = c.socket(on, '/chat', {});
    await next(visitor, 'session');
    const sent = await ack(visitor, 'message', { text, clientMessageId: `${text}-1` });
    expect(sent.ok, JSON.stringify(sent)).to.equal(true);
    return { visitor, id: sent.conversationId };
  }

  it('one card per conversation when two processes reach for it at once; what the customer wrote shows once; the reply reaches the visitor once from either process', async () => {
    const { c, slack, ada } = await start();
    const [a, b] = c.nodes as [Node, Node];

    // Ada's one chat line is taken; the second visitor waits.
    const first = await visitorWrites(c, 0, 'first visitor here');
    const firstCard = await slack.waitFor(
      'chat.postMessage',
      (x) => JSON.stringify(x.blocks ?? '').includes(first.id),
      10_000,
    );
    const second = await visitorWrites(c, 0, 'second visitor waiting');
    expect((await a.api<Json>('GET', `/conversations/${second.id}`)).body.conversation.status).to.equal(
      'queued',
    );

    // Ada resolves the first in Slack; the button reaches B, whose routing gives her the second. Slack is slow
    // to answer B's card, and meanwhile the second visitor writes again on A.
    const isCardOfSecond = (x: Json) =>
      x.thread_ts === undefined && JSON.stringify(x.blocks ?? '').includes(second.id);
    slack.hold('chat.postMessage', isCardOfSecond);
    expect(
      await interact(
        b,
        blockActions({
          user: ADA,
          actionId: ACTION.resolve,
          value: first.id,
          channel: dmOf(ADA),
          messageTs: String(firstCard.answer.ts),
        }),
      ),
    ).to.equal(200);
    await until(
      () => cardsFor(slack, ADA, second.id).length === 1,
      "B's card for the second conversation",
      15_000,
    );
    await until(
      async () =>
        (await a.api<Json>('GET', `/conversations/${second.id}`)).body.conversation.ownerId === ada.id,
      'the second conversation to be Ada’s',
    );
    expect(
      (await ack(second.visitor, 'message', { text: 'anyone there?', clientMessageId: 'again-1' })).ok,
    ).to.equal(true);
    // A has had time to reach for the card too (its own pacing is a second per channel).
    await new Promise((r) => setTimeout(r, 2_500));
    slack.release('chat.postMessage');

    await until(() => postsWith(slack, ADA, 'anyone there?').length > 0, 'the new line in Ada’s DM', 15_000);
    await new Promise((r) => setTimeout(r, 2_500));
    const cards = cardsFor(slack, ADA, second.id);
    expect(cards, 'cards posted for the second conversation').to.have.length(1);
    const threadTs = String(cards[0]!.answer.ts);
    const lines = postsWith(slack, ADA, 'anyone there?');
    expect(lines, 'the line the customer wrote meanwhile').to.have.length(1);
    expect(lines[0]!.args.thread_ts).to.equal(threadTs);
    expect(
      postsWith(slack, ADA, 'second visitor waiting').filter((p) => p.args.thread_ts === threadTs),
    ).to.have.length(1);

    // Ada answers in the thread: the event reaches A, then Slack retries it to B. The visitor gets it once.
    const replies: string[] = [];
    second.visitor.on('message', (m: Json) => {
      if (m.direction === 'out') replies.push(m.text);
    });
    const reply = dmMessage(ADA, dmOf(ADA), 'Here now, how can I help?', threadTs);
    const eventId = newEventId();
    expect(await event(a, reply, eventId)).to.equal(200);
    expect(await event(b, reply, eventId, 1)).to.equal(200);
    await until(() => replies.length > 0, 'the reply at the visitor');
    await new Promise((r) => setTimeout(r, 500));
    expect(replies).to.deep.equal(['Here now, how can I help?']);
  });

  it('a process SIGKILLed with lines still to post in a thread: another takes its updates over and posts each once', async () => {
    const { c, slack } = await start({ SLACK_TAKEOVER_SECONDS: '2' });
    const [a, b] = c.nodes as [Node, Node];
    const first = await visitorWrites(c, 0, 'first line');
    const card = await slack.waitFor(
      'chat.postMessage',
      (x) => x.thread_ts === undefined && JSON.stringify(x.blocks ?? '').includes(first.id),
      10_000,
    );
    const threadTs = String(card.answer.ts);
    await until(() => postsWith(slack, ADA, 'first line').length === 1, 'the transcript in Ada’s thread');

    // A's post of the next line reaches Slack but is never answered; the line after waits behind it in A.
    let heldOnce = false;
    slack.hold('chat.postMessage', (x) => {
      if (heldOnce || !String(x.text).includes('second line')) return false;
      heldOnce = true;
      return true;
    });
    for (const text of ['second line', 'third line']) {
      expect((await ack(first.visitor, 'message', { text, clientMessageId: `${text}-1` })).ok).to.equal(true);
    }
    await slack.waitFor('chat.postMessage', (x) => String(x.text).includes('second line'), 10_000, false);
    await a.stop('SIGKILL');

    await until(
      () => postsWith(slack, ADA, 'second line').length > 0 && postsWith(slack, ADA, 'third line').length > 0,
      'B to post the lines A left',
      15_000,
    );
    await b.waitFor((r) => String(r.msg).startsWith('Slack: taking over'), 5_000);
    // Given time for anything doubled to show.
    await new Promise((r) => setTimeout(r, 2_500));
    for (const text of ['second line', 'third line']) {
      const lines = postsWith(slack, ADA, text);
      expect(lines, text).to.have.length(1);
      expect(lines[0]!.args.thread_ts, text).to.equal(threadTs);
    }
    expect(postsWith(slack, ADA, 'first line'), 'the transcript is not posted again').to.have.length(1);
    expect(cardsFor(slack, ADA, first.id), 'no second card').to.have.length(1);
  });
});
