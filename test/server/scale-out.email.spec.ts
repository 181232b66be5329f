// Email with several server processes on one Redis: a mail that arrives at one
// process reaches the agent on another, whose reply goes out once, threaded and to
// the customer's address, and the customer's answer to it, arriving at either
// process, joins the same conversation. Child processes running server/main.ts;
// the relay is a local smtp-server sink; mail arrives by `POST /email/inbound`.
import { expect } from 'chai';
import { INBOUND_TOKEN, type Sink, startSink } from '../channels/email-harness.js';
import { Cluster, type Node, next, until } from '../support/cluster.js';
import { sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';

// biome-ignore lint/suspicious/noExplicitAny: wire payloads are asserted field by field
type Json = any;

const DOMAIN = 'support.example.com';
const SUPPORT = `support@${DOMAIN}`;

function mail(from: string, messageId: string, subject: string, text: string, inReplyTo?: string): string {
  return [
    `From: Dee Example <${from}>`,
    `To: ${SUPPORT}`,
    `Subject: ${subject}`,
    `Message-ID: ${messageId}`,
    ...(inReplyTo ? [`In-Reply-To: ${inReplyTo}`, `References: ${inReplyTo}`] : []),
    'Date: Sun, 06 Dec 2026 09:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    text,
    '',
  ].join('\r\n');
}

async function deliver(node: Node, raw: string): Promise<Json> {
  const res = await fetch(`${node.url}/email/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${INBOUND_TOKEN}` },
    body: raw,
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).to.be.within(200, 202);
  return body;
}

describe('scale-out: email across processes', function () {
  this.timeout(60_000);
  let cluster: Cluster | null = null;
  let sink: Sink | null = null;
  afterEach(async () => {
    await cluster?.close();
    await sink?.close();
    cluster = null;
    sink = null;
  });

  /** Two processes with email on, replies relayed to a local sink. */
  async function start(env: Record<string, string> = {}): Promise<{ c: Cluster; relay: Sink }> {
    const relay = await startSink();
    sink = relay;
    cluster = await Cluster.start({
      nodes: 2,
      redisUrl: await sharedRedisUrl(),
      prefix: uniquePrefix('email'),
      env: {
        EMAIL_INBOUND_TOKEN: INBOUND_TOKEN,
        SMTP_URL: `smtp://127.0.0.1:${relay.port}`,
        EMAIL_FROM: `Support Team <${SUPPORT}>`,
        ...env,
      },
    });
    return { c: cluster, relay };
  }

  it('a mail at A reaches the agent on B; the reply goes out once, threaded; the answer at B joins it', async () => {
    const { c, relay } = await start();
    const [a, b] = c.nodes as [Node, Node];
    const { agent: sam, console } = await c.agentConsole(1, 'Sam', { email: 2 });

    const assigned = next<Json>(console, 'assigned');
    const first = await deliver(
      a,
      mail('Dee@Example.com', '<d1@example.com>', 'Order 1234', 'Where is my order?'),
    );
    const view = await assigned;
    expect(view.conversation.id).to.equal(first.conversationId);
    expect(view.messages.map((m: Json) => [m.text, m.from])).to.deep.equal([
      ['Where is my order?', 'dee@example.com'],
    ]);

    const reply = await console.timeout(10_000).emitWithAck('reply', {
      conversationId: view.conversation.id,
      text: 'It ships today.',
      clientMessageId: 'r1',
    });
    expect(reply.ok, JSON.stringify(reply)).to.equal(true);
    const out = await relay.next(10_000);
    expect(out.envelope.to).to.deep.equal(['dee@example.com']);
    expect(out.mail.inReplyTo).to.equal('<d1@example.com>');
    expect(out.mail.subject).to.equal('Re: Order 1234');
    const ours = out.mail.messageId!;
    expect(ours).to.match(new RegExp(`^<sb\\.${reply.messageId}\\.${view.conversation.id}@${DOMAIN}>$`));
    await until(async () => {
      const conv = (await a.api<Json>('GET', `/conversations/${view.conversation.id}`)).body;
      return conv.messages.find((m: Json) => m.id === reply.messageId)?.delivery.state === 'sent';
    }, 'the reply to show sent, read through A');

    // The customer answers the reply; the mail reaches B and joins the conversation, owned by Sam still.
    const seen = next<Json>(console, 'message', (p) => p.message.text === 'Thanks!');
    const answer = await deliver(
      b,
      mail('dee@example.com', '<d2@example.com>', 'Re: Order 1234', 'Thanks!', ours),
    );
    expect(answer.conversationId).to.equal(view.conversation.id);
    expect((await seen).conversationId).to.equal(view.conversation.id);
    // The same mail delivered again to A is stored once.
    const again = await deliver(
      a,
      mail('dee@example.com', '<d2@example.com>', 'Re: Order 1234', 'Thanks!', ours),
    );
    expect(again.messageId).to.equal(answer.messageId);
    const conv = (await a.api<Json>('GET', `/conversations/${view.conversation.id}`)).body;
    expect(conv.conversation.ownerId).to.equal(sam.id);
    expect(conv.messages.map((m: Json) => [m.direction, m.text])).to.deep.equal([
      ['in', 'Where is my order?'],
      ['out', 'It ships today.'],
      ['in', 'Thanks!'],
    ]);
    await new Promise((r) => setTimeout(r, 300));
    expect(relay.mails).to.have.length(1);
  });

  it('a file a mail brought to A, and the mail as received, open from B, after A died', async () => {
    const { c } = await start({ PUBLIC_URL: 'https://support.example.com' });
    const [a, b] = c.nodes as [Node, Node];
    const csv = 'item,qty\nteapot lid,1\n';
    const raw = [
      'From: Dee Example <dee@example.com>',
      `To: ${SUPPORT}`,
      'Subject: The receipt',
      'Message-ID: <d3@example.com>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b0undary"',
      '',
      '--b0undary',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Receipt attached.',
      '--b0undary',
      'Content-Type: text/csv; name="receipt.csv"',
      'Content-Disposition: attachment; filename="receipt.csv"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from(csv).toString('base64'),
      '--b0undary--',
      '',
    ].join('\r\n');
    const received = await deliver(a, raw);
    await a.stop('SIGKILL');

    const conv = (await b.api<Json>('GET', `/conversations/${received.conversationId}`)).body;
    const [file] = conv.messages[0].attachments;
    expect([file.name, file.type]).to.deep.equal(['receipt.csv', 'text/csv']);
    const path = new URL(file.url).pathname;
    const res = await fetch(`${b.url}${path}`, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-disposition')).to.equal('attachment; filename=receipt.csv');
    expect(await res.text()).to.equal(csv);
    // Show original: the link B makes opens the mail A kept, with its file listed.
    const original = await fetch(`${b.url}${new URL(conv.messages[0].original).pathname}`, {
      signal: AbortSignal.timeout(10_000),
    });
    expect(original.status).to.equal(200);
    const page = await original.text();
    expect(page).to.contain('Receipt attached.');
    expect(page).to.contain(`<a href="${file.url}">receipt.csv (text/csv, ${csv.length} B)</a>`);
  });
});
