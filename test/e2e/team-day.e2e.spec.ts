// The team's live view on a busy day, in Chromium: an agent's load counts only the channels this deployment
// takes (calls, texts and email off here), and the waiting list is in the order the customers will be served.
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { ADMIN_TOKEN, emitAck, type Harness, once, SECOND, startHarness } from '../server/harness.js';
import { launchChromium } from '../support/chromium.js';

describe('e2e: the team view on a busy day', function () {
  this.timeout(120_000);
  let h: Harness;
  let browser: Browser;
  let page: Page | null = null;
  before(async () => {
    browser = await launchChromium();
  });
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await page?.context().close();
    page = null;
    await h?.close();
  });
  after(async () => {
    await browser?.close();
  });

  async function teamPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await context.newPage();
    p.on('pageerror', (err) => {
      throw err;
    });
    await p.goto(`${h.url}/team#token=${ADMIN_TOKEN}`);
    await p.locator('[data-sb="agent-row"]').first().waitFor();
    page = p;
    return p;
  }

  it('marks an agent full on the channels taken here, whatever their capacity on those switched off', async () => {
    await h.createAgent('Ada', { capacity: { voice: 1, sms: 2, chat: 2, email: 3 } });
    for (const n of [1, 2]) {
      const v = h.visitor();
      await once(v, 'session');
      expect((await emitAck(v, 'message', { text: `hello ${n}`, clientMessageId: `m-${n}` })).ok).to.equal(
        true,
      );
    }
    const p = await teamPage();
    const cells = p.locator('[data-sb="agent-row"]').first().locator('td');
    // Agent, Status, Voice, SMS, Chat, Email, Holds.
    expect(await cells.nth(2).textContent()).to.equal('off');
    expect(await cells.nth(3).textContent()).to.equal('off');
    expect(await cells.nth(4).textContent()).to.equal('2 / 2');
    expect(await cells.nth(5).textContent()).to.equal('off');
    expect(await cells.nth(6).textContent()).to.equal('2 of 2');
    expect(await cells.nth(6).getAttribute('class')).to.contain('full');
  });

  it('lists the waiting in serving order, and says so', async () => {
    await h.createAgent('Ada', { capacity: { sms: 1 }, status: 'away' });
    await h.sb.router.contact({ channel: 'sms', from: '+14155550101', text: 'hi', externalId: 'sms-1' });
    h.clock.advance(30 * SECOND);
    await h.sb.router.contact({
      channel: 'sms',
      from: '+14155550102',
      text: 'urgent',
      externalId: 'sms-2',
      priority: 1,
    });
    h.clock.advance(SECOND);
    const p = await teamPage();
    await p.locator('[data-sb="waiting-row"]').nth(1).waitFor();
    const first = await p.locator('[data-sb="waiting-row"] td:first-child').allTextContents();
    expect(first).to.deep.equal(['+14155550102', '+14155550101']);
    expect(await p.locator('[data-sb="waiting-order"]').textContent()).to.contain(
      'In the order they will be served',
    );
  });

  it('shows a place kept for a hand-off, and an offer the server refuses stays said, by name, past the next read', async () => {
    const ada = await h.createAgent('Ada', { capacity: { chat: 1 } });
    const v = h.visitor();
    await once(v, 'session');
    const sent = await emitAck(v, 'message', { text: 'hello', clientMessageId: 'm-1' });
    const grace = await h.createAgent('Grace', { capacity: { chat: 1 } });
    const w = h.visitor();
    await once(w, 'session');
    await emitAck(w, 'message', { text: 'hi', clientMessageId: 'w-1' });
    const cleo = await h.createAgent('Cleo', { capacity: { chat: 1 } });
    await h.sb.router.handoff(ada.agent.id, sent.conversationId as string, grace.agent.id, 'billing');

    const p = await teamPage();
    const graceRow = p.locator('[data-sb="agent-row"]', { hasText: 'Grace' });
    // Agent, Status, Voice, SMS, Chat.
    await graceRow.locator('td').nth(4).filter({ hasText: '1 / 1 (1 kept for a hand-off)' }).waitFor();

    // Grace's own conversation, offered to Cleo, who goes offline while the lead chooses her: the server
    // refuses, and the words stay.
    await p.getByRole('button', { name: 'What Grace is on' }).click();
    await p.locator('[data-sb="held-handoff"]').first().click();
    await p.locator('[data-sb="handoff-to"]').selectOption(cleo.agent.id);
    await h.sb.router.setAgentStatus(cleo.agent.id, 'offline');
    await p.locator('[data-sb="handoff-note"]').fill('over to you');
    await p.locator('[data-sb="handoff-send"]').click();
    const error = p.locator('#error-text');
    await error.filter({ hasText: 'Could not offer the hand-off' }).waitFor();
    expect(await error.textContent()).to.contain('Cleo is offline');
    await p.waitForResponse((r) => r.url().endsWith('/api/live') && r.ok());
    await p.waitForResponse((r) => r.url().endsWith('/api/live') && r.ok());
    expect(await p.locator('[data-sb="error"]').isVisible()).to.equal(true);
  });
});
