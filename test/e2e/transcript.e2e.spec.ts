// The chat widget in a real browser, on a server of its own: a page view alone connects nothing and stores no
// visitor; and its envelope: once there is a conversation and email is on, the visitor asks for it by email
// (without an address on file they are asked for one first, then it goes).
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { useEmailServer } from './email-server.js';

describe('e2e: the conversation by email from the widget in Chromium', function () {
  this.timeout(120_000);

  const ctx = useEmailServer('transcript');

  const widget = (page: Page, name: string) => page.locator(`#switchboard-widget [data-sb="${name}"]`);

  it('a page view alone connects nothing; opening the chat does, and a returning visitor connects at once', async () => {
    const chat = ctx.sb.io.of('/chat');
    const context = await ctx.browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    await page.goto(`${ctx.base}/`, { waitUntil: 'load' });
    await widget(page, 'launcher').waitFor();
    // Loaded, and the socket.io client was not even fetched: the widget starts none.
    expect(await page.evaluate(() => document.querySelector('script[src*="socket.io"]') === null)).to.equal(
      true,
    );
    expect(chat.sockets.size).to.equal(0);
    expect(await page.evaluate(() => localStorage.getItem('switchboard.visitorToken'))).to.equal(null);

    await widget(page, 'launcher').click();
    await page.waitForFunction(() => localStorage.getItem('switchboard.visitorToken') !== null);
    expect(chat.sockets.size).to.equal(1);
    // Closed and loaded again: a returning visitor connects at once (their replies come back to them).
    const before = new Set(chat.sockets.keys());
    await widget(page, 'launcher').click();
    await page.reload();
    await widget(page, 'launcher').waitFor();
    // Until the page's new connection reaches the server (at most 5 s; the old one may linger until its ping
    // times out, when the reload caught it between transports).
    const fresh = () => [...chat.sockets.keys()].some((id) => !before.has(id));
    for (let i = 0; i < 250 && !fresh(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(fresh()).to.equal(true);
    expect(await widget(page, 'panel').isVisible()).to.equal(false);
    await context.close();
  });

  it('asks for an address when none is on file, then sends the chat there and says so', async () => {
    const page = await ctx.browser.newPage({ viewport: { width: 1000, height: 800 } });
    page.on('pageerror', (err) => {
      throw err;
    });
    await page.goto(`${ctx.base}/`);
    await widget(page, 'launcher').click();
    const envelope = page.getByRole('button', { name: 'Email me this chat' });
    // Nothing to send yet.
    expect(await envelope.isVisible()).to.equal(false);
    // The visitor skips the questions and writes.
    const skip = widget(page, 'prechat').getByRole('button', { name: 'Skip' });
    if (await skip.isVisible()) await skip.click();
    await widget(page, 'input').fill('Where is my order 1234?');
    await widget(page, 'send').click();
    await envelope.waitFor();
    // No address on file: asked for one.
    await envelope.click();
    await widget(page, 'error').filter({ hasText: 'Give us your email address below' }).waitFor();
    await widget(page, 'prechat').getByLabel('Email').fill('pat@example.com');
    await widget(page, 'prechat').getByRole('button', { name: 'Continue' }).click();
    await widget(page, 'prechat').waitFor({ state: 'hidden' });
    // Before a person answered, nothing goes (the address a visitor types is not verified).
    await envelope.click();
    await widget(page, 'error').filter({ hasText: 'once a person has answered' }).waitFor();
    const ada = await ctx.sb.router.createAgent({ name: 'Ada', status: 'available' });
    const [conversation] = await ctx.sb.store.listConversations({ status: 'assigned' });
    await ctx.sb.router.reply(ada.id, conversation!.id, 'It left our warehouse this morning.');
    await widget(page, 'messages').getByText('It left our warehouse').waitFor();
    await envelope.click();
    await widget(page, 'notice').filter({ hasText: 'We sent this chat to pat@example.com.' }).waitFor();
    await widget(page, 'panel').screenshot({ path: 'test-results/widget-transcript.png' });

    await ctx.sb.router.tick();
    await ctx.sb.email!.outbound.idle();
    const { envelope: to, mail } = await ctx.sink.next();
    expect(to.to).to.deep.equal(['pat@example.com']);
    expect(mail.text).to.contain('Where is my order 1234?');
    expect(mail.text).to.contain('Ada, ');
    await page.close();
  });
});
