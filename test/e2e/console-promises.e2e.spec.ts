// The web console in a real browser: an agent's own promise. Its reminder stays in sight until it is dealt with
// (Mark kept in it, or dismissed), and a promise that broke (its due time passed, not marked kept) says so where
// the conversation's promises are listed, also after a reload, and in a notice that stays until dismissed.
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { emitAck, type Harness, once, useHarness } from '../server/harness.js';
import { useChromium } from '../support/chromium.js';

const MINUTE = 60_000;

describe("e2e: an agent's own promises in the web console, in Chromium", function () {
  this.timeout(120_000);
  const sb = useHarness();
  const browser = useChromium();

  async function consolePage(h: Harness, token: string): Promise<Page> {
    const page = await browser().newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    // The page's clock starts at the server's, and its timers run when the test says (a notice that goes after a
    // few seconds is seen to go).
    await page.clock.install({ time: h.clock.now() });
    await page.goto(`${h.url}/console?token=${encodeURIComponent(token)}`);
    await page
      .locator('#conn')
      .filter({ hasText: /^Connected/ })
      .waitFor();
    return page;
  }
  const el = (page: Page, name: string) => page.locator(`[data-sb="${name}"]`);

  /** A chat visitor writes; Ada owns their conversation. */
  async function visitorWrites(h: Harness): Promise<string> {
    const v = h.visitor();
    await once(v, 'session');
    await emitAck(v, 'identify', { name: 'Mary Major' });
    const ack = await emitAck(v, 'message', { text: 'Where is my refund?', clientMessageId: 'c-1' });
    return ack.conversationId as string;
  }

  it('the reminder stays until dealt with; a broken promise shows as broken, after a reload too', async () => {
    const h = sb();
    const { agent: ada, token } = await h.createAgent('Ada', { capacity: { chat: 2 } });
    const conversationId = await visitorWrites(h);
    const page = await consolePage(h, token);
    await el(page, 'conversation-item').first().click();
    // Two promises, made in the console: one due in an hour (the form's default), one in an hour and a half.
    const promise = async (text: string, dueAt?: number) => {
      await el(page, 'promise').click();
      if (dueAt !== undefined) {
        const local = await page.evaluate(
          (ms) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16),
          dueAt,
        );
        await el(page, 'promise-due').fill(local);
      }
      await el(page, 'promise-text').fill(text);
      await el(page, 'promise-send').click();
      await el(page, 'open-promise').filter({ hasText: text }).waitFor();
      const [made] = (await h.store.listPromises(conversationId)).filter((p) => p.text === text);
      return made!;
    };
    const kept = await promise('Call the bank');
    const broken = await promise('Send the form', h.clock.now() + 90 * MINUTE);

    // 15 minutes before the first is due: its reminder, which stays (the short notices go after 6 seconds).
    h.clock.advance(46 * MINUTE);
    await h.sb.router.tick();
    const reminder = el(page, 'invite-banner').filter({ hasText: 'Call the bank' });
    await reminder.waitFor();
    expect(await reminder.getAttribute('data-kind')).to.equal('promise');
    await page.clock.runFor(10_000);
    expect(await reminder.isVisible()).to.equal(true);
    expect(await page.title()).to.match(/^\(1\) /);
    // Marked kept from the reminder: it goes, and the promise is kept.
    await reminder.locator('[data-sb="reminder-keep"]').click();
    await reminder.waitFor({ state: 'detached' });
    expect((await h.store.getPromise(kept.id))!.state).to.equal('kept');

    // The second one's reminder, then its due time passes unmarked: broken, said in the reminder's place.
    h.clock.advance(30 * MINUTE);
    await h.sb.router.tick();
    const second = el(page, 'invite-banner').filter({ hasText: 'Send the form' });
    await second.locator('[data-sb="reminder-keep"]').waitFor();
    h.clock.advance(15 * MINUTE);
    await h.sb.router.tick();
    expect((await h.store.getPromise(broken.id))!.state).to.equal('broken');
    await second.filter({ hasText: 'broke' }).waitFor();
    expect(await second.locator('[data-sb="reminder-keep"]').count()).to.equal(0);
    await page.clock.runFor(10_000);
    expect(await second.isVisible()).to.equal(true);
    // Where the promises are listed: shown as broken, not gone.
    const listed = el(page, 'broken-promise').filter({ hasText: 'Send the form' });
    await listed.waitFor();
    expect(await listed.textContent()).to.match(/^Broken/);
    await second.getByRole('button', { name: 'Dismiss' }).click();
    await second.waitFor({ state: 'detached' });
    expect(await listed.isVisible()).to.equal(true);

    // After a reload, the list still shows it broken.
    await page.reload();
    await el(page, 'conversation-item').first().click();
    await el(page, 'broken-promise').filter({ hasText: 'Send the form' }).waitFor();
    expect(await el(page, 'open-promise').count()).to.equal(0);
    await h.sb.router.resolve(ada.id, conversationId);
    await page.close();
  });

  it('a promise made or kept elsewhere (Slack) shows at once in the consoles of the owner and a consultant', async () => {
    const h = sb();
    const { agent: ada, token } = await h.createAgent('Ada', { capacity: { chat: 2 } });
    const { agent: grace, token: graceToken } = await h.createAgent('Grace', { capacity: { chat: 0 } });
    const conversationId = await visitorWrites(h);
    await h.sb.router.consult(ada.id, conversationId, grace.id);
    await h.sb.router.joinConsult(grace.id, conversationId);
    const pages = [await consolePage(h, token), await consolePage(h, graceToken)];
    for (const page of pages) {
      await el(page, 'conversation-item').first().click();
      await el(page, 'open-promise').first().waitFor({ state: 'detached' });
    }
    // Ada promises in Slack (what its console calls): both consoles list it, no reload.
    const made = await h.sb.router.promise(
      ada.id,
      conversationId,
      h.clock.now() + 2 * 60 * MINUTE,
      'Call the bank',
    );
    for (const page of pages) await el(page, 'open-promise').filter({ hasText: 'Call the bank' }).waitFor();
    // Ada's console offers to mark it kept (hers); Grace's does not.
    expect(await el(pages[0]!, 'promise-keep').count()).to.equal(1);
    expect(await el(pages[1]!, 'promise-keep').count()).to.equal(0);
    // Marked kept in Slack: gone from both lists.
    await h.sb.router.keepPromise(ada.id, made.id);
    for (const page of pages)
      await el(page, 'open-promise').filter({ hasText: 'Call the bank' }).waitFor({ state: 'detached' });
    await h.sb.router.resolve(ada.id, conversationId);
    for (const page of pages) await page.close();
  });
});
