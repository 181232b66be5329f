// The web console through a busy day, in Chromium: a promise kept by the agent who took the conversation over,
// a customer who switches channel, hand-offs declined or made by a team lead in the owner's stead (with the
// reply being written kept), and going offline while holding conversations.
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import { emitAck, type Harness, once, startHarness } from '../server/harness.js';
import { launchChromium } from '../support/chromium.js';

describe('e2e: the web console through a busy day', function () {
  this.timeout(120_000);
  let h: Harness;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  before(async () => {
    browser = await launchChromium();
  });
  beforeEach(async () => {
    h = await startHarness({
      env: {
        EMAIL_INBOUND_TOKEN: 'day-inbound-token-0123456789',
        EMAIL_FROM: 'support@example.com',
        SMTP_URL: 'smtp://127.0.0.1:9',
      },
    });
  });
  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close().catch(() => {});
    await h?.close();
  });
  after(async () => {
    await browser?.close();
  });

  async function consolePage(token: string, name: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    await page.goto(`${h.url}/console?token=${token}`);
    await page.locator('[data-sb="agent-name"]').filter({ hasText: name }).waitFor();
    return page;
  }
  const el = (page: Page, name: string) => page.locator(`[data-sb="${name}"]`);

  /** A chat visitor who gives their name and email address writes; resolves with their conversation. */
  async function visitorWrites(name: string, email: string, text: string): Promise<string> {
    const v = h.visitor();
    await once(v, 'session');
    await emitAck(v, 'identify', { name, email });
    const ack = await emitAck(v, 'message', { text, clientMessageId: 'c-1' });
    expect(ack.ok).to.equal(true);
    return ack.conversationId as string;
  }

  /** Mary (a chat visitor who gave her email address) writes; resolves with her conversation. */
  const maryWrites = (text = 'my order is late') => visitorWrites('Mary Major', 'mary@example.com', text);

  /** An agent's console as a plain socket (another tab of theirs, or a colleague's). */
  async function agentSocket(token: string): Promise<Socket> {
    const socket = h.agentSocket(token);
    await once(socket, 'hello');
    return socket;
  }

  it('offers Mark kept to the agent who took the conversation over, for a promise its first owner made', async () => {
    const ada = await h.createAgent('Ada', { capacity: { chat: 2 } });
    const conversationId = await maryWrites();
    const adaSocket = await agentSocket(ada.token);
    const promised = await emitAck(adaSocket, 'promise', {
      conversationId,
      dueAt: h.clock.now() + 3600_000,
      text: 'I will check the parcel',
    });
    expect(promised.ok).to.equal(true);
    const grace = await h.createAgent('Grace', { capacity: { chat: 2 } });
    await emitAck(adaSocket, 'handoff', { conversationId, toAgentId: grace.agent.id, note: 'Leaving' });
    const graceSocket = await agentSocket(grace.token);
    expect(await emitAck(graceSocket, 'handoff.accept', { conversationId })).to.deep.equal({ ok: true });

    const page = await consolePage(grace.token, 'Grace');
    await el(page, 'open-promise').filter({ hasText: 'I will check the parcel' }).waitFor();
    await el(page, 'promise-keep').click();
    await page.locator('#notice').filter({ hasText: 'Marked kept.' }).waitFor();
    expect((await h.store.getPromise(promised.promise.id))!.state).to.equal('kept');
  });

  it('follows a customer who switches channel: an email joining the chat shows, and where replies go, at once', async () => {
    const ada = await h.createAgent('Ada', { capacity: { chat: 2, email: 2 } });
    await maryWrites();
    const page = await consolePage(ada.token, 'Ada');
    await page.locator('#conv-meta').filter({ hasText: 'via chat' }).waitFor();
    expect(await el(page, 'conversation-item').locator('.item-meta').textContent()).to.contain('chat · Open');
    await h.sb.router.contact({
      channel: 'email',
      from: 'mary@example.com',
      text: 'Any news? I left the site.',
      externalId: '<news-1@example.com>',
    });
    await el(page, 'message').filter({ hasText: 'Any news?' }).waitFor();
    await page.locator('#conv-meta').filter({ hasText: 'Open · via chat, email' }).waitFor();
    expect(await el(page, 'conversation-item').locator('.item-meta').textContent()).to.contain(
      'email · Open',
    );
    expect(await page.locator('#context').textContent()).to.contain(
      'This conversation: chat, email (replies go out on email)',
    );
  });

  it("says in the hand-off picker who has no room on the conversation's channel now", async () => {
    const ada = await h.createAgent('Ada', { capacity: { chat: 2 } });
    const conversationId = await maryWrites();
    // Linus's one chat place is taken; Grace has room.
    const linus = await h.createAgent('Linus', { capacity: { voice: 0, sms: 0, chat: 1, email: 0 } });
    await h.sb.router.setAgentStatus(ada.agent.id, 'away');
    const joe = h.visitor();
    await once(joe, 'session');
    await emitAck(joe, 'message', { text: 'hello', clientMessageId: 'c-1' });
    expect((await h.store.getAgent(linus.agent.id))?.load.chat).to.equal(1);
    await h.sb.router.setAgentStatus(ada.agent.id, 'available');
    await h.createAgent('Grace', { capacity: { chat: 2 } });
    const page = await consolePage(ada.token, 'Ada');
    await page.locator(`[data-sb="conversation-item"][data-conversation-id="${conversationId}"]`).click();
    await el(page, 'handoff').click();
    const options = el(page, 'handoff-pick').locator('option');
    await options.filter({ hasText: 'Grace' }).waitFor({ state: 'attached' });
    expect(await options.allTextContents()).to.include.members([
      'Linus (no chat place free now: the next one they free is kept for it)',
      'Grace',
    ]);
  });

  it('tells the owner in words when a colleague declines their hand-off', async () => {
    const ada = await h.createAgent('Ada', { capacity: { chat: 2 } });
    const conversationId = await maryWrites();
    const linus = await h.createAgent('Linus', { capacity: { chat: 2 } });
    const page = await consolePage(ada.token, 'Ada');
    await el(page, 'conversation-item').waitFor();
    const linusSocket = await agentSocket(linus.token);
    const adaSocket = await agentSocket(ada.token);
    await emitAck(adaSocket, 'handoff', { conversationId, toAgentId: linus.agent.id, note: 'Refund' });
    await el(page, 'handoff-pending').filter({ hasText: 'Offered to Linus' }).waitFor();
    expect(await emitAck(linusSocket, 'handoff.decline', { conversationId })).to.deep.equal({ ok: true });
    await page
      .locator('#notice')
      .filter({ hasText: 'Linus declined the hand-off of Mary Major: it stays with you.' })
      .waitFor();
    // Offered again, and taken back from the page (Linus has not answered): his offer goes, he is told.
    await emitAck(adaSocket, 'handoff', { conversationId, toAgentId: linus.agent.id, note: 'Refund, again' });
    await once(linusSocket, 'handoff.offer');
    const told = once(linusSocket, 'handoff.update');
    await el(page, 'handoff-withdraw').click();
    await page.locator('#notice').filter({ hasText: 'Hand-off taken back' }).waitFor();
    expect(await told).to.deep.include({ action: 'withdrawn', by: 'Ada', customer: 'Mary Major' });
    expect((await h.store.getConversation(conversationId))?.handoff).to.equal(null);
    expect(await el(page, 'handoff-pending').count()).to.equal(0);
    const late = await emitAck(linusSocket, 'handoff.accept', { conversationId });
    expect(late.ok).to.equal(false);
  });

  it("tells the owner of a team lead's hand-off at the offer and when it moves, and keeps the reply they were writing", async () => {
    const ada = await h.createAgent('Ada', { capacity: { chat: 2 } });
    const conversationId = await maryWrites();
    const grace = await h.createAgent('Grace', { capacity: { chat: 2 } });
    const lena = await h.createAgent('Lena', { capacity: { chat: 0 }, lead: true });
    const page = await consolePage(ada.token, 'Ada');
    await el(page, 'reply-input').fill('Your parcel left our depot this morning and');
    // Grace's console says who offers it: the lead, in Ada's stead.
    const gracePage = await consolePage(grace.token, 'Grace');

    await h
      .http()
      .post(`/api/conversations/${conversationId}/handoff`)
      .set('Authorization', `Bearer ${lena.token}`)
      .send({ toAgentId: grace.agent.id, note: 'Ada is swamped' })
      .expect(200);
    await page
      .locator('#notice')
      .filter({ hasText: "Lena offered Mary Major's conversation to Grace." })
      .waitFor();
    await gracePage.getByText("Lena offers you Ada's conversation").first().waitFor();
    await gracePage.context().close();

    const graceSocket = await agentSocket(grace.token);
    expect(await emitAck(graceSocket, 'handoff.accept', { conversationId })).to.deep.equal({ ok: true });
    await page.locator('#notice').filter({ hasText: "Mary Major's conversation is now Grace's." }).waitFor();
    // Still in sight, with what she wrote: not sent, kept to copy or pass on.
    await el(page, 'unsent').waitFor();
    expect(await el(page, 'unsent-reply').inputValue()).to.equal(
      'Your parcel left our depot this morning and',
    );
    expect(await el(page, 'unsent-text').textContent()).to.contain('Your reply was not sent');
    expect(await el(page, 'conversation-item').count()).to.equal(1);
    expect(await page.locator('#standby').textContent()).to.contain("it is Grace's now");
    const snapshot = await page.locator('[data-sb="unsent"]').ariaSnapshot();
    expect(snapshot).to.contain('textbox "Your reply was not sent');
  });

  it("the list shows what a person wrote last, not Switchboard's own line after it", async () => {
    // Mary waits (nobody works yet) and is told so; then Ada starts and has her.
    const conversationId = await maryWrites('where is parcel 5566?');
    expect(await h.sb.router.acknowledgeWait(conversationId, 'You are number 1 in line.')).to.not.equal(null);
    const ada = await h.createAgent('Ada', { capacity: { chat: 2 } });
    expect((await h.store.getConversation(conversationId))?.ownerId).to.equal(ada.agent.id);
    const page = await consolePage(ada.token, 'Ada');
    const item = el(page, 'conversation-item').first();
    await item.waitFor();
    expect(await item.locator('.item-last').textContent()).to.contain('where is parcel 5566?');
  });

  it("shows the customer's notes: an address given that belongs to another customer is said beside the conversation", async () => {
    const ada = await h.createAgent('Ada', { capacity: { chat: 2 } });
    await maryWrites();
    await visitorWrites('Mallory', 'mary@example.com', 'my refund, please');
    const page = await consolePage(ada.token, 'Ada');
    await el(page, 'conversation-item').filter({ hasText: 'Mallory' }).click();
    const note = el(page, 'customer-note').first();
    await note.waitFor();
    expect(await note.textContent()).to.match(
      /^email mary@example\.com also belongs to another customer, Mary Major; an admin can merge them if they are the same person \(Switchboard, /,
    );
  });

  it('says before going offline that a conversation the agent answered last stays theirs until the customer writes again', async () => {
    const ada = await h.createAgent('Ada', { capacity: { chat: 2 } });
    await maryWrites();
    const asked = await visitorWrites('Joe Bloggs', 'joe@example.com', 'can I change my address?');
    const adaSocket = await agentSocket(ada.token);
    const replied = await emitAck(adaSocket, 'reply', {
      conversationId: asked,
      text: 'Yes: it is changed.',
      clientMessageId: 'a-1',
    });
    expect(replied.ok).to.equal(true);
    const page = await consolePage(ada.token, 'Ada');
    await el(page, 'conversation-item').nth(1).waitFor();
    await el(page, 'status-offline').click();
    await el(page, 'offline-confirm').waitFor();
    expect(await el(page, 'offline-what').textContent()).to.equal(
      'You hold 2 open conversations. If you go offline, the 1 whose customer waits for a reply waits for you, ' +
        'then goes to colleagues: after 2 minutes. The 1 you answered last stays yours while you are offline, ' +
        'until the customer writes again.',
    );
  });

  it('asks before going offline with open conversations, saying when they go to colleagues; Cancel keeps the status', async () => {
    const ada = await h.createAgent('Ada', { capacity: { chat: 2 } });
    await maryWrites();
    const page = await consolePage(ada.token, 'Ada');
    await el(page, 'conversation-item').waitFor();
    await el(page, 'status-offline').click();
    await el(page, 'offline-confirm').waitFor();
    expect(await el(page, 'offline-what').textContent()).to.equal(
      'You hold 1 open conversation. If you go offline, it waits for you, then goes to colleagues: after 2 minutes.',
    );
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.sb)).to.equal(
      'offline-send',
    );
    await el(page, 'offline-cancel').click();
    expect(await el(page, 'offline-confirm').isHidden()).to.equal(true);
    expect((await h.store.getAgent(ada.agent.id))!.status).to.equal('available');
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.sb)).to.equal(
      'status-offline',
    );

    await el(page, 'status-offline').click();
    await el(page, 'offline-send').click();
    await page.locator('[data-sb="status-offline"][aria-pressed="true"]').waitFor();
    expect((await h.store.getAgent(ada.agent.id))!.status).to.equal('offline');
  });
});
