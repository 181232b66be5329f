// The team's live view as a team lead who uses a screen reader finds it, in Chromium. What a screen reader would
// say is read from the page: every node or text added inside a live region, recorded from the page's start
// (test/support/live-regions.ts). The view is read again every 2 seconds: only news is said.
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { ADMIN_TOKEN, emitAck, type Harness, startHarness } from '../server/harness.js';
import { useChromium } from '../support/chromium.js';
import { LIVE_REGION_RECORDER } from '../support/live-regions.js';

describe('e2e: the team view with a screen reader (a11y)', function () {
  this.timeout(120_000);
  const browser = useChromium();
  let h: Harness;
  beforeEach(async function () {
    // The harness clock starts on Monday 5 January 2026, 09:00 UTC: the team opens at 10:00.
    const closed = this.currentTest?.title.includes('closed');
    h = await startHarness(
      closed
        ? {
            env: {
              ROUTING_POLICY: JSON.stringify({ hours: { timeZone: 'UTC', week: { mon: '10:00-17:00' } } }),
            },
          }
        : {},
    );
  });
  afterEach(async () => {
    await h?.close();
  });

  async function teamPage(): Promise<Page> {
    const context = await browser().newContext({ viewport: { width: 1280, height: 720 } });
    await context.addInitScript({ content: LIVE_REGION_RECORDER });
    const page = await context.newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    await page.goto(`${h.url}/team#token=${ADMIN_TOKEN}`);
    return page;
  }
  const said = (page: Page) => page.evaluate(() => (window as unknown as { __said: string[] }).__said);
  /** Until the view was read again `times` more times (its "Updated" time moved on). */
  async function readsAgain(page: Page, times: number): Promise<void> {
    for (let i = 0; i < times; i++) {
      const was = await page.locator('[data-sb="updated"]').textContent();
      await page.waitForFunction(
        (before) => document.querySelector('[data-sb="updated"]')?.textContent !== before,
        was,
        { timeout: 10_000 },
      );
    }
  }

  it('says nothing on a reading of the view that brought no news (not "Updated …" every 2 seconds)', async () => {
    await h.createAgent('Ada', { capacity: { chat: 1 } });
    const visitor = h.visitor();
    expect((await emitAck(visitor, 'message', { text: 'Hello', clientMessageId: 'm-1' })).ok).to.equal(true);
    const page = await teamPage();
    await page.locator('[data-sb="agent-row"]').first().waitFor();
    await readsAgain(page, 2);
    expect(await said(page)).to.deep.equal([]);
    // The time of the last reading is still there to read.
    expect(await page.locator('[data-sb="updated"]').textContent()).to.match(/^Updated /);
  });

  it('says once that the team is closed, not its countdown at every reading', async () => {
    const page = await teamPage();
    await page.locator('[data-sb="hours-opens"]').filter({ hasText: 'opens in 1h 00m' }).waitFor();
    h.clock.advance(30 * 60_000);
    await page.locator('[data-sb="hours-opens"]').filter({ hasText: 'opens in 30m 00s' }).waitFor();
    h.clock.advance(1000);
    await page.locator('[data-sb="hours-opens"]').filter({ hasText: 'opens in 29m 59s' }).waitFor();
    expect(await said(page)).to.deep.equal(['hours: Closed now']);
    expect(await page.locator('.hours').textContent()).to.equal('Closed now · opens in 29m 59s');
  });
});
