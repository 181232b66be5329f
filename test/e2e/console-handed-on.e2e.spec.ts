// The web console in a real browser: a conversation the agent handed on, open on their screen when the colleague
// accepts it, is no longer theirs there (nothing to write in, a note saying who has it), and the note follows it
// as it moves on again and closes.
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { emitAck, once, useHarness } from '../server/harness.js';
import { useChromium } from '../support/chromium.js';

describe('e2e: a conversation handed on, in the web console of the agent who had it, in Chromium', function () {
  this.timeout(120_000);
  const sb = useHarness();
  const browser = useChromium();
  const el = (page: Page, name: string) => page.locator(`[data-sb="${name}"]`);

  it('says who has it now, as it moves from colleague to colleague, and when it is resolved', async () => {
    const h = sb();
    const { agent: ada, token } = await h.createAgent('Ada', { capacity: { chat: 2 } });
    const v = h.visitor();
    await once(v, 'session');
    const ack = await emitAck(v, 'message', { text: 'My invoice is wrong', clientMessageId: 'c-1' });
    const conversationId = ack.conversationId as string;
    expect((await h.store.getConversation(conversationId))?.ownerId).to.equal(ada.id);
    const { agent: ben } = await h.createAgent('Ben', { capacity: { chat: 2 } });
    const { agent: cleo } = await h.createAgent('Cleo', { capacity: { chat: 2 } });

    const page = await browser().newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    try {
      await page.goto(`${h.url}/console?token=${encodeURIComponent(token)}`);
      await el(page, 'conversation-item').first().click();
      const reply = el(page, 'reply-input');
      await reply.waitFor();
      const standby = page.locator('#standby');
      const item = page.locator(`[data-sb="conversation-item"][data-conversation-id="${conversationId}"]`);

      await h.sb.router.handoff(ada.id, conversationId, ben.id, 'Billing question, over to you');
      await h.sb.router.acceptHandoff(ben.id, conversationId);
      await standby.filter({ hasText: "it is Ben's now" }).waitFor();
      expect(await reply.isVisible()).to.equal(false);
      await item.locator('.item-meta').filter({ hasText: "Ben's now" }).waitFor();

      // Ben hands it on to Cleo: Ada's screen follows.
      await h.sb.router.handoff(ben.id, conversationId, cleo.id, 'Cleo knows invoices');
      await h.sb.router.acceptHandoff(cleo.id, conversationId);
      await standby.filter({ hasText: "it is Cleo's now" }).waitFor();
      await item.locator('.item-meta').filter({ hasText: "Cleo's now" }).waitFor();

      // Cleo resolves it: said too.
      await h.sb.router.resolve(cleo.id, conversationId);
      await standby.filter({ hasText: 'resolved' }).waitFor();
      expect(await reply.isVisible()).to.equal(false);

      // Another conversation opened, this one leaves the list.
      await h.sb.router.setAgentStatus(ben.id, 'away');
      await h.sb.router.setAgentStatus(cleo.id, 'away');
      const w = h.visitor();
      await once(w, 'session');
      const next = await emitAck(w, 'message', { text: 'Hello?', clientMessageId: 'c-2' });
      const other = page.locator('[data-sb="conversation-item"]').filter({ hasText: 'Hello?' });
      await other.click();
      await item.waitFor({ state: 'detached' });
      await h.sb.router.resolve(ada.id, next.conversationId as string);
    } finally {
      await page.close();
    }
  });
});
