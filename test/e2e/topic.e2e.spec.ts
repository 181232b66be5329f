// The chat widget embedded on another site's page in a real browser, with `data-topic` on its script tag: the
// chat it starts needs what the policy's entry point for that topic says (a billing page reaches billing).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { useHarness } from '../server/harness.js';
import { launchChromium } from '../support/chromium.js';

describe('e2e: the chat widget with a topic, on another site, in Chromium', function () {
  this.timeout(120_000);
  const entryPoints = [{ channel: 'chat', topic: 'billing', skills: { billing: 1 }, priority: 2 }];
  const sb = useHarness({ env: { ROUTING_POLICY: JSON.stringify({ entryPoints }) } });
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  it("a chat started on the shop's billing page needs billing, and reaches the agent who has it", async () => {
    const h = sb();
    const { agent: bea } = await h.createAgent('Bea', { skills: { billing: 2 }, capacity: { chat: 2 } });
    const page = await browser.newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    // The shop's page, served by a server of its own (another origin); the widget comes from Switchboard.
    const shop = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(
        `<!doctype html><title>Billing</title><h1>Your invoices</h1><script src="${h.url}/widget.js" data-topic="billing" async></script>`,
      );
    });
    await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
    try {
      await page.goto(`http://127.0.0.1:${(shop.address() as AddressInfo).port}/billing`);
      const widget = (name: string) => page.locator(`#switchboard-widget [data-sb="${name}"]`);
      await widget('launcher').click();
      await widget('input').fill('My invoice is wrong');
      await widget('send').click();
      await page
        .locator('#switchboard-widget [data-sb="message"]:not(.q)', { hasText: 'My invoice is wrong' })
        .waitFor();
      const [conv] = await h.sb.store.listConversations({});
      expect([conv?.skills, conv?.priority, conv?.ownerId]).to.deep.equal([{ billing: 1 }, 2, bea.id]);
    } finally {
      await page.close();
      shop.close();
    }
  });
});
