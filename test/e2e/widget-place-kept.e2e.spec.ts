// The chat widget, in Chromium, for a visitor back soon after giving up a wait (policy `rejoinSeconds`): the place
// they had is kept, and the widget says so with it (`keptPlace` in its status, `widgetTexts.placeKept`), as a text,
// an email or a call back does.
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { emitAck, type Harness, once, SECOND, useHarness } from '../server/harness.js';
import { launchChromium } from '../support/chromium.js';
import { widgetPart, writeInWidget } from '../support/widget.js';

describe('e2e: the widget tells a visitor back soon after giving up a wait that they keep their place', function () {
  this.timeout(120_000);
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close().catch(() => {});
  });
  const sb = useHarness();

  const w = widgetPart;

  async function open(h: Harness): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    await page.goto(`${h.url}/`);
    await w(page, 'launcher').click();
    return page;
  }

  const write = writeInWidget;

  it('gave up, back two minutes later: number 1 in line again, and told they keep the place they had', async () => {
    const h = sb();
    // Ada, with room for one chat, has a first visitor's: the next waits, quoted 19 minutes.
    const { token } = await h.createAgent('Ada', { capacity: { voice: 0, sms: 0, chat: 1, email: 0 } });
    const ada = h.agentSocket(token);
    await once(ada, 'hello');
    const first = h.visitor();
    await once(first, 'session');
    expect((await emitAck(first, 'message', { text: 'first', clientMessageId: 'f1' })).ok).to.equal(true);
    await once(ada, 'assigned');

    const page = await open(h);
    await write(page, 'Where is my order?');
    await w(page, 'status')
      .filter({ hasText: 'You are number 1 in line. A person will answer within about 19 minutes.' })
      .waitFor();
    // A third visitor waits behind her.
    h.clock.advance(30 * SECOND);
    const third = h.visitor();
    await once(third, 'session');
    expect((await emitAck(third, 'message', { text: 'me too', clientMessageId: 't1' })).ok).to.equal(true);

    // She gives up the wait, and writes again two minutes later: ahead of the third visitor, as before.
    const queued = await h.store.listConversations({ status: 'queued' });
    const gaveUp = queued.sort((a, b) => a.createdAt - b.createdAt)[0];
    expect([queued.length, gaveUp?.lastChannel]).to.deep.equal([2, 'chat']);
    await h.sb.router.abandon(gaveUp!.id);
    await w(page, 'status').filter({ hasText: 'This conversation is closed.' }).waitFor();
    h.clock.advance(2 * 60 * SECOND);
    await write(page, 'Sorry, I am back.');
    await w(page, 'status')
      .filter({
        hasText:
          'You are number 1 in line. You keep the place in line you had before. A person will answer within about 19 minutes.',
      })
      .waitFor();
  });
});
