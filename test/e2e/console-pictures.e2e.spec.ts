// The web console in a real browser: a picture that loads late in the message list does not push the newest
// message out of sight when the list was at its bottom.
import { expect } from 'chai';
import { pino } from 'pino';
import type { Route } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import { MemoryStore } from '../../routing/store/memory.js';
import { createSwitchboard, type Switchboard } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { agentToken } from '../../shared/tokens.js';
import { useChromium } from '../support/chromium.js';
import { freePort } from '../support/redis-server.js';

/** A tall picture (SVG: served by the test in place of the file, whatever its type). */
const TALL =
  '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="600"><rect width="200" height="600" fill="#c33"/></svg>';

describe('e2e: pictures that load late in the web console, in Chromium', function () {
  this.timeout(120_000);
  const browser = useChromium();
  let sb: Switchboard;
  let base: string;
  const sockets: Socket[] = [];

  before(async () => {
    // Links to files name PUBLIC_URL: the port is chosen first, so that the console shows them as its own.
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const config = loadConfig({
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: base,
      ADMIN_TOKEN: 'pictures-admin-token-0123456789',
      TOKEN_SECRET: 'pictures-token-secret-0123456789-0123456789',
      DEMO_AGENTS: 'off',
      LOG_LEVEL: 'silent',
    });
    sb = createSwitchboard({
      config,
      store: new MemoryStore(),
      logger: pino({ level: 'silent' }),
      chatRateLimit: { burst: 1000, perSecond: 100 },
    });
    await sb.listen(port, '127.0.0.1');
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    await sb?.close();
  });

  it('the list stays at its bottom as a picture above the newest message loads', async () => {
    const ada = await sb.router.createAgent({ name: 'Ada', status: 'available', capacity: { chat: 1 } });
    const token = agentToken(sb.tokens, ada);
    const visitor = io(`${base}/chat`, { forceNew: true, transports: ['websocket'] });
    sockets.push(visitor);
    const session = await new Promise<{ visitorToken: string }>((resolve) =>
      visitor.once('session', resolve),
    );
    const send = (text: string, files: string[] = []) =>
      visitor
        .timeout(5000)
        .emitWithAck('message', { text, clientMessageId: `${text}-${files.length}`, files });
    for (let n = 1; n <= 12; n++) await send(`Line ${n} of a long story about a parcel`);

    const page = await browser().newPage({ viewport: { width: 1100, height: 800 } });
    page.on('pageerror', (err) => {
      throw err;
    });
    // The picture's bytes are held back until the test lets them go: it loads late.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let asked: () => void = () => {};
    const requested = new Promise<void>((resolve) => {
      asked = resolve;
    });
    await page.route('**/chat/files/**', async (route: Route) => {
      if (route.request().method() !== 'GET') return route.continue();
      asked();
      await held;
      await route.fulfill({ status: 200, contentType: 'image/svg+xml', body: TALL });
    });
    try {
      await page.goto(`${base}/console?token=${encodeURIComponent(token)}`);
      const box = page.locator('[data-sb="messages"]');
      await box.locator('[data-sb="message"]').filter({ hasText: 'Line 12' }).waitFor();

      const upload = await fetch(`${base}/chat/files`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${session.visitorToken}`,
          'Content-Type': 'image/png',
          'X-File-Name': 'parcel.png',
        },
        body: Buffer.from('89504e470d0a1a0a', 'hex'),
      });
      const { file } = (await upload.json()) as { file: { upload: string } };
      await send('', [file.upload]);
      await send('This is the newest line');
      await box.locator('[data-sb="message"]').filter({ hasText: 'newest line' }).waitFor();
      await requested;
      const fromBottom = () =>
        page.evaluate(() => {
          const el = document.querySelector('[data-sb="messages"]')!;
          return Math.round(el.scrollHeight - el.scrollTop - el.clientHeight);
        });
      expect(await fromBottom()).to.be.below(5);
      release();
      await page.waitForFunction(() => {
        const img = document.querySelector('img.msg-thumb') as HTMLImageElement | null;
        return !!img?.complete && img.naturalHeight === 600;
      });
      // The picture took its room above: the newest line is still in sight at the bottom.
      await page.waitForFunction(
        () => {
          const el = document.querySelector('[data-sb="messages"]')!;
          return el.scrollHeight - el.scrollTop - el.clientHeight < 5;
        },
        undefined,
        { timeout: 5000 },
      );
      expect(await fromBottom()).to.be.below(5);
    } finally {
      release();
      await page.close();
    }
  });

  it("a picture's link is named once, by its label (the picture in it says nothing more)", async () => {
    const grace = await sb.router.createAgent({ name: 'Grace', status: 'available', capacity: { chat: 1 } });
    const visitor = io(`${base}/chat`, { forceNew: true, transports: ['websocket'] });
    sockets.push(visitor);
    const session = await new Promise<{ visitorToken: string }>((resolve) =>
      visitor.once('session', resolve),
    );
    const upload = await fetch(`${base}/chat/files`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${session.visitorToken}`,
        'Content-Type': 'image/png',
        'X-File-Name': 'box.png',
      },
      body: Buffer.from('89504e470d0a1a0a', 'hex'),
    });
    const { file } = (await upload.json()) as { file: { upload: string } };
    const ack = await visitor.timeout(5000).emitWithAck('message', {
      text: 'The box came like this',
      clientMessageId: 'box-1',
      files: [file.upload],
    });
    expect(ack.ok).to.equal(true);
    const page = await browser().newPage({ viewport: { width: 1100, height: 800 } });
    page.on('pageerror', (err) => {
      throw err;
    });
    try {
      await page.goto(`${base}/console?token=${encodeURIComponent(agentToken(sb.tokens, grace))}`);
      const link = page.locator('[data-sb="attachment"] a').filter({ hasText: 'box.png' });
      await link.locator('img.msg-thumb').waitFor({ state: 'attached' });
      // Its name is the label alone, and the picture is not a second image named the same.
      expect((await link.ariaSnapshot()).split('\n')[0]).to.equal('- link "box.png (image/png, 8 B)":');
      expect(await link.getByRole('img').count()).to.equal(0);
    } finally {
      await page.close();
    }
  });
});
