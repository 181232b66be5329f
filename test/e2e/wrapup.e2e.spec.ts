// The web console in a real browser after a call ends (as Twilio ends it): the owner sees "After-call work: 0:30
// left" counting down by the page's clock, More time gives the full time again from now, and Done resolves.
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import type { Agent } from '../../shared/model.js';
import {
  callStatus,
  dialResult,
  incomingCall,
  localPath,
  newCall,
  SECOND,
  type TwilioHarness,
  useTwilioHarness,
} from '../channels/twilio-harness.js';
import { useChromium } from '../support/chromium.js';
import { only, queryOf } from '../support/twiml.js';

describe('e2e: after-call work in the web console, in Chromium', function () {
  this.timeout(120_000);
  // A short after-call work time: the page's clock is moved on less than its socket's ping allows (45 s), so the
  // socket stays as it is.
  const h = useTwilioHarness({
    env: {
      ROUTING_POLICY: JSON.stringify({ consoleAwaySeconds: 0, wrapUpSeconds: 30, wrapUpMaxSeconds: 120 }),
    },
  });
  const browser = useChromium();

  async function consoleOf(x: TwilioHarness, agent: Agent): Promise<Page> {
    const page = await browser().newPage({ viewport: { width: 1200, height: 900 } });
    page.on('pageerror', (err) => {
      throw err;
    });
    // The page's clock starts at the server's and runs when the test says, as the server's does.
    await page.clock.install({ time: x.clock.now() });
    await page.goto(`${x.local}/console?token=${x.sb.tokens.sign('agent', agent.id)}`);
    await page
      .locator('#conn')
      .filter({ hasText: /^Connected/ })
      .waitFor();
    // From here the page's time stands still but when the test moves it, in step with the server's.
    x.clock.advance(SECOND);
    await page.clock.pauseAt(x.clock.now());
    return page;
  }
  const el = (page: Page, name: string) => page.locator(`[data-sb="${name}"]`);

  /**
   * Until the after-call work line reads `text` (asked from here: the page's own polling waits on its clock, which
   * stands still).
   */
  async function shows(page: Page, text: string | null): Promise<void> {
    const until = Date.now() + 10_000;
    let seen: string | null = null;
    while (Date.now() < until) {
      seen = (await el(page, 'wrapup').isVisible()) ? await el(page, 'wrapup-left').textContent() : null;
      if (seen === text) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(seen).to.equal(text);
  }

  /** Both clocks on by `ms`. */
  async function later(x: TwilioHarness, page: Page, ms: number): Promise<void> {
    x.clock.advance(ms);
    await x.sb.router.tick();
    await page.clock.runFor(ms);
  }

  it('counts down after the call, More time gives the full time again, Done resolves', async () => {
    const x = h();
    const ana = await x.agent('Ana', { clientIdentity: 'ana', capacity: { voice: 1 } });
    const page = await consoleOf(x, ana);

    const call = newCall('+14155550123');
    const dial = only(await x.twiml('/twilio/voice', incomingCall(call)), 'Dial');
    const conversationId = queryOf(dial.attrs.action).conversation!;
    await el(page, 'offer-accept').click();
    await page.locator('#conv-title', { hasText: '+14155550123' }).waitFor();
    expect(await el(page, 'wrapup').isHidden()).to.equal(true);

    // The call ends.
    await x.twiml(localPath(dial.attrs.action), dialResult(call, 'completed'));
    await x.twiml('/twilio/voice/status', callStatus(call, 'completed'));
    await shows(page, 'After-call work: 0:30 left');
    // Said once to a screen reader as it begins.
    expect(await page.locator('#announce').textContent()).to.match(
      /The call with \+14155550123 ended: after-call work until \d{1,2}:\d{2}/,
    );

    await later(x, page, 10 * SECOND);
    await shows(page, 'After-call work: 0:20 left');

    await el(page, 'wrapup-more').click();
    await shows(page, 'After-call work: 0:30 left');
    await later(x, page, 25 * SECOND);
    // Past when it would have been resolved without More time: still hers.
    expect((await x.store.getConversation(conversationId))?.status).to.equal('assigned');
    await shows(page, 'After-call work: 0:05 left');

    await el(page, 'wrapup-done').click();
    await shows(page, null);
    expect((await x.store.getConversation(conversationId))?.status).to.equal('resolved');
  });

  it('the team view says who is in after-call work, and how long is left', async () => {
    const x = h();
    const ana = await x.agent('Ana', { clientIdentity: 'ana', capacity: { voice: 1 } });
    const call = newCall('+14155550124');
    const dial = only(await x.twiml('/twilio/voice', incomingCall(call)), 'Dial');
    const conversationId = queryOf(dial.attrs.action).conversation!;
    await x.sb.router.acceptOffer(ana.id, conversationId);
    await x.twiml(localPath(dial.attrs.action), dialResult(call, 'completed'));
    await x.twiml('/twilio/voice/status', callStatus(call, 'completed'));

    const page = await browser().newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    await page.goto(`${x.local}/team#token=${x.config.adminToken}`);
    const row = page.locator('tr', { has: page.getByLabel('Status of Ana', { exact: true }) });
    await row.filter({ hasText: 'after-call work, 0:30 left' }).waitFor();
    // The view is read again (each poll) once the server's clock moved on.
    x.clock.advance(12 * SECOND);
    await row.filter({ hasText: 'after-call work, 0:18 left' }).waitFor();
    await x.sb.router.resolve(ana.id, conversationId);
    x.clock.advance(2 * SECOND);
    await row.filter({ hasNotText: 'after-call work' }).waitFor();
  });
});
