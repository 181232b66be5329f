// The team's live view (/team) in a real browser: a supervisor signs in with the admin token (from the
// link's #fragment, which then leaves the address bar), sees who waits, for whom, and what they were told,
// and every agent; sets an agent available from it, and the wait ends on the page. Headless Chromium from
// Debian's package, driven by playwright-core.
import { mkdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { pino } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import { createSwitchboard, type Switchboard } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { ManualClock } from '../../shared/clock.js';
import type { Agent } from '../../shared/model.js';
import { launchChromium } from '../support/chromium.js';

const ADMIN = 'e2e-team-admin-token-0123456789';
const SHOTS = 'test-results';

describe('e2e: the team view in Chromium', function () {
  this.timeout(120_000);

  let sb: Switchboard;
  let base: string;
  let browser: Browser;
  let ada: Agent;
  let grace: Agent;
  const sockets: Socket[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const config = loadConfig({
      ADMIN_TOKEN: ADMIN,
      TOKEN_SECRET: 'e2e-team-token-secret-0123456789-0123456789',
      DEMO_AGENTS: 'off',
    });
    sb = createSwitchboard({ config, logger: pino({ level: 'silent' }) });
    const port = await sb.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
    const chatOnly = { voice: 0, sms: 0, chat: 1, email: 0 };
    ada = await sb.router.createAgent({ name: 'Ada', capacity: chatOnly, status: 'available' });
    grace = await sb.router.createAgent({ name: 'Grace', capacity: chatOnly, status: 'away' });
    browser = await launchChromium();
  });

  after(async () => {
    for (const s of sockets) s.disconnect();
    await browser?.close();
    await sb?.close();
  });

  /** A chat visitor writes (through the real /chat namespace); resolves with their conversation. */
  async function visitorWrites(text: string, name?: string, email?: string): Promise<string> {
    const socket = io(`${base}/chat`, { transports: ['websocket'], forceNew: true, reconnection: false });
    sockets.push(socket);
    await new Promise((resolve) => socket.once('session', resolve));
    if (name) await socket.emitWithAck('identify', { name, ...(email ? { email } : {}) });
    const ack = await socket.emitWithAck('message', { text, clientMessageId: `${text}-1` });
    expect(ack.ok).to.equal(true);
    return ack.conversationId;
  }

  async function newPage(): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    page.on('pageerror', (err) => {
      throw err;
    });
    return page;
  }

  const el = (page: Page, name: string) => page.locator(`[data-sb="${name}"]`);

  it('shows who waits and the team, and a status set there ends the wait', async () => {
    const first = await visitorWrites('Where is my parcel?', 'Mia Jones');
    const second = await visitorWrites('Can I change my order?');
    expect((await sb.store.getConversation(first))!.ownerId).to.equal(ada.id);
    expect((await sb.store.getConversation(second))!.status).to.equal('queued');

    const page = await newPage();
    await page.goto(`${base}/team#token=${ADMIN}`);
    await el(page, 'waiting-row').first().waitFor();
    // The token left the address bar (and was never sent to the server: it is a fragment).
    expect(page.url()).to.equal(`${base}/team`);

    const row = el(page, 'waiting-row');
    expect(await row.count()).to.equal(1);
    const cells = await row.locator('td').allTextContents();
    expect(cells[0]).to.equal(
      `Website visitor ${(await sb.store.getConversation(second))!.customerId.slice(-4)}`,
    );
    expect(cells[1]).to.equal('Chat');
    expect(cells[2]).to.match(/^\d+s$/);
    // Ada was busy: the customer was told a time, not yet passed.
    expect(cells[3]).to.match(/^by \d\d:\d\d.* \(in (\d+s|\d+m \d\ds|\d+h \d\dm)\)$/);
    expect(cells[4]).to.equal('anyone');
    expect(await el(page, 'channel-chat').locator('[data-sb="channel-waiting"]').textContent()).to.equal('1');
    expect(await el(page, 'channel-chat').textContent()).to.include('nobody free');
    // Calls, texts and email are not set up here: no tiles for them ("2 agents free" on a channel nobody reaches).
    for (const off of ['voice', 'sms', 'email'])
      expect(await el(page, `channel-${off}`).count(), off).to.equal(0);

    const agents = el(page, 'agent-row');
    expect(await agents.locator('td:first-child').allTextContents()).to.deep.equal(['Ada', 'Grace']);
    expect(await agents.nth(0).locator('select').inputValue()).to.equal('available');
    expect(await agents.nth(0).locator('td').nth(4).textContent()).to.equal('1 / 1');
    expect(await agents.nth(1).locator('select').inputValue()).to.equal('away');
    expect(await el(page, 'agents-count').textContent()).to.equal('1 of 2 available');
    await page.screenshot({ path: `${SHOTS}/team-waiting.png`, fullPage: true });

    // What Ada is on: Mia, who wrote last and waits for her answer.
    await page.getByRole('button', { name: 'What Ada is on' }).click();
    await el(page, 'held-row').first().waitFor();
    expect(await el(page, 'held-title').textContent()).to.equal('Ada is on');
    const held = await el(page, 'held-row').locator('td').allTextContents();
    expect(held.slice(0, 3)).to.deep.equal(['Mia Jones', 'Chat', 'owns']);
    expect(held[3]).to.match(/^\d+s$/);
    expect(held[4]).to.match(/^\d+s$/);
    await el(page, 'held-close').click();
    expect(await el(page, 'held').isVisible()).to.equal(false);

    // Grace is set available from the view: she takes the waiting customer, and the page shows nobody waiting.
    await agents.nth(1).locator('select').selectOption('available');
    await el(page, 'waiting-empty').waitFor({ state: 'visible' });
    const taken = (await sb.store.getConversation(second))!;
    expect(taken.ownerId).to.equal(grace.id);
    const graceNow = (await sb.store.getAgent(grace.id))!;
    expect(graceNow.status).to.equal('available');
    expect(graceNow.statusReason).to.equal('set from the team view');
    await page.waitForFunction(
      () => document.querySelector('[data-sb="agents-count"]')?.textContent === '2 of 2 available',
    );
    expect(await el(page, 'channel-chat').locator('[data-sb="channel-waiting"]').textContent()).to.equal('0');
    expect(await el(page, 'day').textContent()).to.match(/Time to a person: median \d+s/);

    // Mia's conversation offered to Grace in Ada's stead: the row says so, and Grace is offered the hand-off.
    await page.getByRole('button', { name: 'What Ada is on' }).click();
    await el(page, 'held-handoff').first().click();
    expect(await el(page, 'handoff-what').textContent()).to.contain(
      "Offer Ada's conversation with Mia Jones",
    );
    expect(await el(page, 'handoff-to').locator('option').allTextContents()).to.deep.equal([
      'Grace (available)',
    ]);
    await el(page, 'handoff-note').fill('Ada leaves at five; the parcel number is in the thread.');
    await el(page, 'handoff-send').click();
    await page.locator('[data-sb="held-row"] td', { hasText: 'offered to Grace' }).waitFor();
    expect(await el(page, 'handoff-form').isVisible()).to.equal(false);
    const offered = (await sb.store.getConversation(first))!;
    expect([offered.ownerId, offered.handoff?.to, offered.handoff?.note]).to.deep.equal([
      ada.id,
      grace.id,
      'Ada leaves at five; the parcel number is in the thread. (offered by the admin, team view)',
    ]);
    await el(page, 'held-close').click();

    // Signing out forgets the token in this tab; a wrong one is refused with a word.
    await page.locator('#signout').click();
    await el(page, 'signin').waitFor({ state: 'visible' });
    await page.reload();
    await el(page, 'signin').waitFor({ state: 'visible' });
    await page.locator('#signin-token').fill('not-the-admin-token');
    await page.locator('#signin button[type=submit]').click();
    await page.locator('#error-text', { hasText: 'not accepted' }).waitFor();
    expect(await el(page, 'signin').isVisible()).to.equal(true);
    expect(await page.locator('#team').isVisible()).to.equal(false);
    await page.locator('#signin-token').fill(ADMIN);
    await page.locator('#signin button[type=submit]').click();
    await el(page, 'agent-row').first().waitFor();
    await page.close();
  });

  it("shows each channel's service level and handle time, and each agent's load and day", async () => {
    // A team of its own, on a clock the test moves: the day's figures are exactly what happened.
    const clock = new ManualClock();
    const day = createSwitchboard({
      config: loadConfig({
        ADMIN_TOKEN: ADMIN,
        TOKEN_SECRET: 'e2e-team-day-secret-0123456789-0123456789',
        DEMO_AGENTS: 'off',
      }),
      logger: pino({ level: 'silent' }),
      clock,
    });
    try {
      const dayBase = `http://127.0.0.1:${await day.listen(0, '127.0.0.1')}`;
      const chatOnly = { voice: 0, sms: 0, chat: 1, email: 0 };
      const ann = await day.router.createAgent({ name: 'Ann', capacity: chatOnly, status: 'available' });
      clock.advance(1000);
      await day.router.createAgent({ name: 'Ben', capacity: chatOnly, status: 'available' });
      const chat = async (from: string) =>
        (await day.router.contact({ channel: 'chat', from, text: 'hello', externalId: `${from}-1` }))
          .conversation.id;
      const first = await chat('visitor-a');
      await chat('visitor-b');
      const third = await chat('visitor-c');
      // Ann resolves after 45 s; the visitor who waited those 45 s (past chat's 30 s) is hers next.
      clock.advance(45_000);
      await day.router.resolve(ann.id, first);
      expect((await day.store.getConversation(third))!.ownerId).to.equal(ann.id);

      const page = await newPage();
      await page.goto(`${dayBase}/team#token=${ADMIN}`);
      await el(page, 'day-channel-row').first().waitFor();
      // Two of the three chats had a person within 30 s: 67%, below the 80% aimed for, so in red.
      const service = el(page, 'channel-chat').locator('[data-sb="channel-service"]');
      expect(await service.textContent()).to.equal('67% answered within 30s (24h)');
      expect(await service.getAttribute('class')).to.equal('late');
      const color = (name: string) =>
        page
          .locator(name)
          .first()
          .evaluate((e) => getComputedStyle(e).color);
      expect(await color('[data-sb="channel-service"]')).to.not.equal(
        await color('[data-sb="channel-chat"] p'),
      );
      const rows = el(page, 'day-channel-row');
      expect(await rows.count()).to.equal(1);
      expect(await rows.locator('td').allTextContents()).to.deep.equal([
        'Chat',
        '67%',
        '2 of 3 within 30s',
        '0',
        '1',
        '45s',
      ]);
      expect(await el(page, 'day-goal').textContent()).to.contain('the team aims for 80%');
      // Both hold all they can; Ann resolved one in 45 s, Ben none yet.
      const agents = el(page, 'agent-row');
      expect(await agents.locator('td:first-child').allTextContents()).to.deep.equal(['Ann', 'Ben']);
      // Voice, SMS, Chat, Email, Holds, Idle, Resolved (24h), Average handle (24h).
      expect((await agents.nth(0).locator('td').allTextContents()).slice(2)).to.deep.equal([
        '—',
        '—',
        '1 / 1',
        '—',
        '1 of 1',
        '',
        '1',
        '45s',
      ]);
      expect((await agents.nth(1).locator('td').allTextContents()).slice(6)).to.deep.equal([
        '1 of 1',
        '',
        '0',
        '—',
      ]);
      expect(await agents.nth(0).locator('td').nth(6).getAttribute('class')).to.equal('num full');
      await page.screenshot({ path: `${SHOTS}/team-day.png`, fullPage: true });
      await page
        .locator('section[aria-labelledby="day-title"]')
        .screenshot({ path: `${SHOTS}/team-day-channels.png` });
      await page.close();
    } finally {
      await day.close();
    }
  });

  it('lists the blocked customers (who, when, by whom, why), and a block lifted there lets them write again', async () => {
    const conversationId = await visitorWrites('You people are useless', 'Max Troll');
    // Both agents are busy, so it waits; it is blocked in Ada's name.
    const { customerId } = (await sb.store.getConversation(conversationId))!;
    await sb.router.blockCustomer(customerId, ada.id, 'insults agents');

    const page = await newPage();
    await page.goto(`${base}/team#token=${ADMIN}`);
    const row = el(page, 'blocked-row');
    await row.first().waitFor();
    expect(await row.count()).to.equal(1);
    const cells = await row.locator('td').allTextContents();
    expect(cells[0]).to.equal('Max Troll');
    expect(cells[1]).to.match(/\d\d:\d\d/);
    expect(cells[2]).to.equal('Ada');
    expect(cells[3]).to.equal('insults agents');
    expect(await el(page, 'blocked-empty').isVisible()).to.equal(false);

    await row.getByRole('button', { name: 'Lift the block on Max Troll' }).click();
    await el(page, 'blocked-empty').waitFor({ state: 'visible' });
    expect(await el(page, 'blocked-row').count()).to.equal(0);
    const customer = (await sb.store.getCustomer(customerId))!;
    expect(customer.blocked).to.equal(undefined);
    expect(customer.notes.at(-1)?.text).to.equal('unblocked by the admin');
    await page.close();
  });

  it('finds a customer by an address, downloads their data, and erases them once ERASE is typed', async () => {
    const conversationId = await visitorWrites(
      'Please delete everything you have about me',
      'Rosa Diaz',
      'rosa@example.com',
    );
    const { customerId } = (await sb.store.getConversation(conversationId))!;
    const page = await newPage();
    await page.goto(`${base}/team#token=${ADMIN}`);
    await page.getByLabel('Phone, email or visitor id').fill('Rosa@Example.com');
    await page.getByRole('button', { name: 'Find', exact: true }).click();
    await el(page, 'found').waitFor({ state: 'visible' });
    expect(await el(page, 'found-who').textContent()).to.equal(
      'Rosa Diaz: the website chat, rosa@example.com; 1 conversation',
    );

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download their data' }).click(),
    ]);
    expect(download.suggestedFilename()).to.equal(`switchboard-customer-${customerId}.json`);
    const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
    expect(exported.customer.name).to.equal('Rosa Diaz');
    expect(exported.conversations[0].messages[0].text).to.equal('Please delete everything you have about me');

    await page.getByRole('button', { name: 'Erase…' }).click();
    expect(await el(page, 'erase-what').textContent()).to.contain('1 conversation with their messages');
    expect(await el(page, 'erase-what').textContent()).to.contain('(1 still open: closed first)');
    await el(page, 'found').screenshot({ path: `${SHOTS}/team-erase-confirm.png` });
    await page.getByLabel('Type ERASE to confirm').fill('erase');
    await page.getByRole('button', { name: 'Erase them' }).click();
    expect(await el(page, 'data-result').textContent()).to.equal('Type ERASE (in capitals) to confirm.');
    expect(await sb.store.getCustomer(customerId)).to.not.equal(null);
    await page.getByLabel('Type ERASE to confirm').fill('ERASE');
    await page.getByRole('button', { name: 'Erase them' }).click();
    await page.waitForFunction(() =>
      document.querySelector('[data-sb="data-result"]')?.textContent?.includes('is erased'),
    );
    expect(await el(page, 'data-result').textContent()).to.equal(
      'Rosa Diaz is erased: 1 conversation(s), 1 message(s) and 0 file(s) are no longer kept.',
    );
    expect(await sb.store.getCustomer(customerId)).to.equal(null);
    expect(await sb.store.getConversation(conversationId)).to.equal(null);

    await page.getByLabel('Phone, email or visitor id').fill('rosa@example.com');
    await page.getByRole('button', { name: 'Find', exact: true }).click();
    await page.waitForFunction(() =>
      document.querySelector('[data-sb="data-result"]')?.textContent?.startsWith('Nobody'),
    );
    expect(await el(page, 'data-result').textContent()).to.equal('Nobody wrote from rosa@example.com.');
    await page.screenshot({ path: `${SHOTS}/team-erase.png`, fullPage: true });
    await page.close();
  });

  it("a team lead opens it from their console: their name shows, and the customer data section (the admin's) does not", async () => {
    const lead = await sb.router.createAgent({
      name: 'Lena',
      capacity: { voice: 0, sms: 0, chat: 1, email: 0 },
      lead: true,
    });
    const page = await newPage();
    await page.goto(`${base}/console?token=${sb.tokens.sign('agent', lead.id)}`);
    const link = page.getByRole('link', { name: 'Team view' });
    await link.waitFor();
    await page.locator('header').screenshot({ path: `${SHOTS}/console-lead.png` });
    // An agent who is not a lead has no such link.
    const other = await newPage();
    await other.goto(`${base}/console?token=${sb.tokens.sign('agent', ada.id)}`);
    await other.locator('[data-sb="agent-name"]').filter({ hasText: 'Ada' }).waitFor();
    expect(await other.getByRole('link', { name: 'Team view' }).isVisible()).to.equal(false);
    await other.close();

    const [team] = await Promise.all([page.context().waitForEvent('page'), link.click()]);
    team.on('pageerror', (err) => {
      throw err;
    });
    await team.locator('[data-sb="viewer"]').filter({ hasText: 'Lena (team lead)' }).waitFor();
    // The token left the address bar.
    expect(team.url()).to.equal(`${base}/team`);
    expect(await team.locator('[data-sb="customer-data"]').isVisible()).to.equal(false);
    expect(await team.locator('[data-sb="agent-row"]').count()).to.be.greaterThan(1);
    // Taking someone off the team is the admin's: the lead is not offered it.
    await team.getByRole('button', { name: 'What Ada is on' }).click();
    await team.locator('[data-sb="held-title"]').filter({ hasText: 'Ada is on' }).waitFor();
    expect(await team.locator('[data-sb="leave-row"]').isVisible()).to.equal(false);
    await team.close();
    await page.close();
  });

  it('the admin takes an agent who left off the team: their conversation goes to a colleague, and they leave the list', async () => {
    const chatOnly = { voice: 0, sms: 0, chat: 1, email: 0 };
    // Ben alone takes the next chat, then Cleo alone is free for it.
    for (const id of [ada.id, grace.id]) await sb.router.setAgentStatus(id, 'away');
    const ben = await sb.router.createAgent({ name: 'Ben', capacity: chatOnly, status: 'available' });
    const conversationId = await visitorWrites('My invoice is wrong', 'Noor Haddad');
    expect((await sb.store.getConversation(conversationId))!.ownerId).to.equal(ben.id);
    const cleo = await sb.router.createAgent({ name: 'Cleo', capacity: chatOnly, status: 'available' });

    const page = await newPage();
    await page.goto(`${base}/team#token=${ADMIN}`);
    await page.getByRole('button', { name: 'What Ben is on' }).click();
    await el(page, 'held-row').filter({ hasText: 'Noor Haddad' }).waitFor();
    await el(page, 'leave').click();
    expect(await el(page, 'leave-what').textContent()).to.equal(
      'Ben leaves the team: the conversation they own goes to a colleague now, their console link stops working ' +
        'and nothing is given to them again. Their name stays in the conversations they worked on. It cannot be ' +
        'undone (create them again to bring them back).',
    );
    await el(page, 'leave-send').click();
    await el(page, 'leave-result').filter({ hasText: 'Ben has left the team.' }).waitFor();
    expect(await el(page, 'held').isVisible()).to.equal(false);
    await page.waitForFunction(
      () =>
        ![...document.querySelectorAll('[data-sb="agent-row"] td:first-child')].some(
          (td) => td.textContent === 'Ben',
        ),
    );
    const moved = (await sb.store.getConversation(conversationId))!;
    expect([moved.ownerId, moved.ownership.at(-1)?.reason]).to.deep.equal([cleo.id, 'owner_offline']);
    const gone = (await sb.store.getAgent(ben.id))!;
    expect([gone.status, typeof gone.leftAt]).to.deep.equal(['offline', 'number']);
    await page.screenshot({ path: `${SHOTS}/team-left.png`, fullPage: true });
    await page.close();
  });
});
