// The web console reloaded while a chat rings its agent, in Chromium: the page that comes back shows the offer, with
// the time left by the server's clock, and Accept takes the conversation.
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { emitAck, type Harness, SECOND, startHarness } from '../server/harness.js';
import { useChromium } from '../support/chromium.js';

describe('e2e: an offer ringing while the web console is reloaded', function () {
  this.timeout(120_000);
  const browser = useChromium();
  let h: Harness;
  let context: BrowserContext | null = null;
  beforeEach(async () => {
    h = await startHarness({
      env: {
        ROUTING_POLICY: JSON.stringify({
          offerTimeoutSeconds: { chat: 60 },
          liveChannels: ['voice', 'chat'],
        }),
      },
    });
  });
  afterEach(async () => {
    await context?.close().catch(() => {});
    context = null;
    await h?.close();
  });

  const el = (page: Page, name: string) => page.locator(`[data-sb="${name}"]`);

  it('the reloaded page shows the chat ringing Ada, answer by the time left on the server, and Accept opens it', async () => {
    const { agent: ada, token } = await h.createAgent('Ada', {
      capacity: { voice: 0, sms: 0, chat: 1, email: 0 },
    });
    context = await browser().newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    await page.goto(`${h.url}/console?token=${token}`);
    await el(page, 'agent-name').filter({ hasText: 'Ada' }).waitFor();

    const visitor = h.visitor();
    const sent = await emitAck(visitor, 'message', { text: 'My parcel never came', clientMessageId: 'm1' });
    expect(sent.ok).to.equal(true);
    const conversationId = sent.conversationId as string;
    await el(page, 'offer-accept').waitFor();

    // 20 of its 60 seconds pass on the server (whose clock is not the browser's), and the page is reloaded.
    h.clock.advance(20 * SECOND);
    await page.reload();
    await el(page, 'agent-name').filter({ hasText: 'Ada' }).waitFor();
    await el(page, 'offer-accept').waitFor();
    const text = await el(page, 'offer-text').textContent();
    expect(text).to.match(/^Incoming chat from Website visitor \w{4} — answer by /);
    // About 40 seconds from now by the browser's clock (a second or two of the test may have passed since).
    const near = await page.evaluate(() =>
      [40, 39, 38, 37, 36, 41].map((s) =>
        new Date(Date.now() + s * 1000).toLocaleTimeString([], {
          hour: '2-digit',
          minute: '2-digit',
          second: '2-digit',
        }),
      ),
    );
    expect(near.some((t) => text!.endsWith(`answer by ${t}.`))).to.equal(true, `${text} not near ${near[0]}`);

    await el(page, 'offer-accept').click();
    await el(page, 'offer-accept').waitFor({ state: 'detached' });
    await el(page, 'message').filter({ hasText: 'My parcel never came' }).waitFor();
    const conversation = (await h.store.getConversation(conversationId))!;
    expect([conversation.status, conversation.ownerId]).to.deep.equal(['assigned', ada.id]);
    visitor.disconnect();
  });
});
