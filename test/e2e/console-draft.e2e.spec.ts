// The web console in a real browser: what an agent is typing in a conversation's reply box survives a reload of
// the page (kept for the tab, per conversation), and goes once sent.
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { emitAck, type Harness, once, useHarness } from '../server/harness.js';
import { useChromium } from '../support/chromium.js';

describe('e2e: the web console keeps what the agent types across a reload, in Chromium', function () {
  this.timeout(120_000);
  const sb = useHarness();
  const browser = useChromium();
  const el = (page: Page, name: string) => page.locator(`[data-sb="${name}"]`);

  async function visitorWrites(h: Harness, text: string): Promise<string> {
    const v = h.visitor();
    await once(v, 'session');
    const ack = await emitAck(v, 'message', { text, clientMessageId: 'c-1' });
    return ack.conversationId as string;
  }

  it('each conversation keeps its own draft across a reload; a sent reply leaves none', async () => {
    const h = sb();
    const { agent: ada, token } = await h.createAgent('Ada', { capacity: { chat: 2 } });
    const first = await visitorWrites(h, 'Where is parcel one?');
    const second = await visitorWrites(h, 'Where is parcel two?');
    const page = await browser().newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    try {
      await page.goto(`${h.url}/console?token=${encodeURIComponent(token)}`);
      const item = (id: string) =>
        page.locator(`[data-sb="conversation-item"][data-conversation-id="${id}"]`);
      const reply = el(page, 'reply-input');
      await item(first).click();
      await reply.fill('Parcel one left the depot and');
      await item(second).click();
      await reply.fill('Parcel two is');
      await page.reload();
      // Back on the conversation it showed, with its draft; the other keeps its own.
      await page.locator(`[data-sb="conversation-item"][aria-current="true"]`).waitFor();
      expect(await page.locator('[aria-current="true"]').getAttribute('data-conversation-id')).to.equal(
        second,
      );
      expect(await reply.inputValue()).to.equal('Parcel two is');
      await item(first).click();
      expect(await reply.inputValue()).to.equal('Parcel one left the depot and');

      // Sent: gone from the box, and not back after a reload.
      await reply.fill('Parcel one left the depot today.');
      await el(page, 'reply').click();
      await el(page, 'message').filter({ hasText: 'left the depot today' }).waitFor();
      expect(await reply.inputValue()).to.equal('');
      await page.reload();
      await page.locator(`[data-sb="conversation-item"][aria-current="true"]`).waitFor();
      expect(await page.locator('[aria-current="true"]').getAttribute('data-conversation-id')).to.equal(
        first,
      );
      expect(await reply.inputValue()).to.equal('');
      await item(second).click();
      expect(await reply.inputValue()).to.equal('Parcel two is');

      // What the tab keeps is read with care: a stored value that is not drafts is ignored, not a broken page.
      await page.evaluate(() => sessionStorage.setItem('switchboard.console.drafts', '{"x":[1,2]'));
      await page.reload();
      await page.locator(`[data-sb="conversation-item"][aria-current="true"]`).waitFor();
      expect(await reply.inputValue()).to.equal('');
      await h.sb.router.resolve(ada.id, first);
      await h.sb.router.resolve(ada.id, second);
    } finally {
      await page.close();
    }
  });
});
