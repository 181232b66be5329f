// The web console in a real browser: an agent writes to a customer first ("Write to a customer…"), by email to
// the outbound relay's stand-in; the new conversation is theirs and on screen, and a refusal is said by name.
import { expect } from 'chai';
import type { Agent } from '../../shared/model.js';
import { useEmailServer } from './email-server.js';

describe('e2e: writing to a customer first from the web console in Chromium', function () {
  this.timeout(120_000);

  const ctx = useEmailServer('write');
  let ada: Agent;

  before(async () => {
    ada = await ctx.sb.router.createAgent({
      name: 'Ada',
      capacity: { voice: 0, sms: 0, chat: 3, email: 3 },
      status: 'available',
    });
  });

  it('sends the mail, shows the new conversation as hers, and names what is wrong when refused', async () => {
    const page = await ctx.browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('pageerror', (err) => {
      throw err;
    });
    await page.goto(`${ctx.base}/console?token=${ctx.sb.tokens.sign('agent', ada.id)}`);
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
    const mail = await ctx.sink.next();
    expect([mail.envelope.to, mail.mail.subject]).to.deep.equal([['lee.chen@example.com'], 'Your order']);
    // On screen and hers: the conversation with the message, the panel closed and emptied.
    await page.locator('[data-sb="messages"]', { hasText: 'Your order shipped today.' }).waitFor();
    expect(await page.locator('#conv-title').textContent()).to.contain('lee.chen@example.com');
    expect(await page.locator('#write-panel').isHidden()).to.equal(true);
    expect(await el('resolve').isVisible()).to.equal(true);
    await el('write').click();
    expect(await el('write-to').inputValue()).to.equal('');
    const [conversation] = await ctx.sb.store.listConversations({ ownerId: ada.id });
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
    const second = await ctx.sink.next();
    expect([second.envelope.to, second.mail.subject]).to.deep.equal([
      ['lee.chen@example.com'],
      'One more thing: the invoice is attached to your account.',
    ]);
    await page.locator('[data-sb="messages"]', { hasText: 'One more thing' }).waitFor();
    expect(await ctx.sb.store.listConversations({ ownerId: ada.id })).to.have.length(2);

    // The relay refuses the next one for good: the list flags the conversation, the message says why.
    expect(await el('undelivered').count()).to.equal(0);
    ctx.sink.refuse({ code: 550, message: 'mailbox unavailable' });
    await el('reply-input').fill('And the receipt.');
    await el('reply').click();
    await el('undelivered').waitFor();
    expect(await el('undelivered').textContent()).to.equal(' · Not delivered');
    await page
      .locator('[data-sb="delivery"][data-state="failed"]', { hasText: 'mailbox unavailable' })
      .waitFor();
    await page.close();
  });
});
