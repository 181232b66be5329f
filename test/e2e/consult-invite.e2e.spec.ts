// The web console in a real browser: an invitation to consult dismissed from its banner is offered again when the
// colleague opens the conversation, so they can still join.
import { expect } from 'chai';
import { emitAck, once, useHarness } from '../server/harness.js';
import { useChromium } from '../support/chromium.js';

describe('e2e: an invitation to consult in the web console, in Chromium', function () {
  this.timeout(120_000);
  const sb = useHarness();
  const browser = useChromium();

  it('dismissed from its banner, it comes back when the conversation is opened, and Join works', async () => {
    const h = sb();
    const { agent: ada } = await h.createAgent('Ada', { capacity: { chat: 1 } });
    const { agent: ben, token } = await h.createAgent('Ben', { capacity: { chat: 0 } });
    const visitor = h.visitor();
    await once(visitor, 'session');
    const ack = await emitAck(visitor, 'message', { text: 'Which size fits me?', clientMessageId: 'm-1' });
    const conversationId = ack.conversationId as string;
    expect((await h.store.getConversation(conversationId))?.ownerId).to.equal(ada.id);

    const page = await browser().newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    try {
      await page.goto(`${h.url}/console?token=${encodeURIComponent(token)}`);
      await page
        .locator('#conn')
        .filter({ hasText: /^Connected/ })
        .waitFor();
      await h.sb.router.consult(ada.id, conversationId, ben.id);
      const join = page.locator('[data-sb="consult-join"]');
      await join.waitFor();
      await page.getByRole('button', { name: 'Dismiss' }).click();
      await join.waitFor({ state: 'detached' });
      // Opened from the list: the invitation is there again.
      await page.locator('[data-sb="conversation-item"]').first().click();
      await join.waitFor();
      await join.click();
      await page.locator('[data-sb="reply-input"]').waitFor();
      await page.waitForFunction(
        () => !(document.querySelector('[data-sb="reply-input"]') as HTMLTextAreaElement | null)?.disabled,
      );
      expect((await h.store.getConversation(conversationId))?.consultants).to.deep.equal([ben.id]);
      await h.sb.router.resolve(ada.id, conversationId);
    } finally {
      await page.close();
    }
  });
});
