// The web console in a real browser: an agent writes to a customer first ("Write to a customer…"), by email to
// the outbound relay's stand-in; the new conversation is theirs and on screen, and a refusal is said by name.
import { expect } from 'chai';
import { pino } from 'pino';
import type { Browser } from 'playwright-core';
import { createSwitchboard, type Switchboard } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import type { Agent } from '../../shared/model.js';
import { INBOUND_TOKEN, type Sink, SUPPORT, startSink } from '../channels/email-harness.js';
import { launchChromium } from '../support/chromium.js';

describe('e2e: writing to a customer first from the web console in Chromium', function () {
  this.timeout(120_000);

  let sb: Switchboard;
  let sink: Sink;
  let base: string;
  let browser: Browser;
  let ada: Agent;

  before(async () => {
    sink = await startSink();
    const config = loadConfig({
      ADMIN_TOKEN: 'e2e-write-admin-token-0123456789',
      TOKEN_SECRET: 'e2e-write-token-secret-0123456789-0123456789',
      DEMO_AGENTS: 'off',
      EMAIL_INBOUND_TOKEN: INBOUND_TOKEN,
      EMAIL_FROM: SUPPORT,
      SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    });
    sb = createSwitchboard({ config, logger: pino({ level: 'silent' }) });
    const port = await sb.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
    ada = await sb.router.createAgent({
      name: 'Ada',
      capacity: { voice: 0, sms: 0, chat: 3, email: 3 },
      status: 'available',
    });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await sb?.close();
    await sink?.close();
  });

  it('sends the mail, shows the new conversation as hers, and names what is wrong when refused', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('pageerror', (err) => {
      throw err;
    });
    await page.goto(`${base}/console?token=${sb.tokens.sign('agent', ada.id)}`);
    const el = (name: string) => page.locator(`[data-sb="${name}"]`);
    await el('write').click();
    // Email is on here and texts are not: the only way offered; a subject for it.
    expect(await el('write-channel').locator('option').allTextContents()).to.deep.equal(['Email']);
    expect(await el('write-subject').isVisible()).to.equal(true);
    expect(await el('write-to-label').textContent()).to.equal('To (email address)');

    await el('write-to').fill('lee');
    await el('write-text').fill('Hello');
    await el('write-send').click();
    await page.locator('[data-sb="error"]').waitFor();
    expect(await page.locator('#error-text').textContent()).to.contain('"lee" is not an email address');
    expect(await page.evaluate(() => document.activeElement?.id)).to.equal('write-to');

    await el('write-to').fill('lee.chen@example.com');
    await el('write-subject').fill('Your order');
    await el('write-text').fill('Your order shipped today.');
    await el('write-send').click();
    const mail = await sink.next();
    expect([mail.envelope.to, mail.mail.subject]).to.deep.equal([['lee.chen@example.com'], 'Your order']);
    // On screen and hers: the conversation with the message, the panel closed and emptied.
    await page.locator('[data-sb="messages"]', { hasText: 'Your order shipped today.' }).waitFor();
    expect(await page.locator('#conv-title').textContent()).to.contain('lee.chen@example.com');
    expect(await page.locator('#write-panel').isHidden()).to.equal(true);
    expect(await el('resolve').isVisible()).to.equal(true);
    await el('write').click();
    expect(await el('write-to').inputValue()).to.equal('');
    const [conversation] = await sb.store.listConversations({ ownerId: ada.id });
    expect(conversation?.ownership.map((m) => m.reason)).to.deep.equal(['outbound']);
    await el('write').click();

    // Resolved, the customer card offers to write to them again: the form comes ready, to their address.
    expect(await el('write-again').count()).to.equal(0);
    await el('resolve').click();
    await el('write-again').waitFor();
    expect(await el('write-again').textContent()).to.equal('Email them');
    await el('write-again').click();
    expect(await page.locator('#write-panel').isVisible()).to.equal(true);
    expect([await el('write-channel').inputValue(), await el('write-to').inputValue()]).to.deep.equal([
      'email',
      'lee.chen@example.com',
    ]);
    expect(await page.evaluate(() => document.activeElement?.id)).to.equal('write-text');
    await el('write-text').fill('One more thing: the invoice is attached to your account.');
    await el('write-send').click();
    const second = await sink.next();
    expect([second.envelope.to, second.mail.subject]).to.deep.equal([
      ['lee.chen@example.com'],
      'One more thing: the invoice is attached to your account.',
    ]);
    await page.locator('[data-sb="messages"]', { hasText: 'One more thing' }).waitFor();
    expect(await sb.store.listConversations({ ownerId: ada.id })).to.have.length(2);
    await page.close();
  });
});
