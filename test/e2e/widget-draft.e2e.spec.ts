// The chat widget in a real browser: what a visitor is typing survives a reload of the page, and goes once sent.
import { expect } from 'chai';
import { useHarness } from '../server/harness.js';
import { useChromium } from '../support/chromium.js';
import { until } from '../support/cluster.js';

describe('e2e: the chat widget keeps what the visitor types across a reload, in Chromium', function () {
  this.timeout(120_000);
  const sb = useHarness();
  const browser = useChromium();

  it('a reload keeps the text being typed; once sent, the box is empty after a reload', async () => {
    const h = sb();
    const { agent: ada } = await h.createAgent('Ada', { capacity: { chat: 1 } });
    const page = await browser().newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    try {
      await page.goto(`${h.url}/`);
      const widget = (name: string) => page.locator(`#switchboard-widget [data-sb="${name}"]`);
      await widget('launcher').click();
      await widget('input').fill('My reference is SE556677 and');
      await page.reload();
      // Open again (it stays open across the reload), with the text as it was.
      await widget('input').waitFor();
      expect(await widget('input').inputValue()).to.equal('My reference is SE556677 and');
      await widget('input').fill('My reference is SE556677');
      await widget('send').click();
      await page
        .locator('#switchboard-widget [data-sb="message"]:not(.q)', { hasText: 'SE556677' })
        .waitFor();
      await page.reload();
      await widget('input').waitFor();
      await page.locator('#switchboard-widget [data-sb="message"]', { hasText: 'SE556677' }).waitFor();
      expect(await widget('input').inputValue()).to.equal('');
      const [conversation] = await h.store.listConversations({});
      // Shown once stored; Ada's once routed, which may come a moment later.
      await until(
        async () => (await h.store.getConversation(conversation!.id))?.ownerId === ada.id,
        'Ada to own the conversation',
      );
      await h.sb.router.resolve(ada.id, conversation!.id);
    } finally {
      await page.close();
    }
  });
});
