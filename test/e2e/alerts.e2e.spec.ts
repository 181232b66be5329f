// The web console's alerts in a real browser: a new conversation, or a customer's message while the agent
// looks elsewhere, chimes and (allowed) shows a desktop notification that brings the conversation up; none
// for what they are looking at; turned off, none, and it stays off. The browser's Notification and focus are
// replaced by recorders in the page (an init script), as a headless browser has no desktop to show them on.
import { expect } from 'chai';
import { pino } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import { createSwitchboard, type Switchboard } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import type { Agent } from '../../shared/model.js';
import { launchChromium } from '../support/chromium.js';

/**
 * In the page: notifications shown (allowed), chimes played, and whether the page has the focus. Plain text,
 * run before the page's own script (a compiled function would carry the test runner's helpers along).
 */
const RECORDERS = `
  window.__shown = [];
  window.__chimes = 0;
  window.__focused = true;
  document.hasFocus = () => window.__focused;
  window.Notification = class {
    static permission = 'granted';
    static requestPermission() { return Promise.resolve('granted'); }
    constructor(title, options) {
      this.onclick = null;
      window.__shown.push({ title, body: options.body, tag: options.tag, click: () => this.onclick && this.onclick() });
    }
    close() {}
  };
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    window.__chimes += 1;
    return start.apply(this, args);
  };
`;

describe('e2e: the web console alerts the agent in Chromium', function () {
  this.timeout(120_000);

  let sb: Switchboard;
  let base: string;
  let browser: Browser;
  let ada: Agent;
  const sockets: Socket[] = [];

  before(async () => {
    const config = loadConfig({
      ADMIN_TOKEN: 'e2e-alerts-admin-token-0123456789',
      TOKEN_SECRET: 'e2e-alerts-token-secret-0123456789-0123456789',
      DEMO_AGENTS: 'off',
    });
    sb = createSwitchboard({ config, logger: pino({ level: 'silent' }) });
    const port = await sb.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
    ada = await sb.router.createAgent({
      name: 'Ada',
      capacity: { voice: 0, sms: 0, chat: 3, email: 0 },
      status: 'available',
    });
    browser = await launchChromium();
  });

  after(async () => {
    for (const s of sockets) s.disconnect();
    await browser?.close();
    await sb?.close();
  });

  /** A chat visitor; `say` sends a message and resolves when it is stored. */
  async function visitor(): Promise<(text: string) => Promise<string>> {
    const socket = io(`${base}/chat`, { transports: ['websocket'], forceNew: true, reconnection: false });
    sockets.push(socket);
    await new Promise((resolve) => socket.once('session', resolve));
    let n = 0;
    return async (text) => {
      const ack = await socket.emitWithAck('message', { text, clientMessageId: `m-${++n}` });
      expect(ack.ok).to.equal(true);
      return ack.conversationId as string;
    };
  }

  const shown = (page: Page) =>
    page.evaluate(() =>
      (window as unknown as { __shown: Array<{ title: string; body: string; tag: string }> }).__shown.map(
        ({ title, body, tag }) => ({ title, body, tag }),
      ),
    );
  const chimes = (page: Page) => page.evaluate(() => (window as unknown as { __chimes: number }).__chimes);
  const focus = (page: Page, focused: boolean) =>
    page.evaluate((f) => {
      (window as unknown as { __focused: boolean }).__focused = f;
    }, focused);
  /** Wait until `n` notifications were shown. */
  const untilShown = (page: Page, n: number) =>
    page.waitForFunction((k) => (window as unknown as { __shown: unknown[] }).__shown.length >= k, n);

  it('chimes and notifies for a new conversation and a message while the agent looks elsewhere; not for what they look at; off stays off', async () => {
    const context = await browser.newContext();
    await context.addInitScript({ content: RECORDERS });
    const page = await context.newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    await page.goto(`${base}/console?token=${sb.tokens.sign('agent', ada.id)}`);
    await page.getByRole('button', { name: 'Alerts', exact: true, pressed: true }).waitFor();
    // The browser plays sound once the page was used.
    await page.mouse.click(5, 300);
    await focus(page, false);

    const first = await visitor();
    const one = await first('Hello, my parcel never came');
    const name = `Website visitor ${(await sb.store.getConversation(one))!.customerId.slice(-4)}`;
    await untilShown(page, 1);
    expect(await shown(page)).to.deep.equal([
      { title: `New conversation: ${name}`, body: 'Hello, my parcel never came', tag: one },
    ]);
    expect(await chimes(page)).to.equal(2);

    // Looking at it: nothing for its next message.
    await focus(page, true);
    await page.locator('[data-sb="messages"]').getByText('Hello, my parcel never came').waitFor();
    await first('It was order 1234');
    await page.locator('[data-sb="messages"]').getByText('It was order 1234').waitFor();
    expect(await shown(page)).to.have.length(1);
    expect(await chimes(page)).to.equal(2);

    // A second customer while Ada reads the first: a chime, no desktop notification (the page has her eyes).
    const second = await visitor();
    const two = await second('Do you ship to Canada?');
    await page.waitForFunction(() => (window as unknown as { __chimes: number }).__chimes >= 4);
    expect(await shown(page)).to.have.length(1);

    // Away again: the first customer writes; clicking the notification brings their conversation up.
    await page.locator('[data-sb="conversation-item"]', { hasText: 'Do you ship to Canada?' }).click();
    await focus(page, false);
    await first('Any news?');
    await untilShown(page, 2);
    expect((await shown(page))[1]).to.deep.equal({
      title: `${name} wrote`,
      body: 'Any news?',
      tag: one,
    });
    await page.evaluate(() =>
      (window as unknown as { __shown: Array<{ click: () => void }> }).__shown[1]!.click(),
    );
    await page.locator('[data-sb="messages"]').getByText('Any news?').waitFor();

    // Turned off: nothing, and still off after a reload.
    await page.getByRole('button', { name: 'Alerts', exact: true, pressed: true }).click();
    await page.getByRole('button', { name: 'Alerts', exact: true, pressed: false }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Alerts', exact: true, pressed: false }).waitFor();
    await page.mouse.click(5, 300);
    await focus(page, false);
    await second('Hello?');
    await page.locator('[data-sb="conversation-item"]', { hasText: 'Hello?' }).waitFor();
    expect(await shown(page)).to.deep.equal([]);
    expect(await chimes(page)).to.equal(0);
    expect(two).to.not.equal(one);
    await context.close();
  });
});
