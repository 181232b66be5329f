// The chat widget's envelope in a real browser: once there is a conversation and email is on, the visitor asks
// for it by email; without an address on file they are asked for one first, then it goes.
import { expect } from 'chai';
import { pino } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { createSwitchboard, type Switchboard } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { INBOUND_TOKEN, type Sink, SUPPORT, startSink } from '../channels/email-harness.js';
import { launchChromium } from '../support/chromium.js';

describe('e2e: the conversation by email from the widget in Chromium', function () {
  this.timeout(120_000);

  let sb: Switchboard;
  let sink: Sink;
  let base: string;
  let browser: Browser;

  before(async () => {
    sink = await startSink();
    const config = loadConfig({
      ADMIN_TOKEN: 'e2e-transcript-admin-token-0123456789',
      TOKEN_SECRET: 'e2e-transcript-token-secret-0123456789-0123456789',
      DEMO_AGENTS: 'off',
      EMAIL_INBOUND_TOKEN: INBOUND_TOKEN,
      EMAIL_FROM: SUPPORT,
      SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    });
    sb = createSwitchboard({ config, logger: pino({ level: 'silent' }) });
    const port = await sb.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await sb?.close();
    await sink?.close();
  });

  const widget = (page: Page, name: string) => page.locator(`#switchboard-widget [data-sb="${name}"]`);

  it('asks for an address when none is on file, then sends the chat there and says so', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    page.on('pageerror', (err) => {
      throw err;
    });
    await page.goto(`${base}/`);
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

    await envelope.click();
    await widget(page, 'error').filter({ hasText: 'Give us your email address below' }).waitFor();
    await widget(page, 'prechat').getByLabel('Email').fill('pat@example.com');
    await widget(page, 'prechat').getByRole('button', { name: 'Continue' }).click();
    await widget(page, 'prechat').waitFor({ state: 'hidden' });
    await envelope.click();
    await widget(page, 'notice').filter({ hasText: 'We sent this chat to pat@example.com.' }).waitFor();
    await widget(page, 'panel').screenshot({ path: 'test-results/widget-transcript.png' });

    await sb.router.tick();
    await sb.email!.outbound.idle();
    const { envelope: to, mail } = await sink.next();
    expect(to.to).to.deep.equal(['pat@example.com']);
    expect(mail.text).to.contain('Where is my order 1234?');
    await page.close();
  });
});
