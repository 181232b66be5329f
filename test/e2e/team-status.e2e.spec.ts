// The team view in a real browser: an agent's status picker changes their status only on a choice made (Enter, or
// Apply after moving through the options with the keyboard, or a pick from its list), not on each arrow key.
import { expect } from 'chai';
import { ADMIN_TOKEN, useHarness } from '../server/harness.js';
import { useChromium } from '../support/chromium.js';

describe("e2e: the team view's status picker, by keyboard, in Chromium", function () {
  this.timeout(120_000);
  const sb = useHarness();
  const browser = useChromium();

  it('arrow keys only show a status; Enter or Apply sets it, Escape puts the picker back', async () => {
    const h = sb();
    const { agent: ada } = await h.createAgent('Ada', { capacity: { chat: 1 } });
    const statuses: string[] = [];
    const stop = h.sb.router.events.subscribe((e) => {
      if (e.type === 'agent.status' && e.agentId === ada.id) statuses.push(e.status);
    });
    const page = await browser().newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    // The server reads the live view again once a second of its clock has passed: each read of the page is later.
    await page.route('**/api/live', async (route) => {
      h.clock.advance(2000);
      await route.continue();
    });
    try {
      await page.goto(`${h.url}/team#token=${ADMIN_TOKEN}`);
      const picker = page.getByLabel('Status of Ada', { exact: true });
      const apply = page.getByRole('button', { name: 'Apply the status of Ada' });
      /** `act`, and the status it sets answered (the view then reads again). */
      const sets = async (act: () => Promise<void>) => {
        const answered = page.waitForResponse(
          (r) => r.request().method() === 'PUT' && r.url().endsWith(`/api/agents/${ada.id}/status`),
        );
        await act();
        expect((await answered).status()).to.equal(200);
        await page.waitForFunction(
          () => !(document.querySelector('[aria-label="Status of Ada"]') as HTMLSelectElement).disabled,
        );
      };
      await picker.waitFor();
      expect(await picker.inputValue()).to.equal('available');
      await picker.focus();
      await page.keyboard.press('ArrowDown');
      expect(await picker.inputValue()).to.equal('away');
      await apply.waitFor();
      await page.keyboard.press('ArrowDown');
      expect(await picker.inputValue()).to.equal('offline');
      // Enter: the choice shown is made.
      await sets(() => page.keyboard.press('Enter'));
      await apply.waitFor({ state: 'hidden' });
      expect((await h.store.getAgent(ada.id))?.status).to.equal('offline');
      expect(statuses).to.deep.equal(['offline']);

      // Moved to another and left for Apply (the focus on it): the picker keeps the choice until then.
      await picker.focus();
      await page.keyboard.press('ArrowUp');
      await apply.waitFor();
      await page.keyboard.press('Tab');
      expect(await apply.evaluate((b) => b === document.activeElement)).to.equal(true);
      expect(await picker.inputValue()).to.equal('away');
      await sets(() => page.keyboard.press('Enter'));
      await apply.waitFor({ state: 'hidden' });
      expect((await h.store.getAgent(ada.id))?.status).to.equal('away');
      expect(statuses).to.deep.equal(['offline', 'away']);

      // Escape: the picker shows the status again, nothing set.
      await picker.focus();
      await page.keyboard.press('ArrowUp');
      expect(await picker.inputValue()).to.equal('available');
      await page.keyboard.press('Escape');
      expect(await picker.inputValue()).to.equal('away');
      expect(await apply.isHidden()).to.equal(true);
      // A pick from the list (as a pointer makes it) sets it at once.
      await sets(async () => {
        await picker.selectOption('available');
      });
      expect((await h.store.getAgent(ada.id))?.status).to.equal('available');
      expect(statuses).to.deep.equal(['offline', 'away', 'available']);
    } finally {
      stop();
      await page.close();
    }
  });
});

describe('e2e: the team view names the customer an agent phones, in Chromium', function () {
  this.timeout(120_000);
  const sb = useHarness();
  const browser = useChromium();

  it("says whom the agent is calling and for how long, where the status says only 'on a call to a customer'", async () => {
    const h = sb();
    const { agent: ada } = await h.createAgent('Ada', {
      capacity: { sms: 1, chat: 0, email: 0, voice: 1 },
      status: 'available',
    });
    const texter = await h.sb.router.contact({
      channel: 'sms',
      from: '+14155550123',
      text: 'Please call me about my order',
      externalId: 'SM-team-callout',
    });
    expect(texter.conversation.ownerId).to.equal(ada.id);
    await h.sb.router.callingOut(
      { agentId: ada.id, conversationId: texter.conversation.id, to: '+14155550123' },
      600,
    );
    await h.sb.router.setAgentStatus(ada.id, 'away', 'on a call to a customer');
    const page = await browser().newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    try {
      await page.goto(`${h.url}/team#token=${ADMIN_TOKEN}`);
      const row = page.locator('[data-sb=agent-row]', { hasText: 'Ada' });
      await row.filter({ hasText: 'on a call to +14155550123, 0s' }).waitFor();
      h.clock.advance(95_000);
      await page.reload();
      await row.filter({ hasText: 'on a call to +14155550123, 1m 35s' }).waitFor();
      expect(await row.textContent()).to.not.contain('on a call to a customer');
    } finally {
      await page.close();
    }
  });
});
