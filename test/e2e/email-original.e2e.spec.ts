// "Show original" in a real browser: the web console links an inbound email to the mail as received, in a new
// tab; what the customer's mail carries there (a script, a picture from their server, a style sheet) neither
// runs nor loads, while the pictures the mail itself carries (cid:) show.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { pino } from 'pino';
import { MemoryStore } from '../../routing/store/memory.js';
import { createSwitchboard, type Switchboard } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { agentToken } from '../../shared/tokens.js';
import { INBOUND_TOKEN, type Sink, startSink } from '../channels/email-harness.js';
import { useChromium } from '../support/chromium.js';
import { freePort } from '../support/redis-server.js';

// A 1×1 PNG, carried in the mail and shown by its Content-ID.
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/** Lee's mail: HTML only, with a script, remote content of four kinds and a picture of its own. */
const mail = (remote: string) =>
  [
    'From: Lee Chen <lee.chen@example.com>',
    'To: support@support.example.com',
    'Subject: Where is my invoice?',
    'Message-ID: <original-e2e-1@example.com>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/related; boundary="rel"',
    '',
    '--rel',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<html><head><link rel="stylesheet" href="' + remote + '/style.css"></head><body>',
    '<p>Where is my <b>invoice</b>?</p>',
    '<script>document.title = "script ran"; fetch("' + remote + '/fetch");</script>',
    '<img id="remote" src="' + remote + '/track.png">',
    '<div style="background: url(' + remote + '/background.png)">x</div>',
    '<img id="own" src="cid:logo@example.com">',
    '<iframe src="' + remote + '/frame"></iframe>',
    '<blockquote>Thanks for your order, Lee</blockquote>',
    '</body></html>',
    '--rel',
    'Content-Type: image/png',
    'Content-ID: <logo@example.com>',
    'Content-Transfer-Encoding: base64',
    '',
    PNG,
    '--rel--',
    '',
  ].join('\r\n');

/** Switchboard with email on (mail out to a sink), on a port of its own; `env` adds to its environment. */
async function startEmailServer(
  env: Record<string, string> = {},
): Promise<{ sb: Switchboard; sink: Sink; base: string }> {
  const sink = await startSink();
  // Links name PUBLIC_URL: the port is chosen first.
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const sb = createSwitchboard({
    config: loadConfig({
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: base,
      ADMIN_TOKEN: 'original-admin-token-0123456789',
      TOKEN_SECRET: 'original-token-secret-0123456789-0123456789',
      DEMO_AGENTS: 'off',
      LOG_LEVEL: 'silent',
      EMAIL_INBOUND_TOKEN: INBOUND_TOKEN,
      EMAIL_FROM: 'support@support.example.com',
      SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
      ...env,
    }),
    store: new MemoryStore(),
    logger: pino({ level: 'silent' }),
  });
  await sb.listen(port, '127.0.0.1');
  return { sb, sink, base };
}

describe('e2e: an inbound email as received, from the web console, in Chromium', function () {
  this.timeout(120_000);
  const browser = useChromium();
  let sb: Switchboard;
  let sink: Sink;
  let base: string;
  /** The sender's server: every request the mail's remote content makes reaches it. */
  let tracker: Server;
  let remote: string;
  const asked: string[] = [];

  before(async () => {
    tracker = createServer((req, res) => {
      asked.push(req.url ?? '');
      res.end();
    });
    await new Promise<void>((resolve) => tracker.listen(0, '127.0.0.1', resolve));
    remote = `http://127.0.0.1:${(tracker.address() as AddressInfo).port}`;
    ({ sb, sink, base } = await startEmailServer());
  });
  after(async () => {
    await sb?.close();
    await sink?.close();
    await new Promise((resolve) => tracker?.close(resolve));
  });

  it('"Show original" opens the mail in a new tab; its script does not run and nothing remote loads', async () => {
    const ada = await sb.router.createAgent({ name: 'Ada', status: 'available', capacity: { email: 1 } });
    const received = await fetch(`${base}/email/inbound`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${INBOUND_TOKEN}`, 'Content-Type': 'message/rfc822' },
      body: mail(remote),
    });
    expect(received.status).to.equal(202);

    const context = await browser().newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${base}/console?token=${encodeURIComponent(agentToken(sb.tokens, ada))}`);
      const link = page.locator('[data-sb="message"] [data-sb="original"]');
      await link.waitFor();
      expect(await link.textContent()).to.equal('Show original');
      // Named with whose mail and when: a screen reader's list of links tells one from another.
      expect(await link.getAttribute('aria-label')).to.match(/^Show original: Lee Chen, \d{1,2}:\d{2}/);
      expect(await link.getAttribute('target')).to.equal('_blank');
      expect(await link.getAttribute('rel')).to.equal('noopener noreferrer');

      const [original] = await Promise.all([context.waitForEvent('page'), link.click()]);
      await original.waitForLoadState('load');
      expect(original.url().startsWith(`${base}/email/original/`)).to.equal(true);
      // The whole text, the quoted part too, read from the HTML.
      const text = await original.locator('[data-sb="text"]').textContent();
      expect(text).to.contain('Where is my invoice?');
      expect(text).to.contain('Thanks for your order, Lee');

      // The HTML as sent.
      await original.locator('[data-sb="html"]').click();
      await original.waitForURL(/\/html$/);
      await original.waitForLoadState('load');
      expect(await original.locator('b').textContent()).to.equal('invoice');
      // The mail's own picture shows (as a data: URL); the script did not run; nothing reached the sender's server.
      expect(
        await original.evaluate(() => {
          const own = document.getElementById('own') as HTMLImageElement;
          return [own.src.slice(0, 15), own.complete && own.naturalWidth];
        }),
      ).to.deep.equal(['data:image/png;', 1]);
      expect(await original.title()).to.not.equal('script ran');
      expect(
        await original.evaluate(() => (document.getElementById('remote') as HTMLImageElement).naturalWidth),
      ).to.equal(0);
      await original.close();
    } finally {
      await context.close();
    }
    expect(asked).to.deep.equal([]);
  });
});

describe('e2e: a mail too large to keep, in the web console, in Chromium', function () {
  this.timeout(120_000);
  const browser = useChromium();
  let sb: Switchboard;
  let sink: Sink;
  let base: string;

  before(async () => {
    // 8 KiB kept in all: a mail with a 5,000-byte file is over it.
    ({ sb, sink, base } = await startEmailServer({ EMAIL_MAX_BYTES: '8192', EMAIL_STORE_MAX_BYTES: '8192' }));
  });
  after(async () => {
    await sb?.close();
    await sink?.close();
  });

  it('says in the place of "Show original" that the mail was too large to keep', async () => {
    const ada = await sb.router.createAgent({ name: 'Ada', status: 'available', capacity: { email: 1 } });
    const raw = [
      'From: Lee Chen <lee.chen@example.com>',
      'To: support@support.example.com',
      'Subject: The scan',
      'Message-ID: <too-large-e2e-1@example.com>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="mix"',
      '',
      '--mix',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Here is the scan of the receipt.',
      '--mix',
      'Content-Type: application/octet-stream; name="scan.bin"',
      'Content-Disposition: attachment; filename="scan.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.alloc(5000, 7).toString('base64'),
      '--mix--',
      '',
    ].join('\r\n');
    const received = await fetch(`${base}/email/inbound`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${INBOUND_TOKEN}`, 'Content-Type': 'message/rfc822' },
      body: raw,
    });
    expect(received.status).to.equal(202);

    const page = await browser().newPage();
    try {
      await page.goto(`${base}/console?token=${encodeURIComponent(agentToken(sb.tokens, ada))}`);
      const said = page.locator('[data-sb="message"] [data-sb="original-not-kept"]');
      await said.waitFor();
      expect(await said.textContent()).to.equal('No original: too large to keep');
      expect(await page.locator('[data-sb="message"] [data-sb="original"]').count()).to.equal(0);
      expect(await page.locator('[data-sb="message"]').first().textContent()).to.contain('Here is the scan');
    } finally {
      await page.close();
    }
  });
});
