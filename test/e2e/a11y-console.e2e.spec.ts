// The web agent console as an agent who uses the keyboard and a screen reader finds it, in Chromium. What a screen
// reader would say is read from the page: every node or text added inside a live region (one whose politeness is
// not "off"), recorded by a MutationObserver from the page's start.
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import { emitAck, type Harness, startHarness } from '../server/harness.js';
import { launchChromium } from '../support/chromium.js';

/** In the page, before its scripts: `window.__said`, what was added to live regions. */
const RECORDER = `
  window.__said = [];
  new MutationObserver((records) => {
    for (const r of records) {
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      const live = el && el.closest('[aria-live],[role=log],[role=status],[role=alert]');
      if (!live || live.getAttribute('aria-live') === 'off') continue;
      const text = r.type === 'characterData' ? r.target.data : [...r.addedNodes].map((n) => n.textContent).join('');
      if (text.trim()) window.__said.push((live.dataset.sb || live.id) + ': ' + text.trim());
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
`;

describe('e2e: the web console with the keyboard and a screen reader (a11y)', function () {
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
        // A chat rings the agent, who accepts it (as a call does); email goes out, so "Write to a customer…" shows.
        ROUTING_POLICY: JSON.stringify({
          offerTimeoutSeconds: { voice: 20, chat: 60 },
          savedReplies: [
            { name: 'Greeting', text: 'Hello {name}, how can I help?' },
            { name: 'Thanks', text: 'Thank you for your patience.' },
          ],
        }),
        EMAIL_INBOUND_TOKEN: 'a11y-inbound-token-0123456789',
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

  async function consolePage(token: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    await context.addInitScript({ content: RECORDER });
    const page = await context.newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    await page.goto(`${h.url}/console?token=${token}`);
    await page.locator('[data-sb="agent-name"]').filter({ hasText: 'Ada' }).waitFor();
    return page;
  }
  const el = (page: Page, name: string) => page.locator(`[data-sb="${name}"]`);
  const focused = (page: Page) =>
    page.evaluate(() => {
      const a = document.activeElement as HTMLElement | null;
      return a?.dataset.sb ?? a?.id ?? a?.tagName ?? null;
    });
  const said = (page: Page) => page.evaluate(() => (window as unknown as { __said: string[] }).__said);
  const hush = (page: Page) =>
    page.evaluate(() => {
      (window as unknown as { __said: string[] }).__said = [];
    });
  /** A chat visitor; `say` sends a message and resolves once it is stored. */
  function visitor(): { socket: Socket; say: (text: string) => Promise<string> } {
    const socket = h.visitor();
    return {
      socket,
      async say(text) {
        const ack = await emitAck(socket, 'message', { text, clientMessageId: `m-${text}` });
        expect(ack.ok).to.equal(true);
        return ack.conversationId as string;
      },
    };
  }
  /** The end of a conversation's customer id: how an anonymous visitor is told apart ("Website visitor 7k2q"). */
  async function tagOf(conversationId: string): Promise<string> {
    return (await h.store.getConversation(conversationId))!.customerId.slice(-4);
  }
  /** Tab from the Sign out button: the first control after the header. */
  async function tabFromHeader(page: Page): Promise<void> {
    await page.locator('#signout').focus();
    await page.keyboard.press('Tab');
  }

  it('is worked with the keyboard alone: accept, reply, resolve, hand off, status; the focus never falls to the page', async () => {
    const { agent: ada, token } = await h.createAgent('Ada', { capacity: { chat: 2 } });
    // Away: both chats ring Ada.
    await h.createAgent('Grace', { capacity: { chat: 2 }, status: 'away' });
    const page = await consolePage(token);

    // A chat rings Ada: the offer is said, and Tab from the header reaches Accept.
    await hush(page);
    const dana = visitor();
    await dana.say('Hello, my order never came');
    await el(page, 'offer-accept').waitFor();
    const offer = (await said(page)).filter((s) => s.startsWith('announce:'));
    expect(offer).to.have.length(1);
    expect(offer[0]).to.match(
      /^announce: Incoming contact: Incoming chat from Website visitor \w{4} — answer by /,
    );
    await tabFromHeader(page);
    expect(await focused(page)).to.equal('offer-accept');
    await page.keyboard.press('Enter');
    // Accepted: the banner is gone and the focus is in the message box, ready to answer.
    await el(page, 'offer-accept').waitFor({ state: 'detached' });
    await page.waitForFunction(() => document.activeElement?.id === 'reply-input');
    await page.keyboard.type('Sorry! Let me look.');
    await page.keyboard.press('Control+Enter');
    await el(page, 'message').filter({ hasText: 'Sorry! Let me look.' }).waitFor();

    // A second chat rings while she works on the first; her focus on its Accept stays there when Dana writes
    // (the page is drawn again), and Dana's words are said once, not the whole conversation again.
    const lee = visitor();
    const leeTag = await tagOf(await lee.say('Hi, question about my bill'));
    await el(page, 'offer-accept').waitFor();
    await tabFromHeader(page);
    expect(await focused(page)).to.equal('offer-accept');
    await hush(page);
    const danaTag = await tagOf(await dana.say('Thanks, I am waiting'));
    await el(page, 'message').filter({ hasText: 'Thanks, I am waiting' }).waitFor();
    expect(await focused(page)).to.equal('offer-accept');
    expect(await said(page)).to.deep.equal([`announce: Website visitor ${danaTag}: Thanks, I am waiting`]);
    // Presence and typing change what is shown, and say nothing.
    await hush(page);
    await emitAck(dana.socket, 'typing', { typing: true });
    await el(page, 'typing').waitFor();
    expect(await said(page)).to.deep.equal([]);

    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.id === 'reply-input');
    expect(await page.locator('#conv-title').textContent()).to.equal(`Website visitor ${leeTag}`);
    expect(await el(page, 'message').filter({ hasText: 'question about my bill' }).count()).to.equal(1);

    // Resolve from the keyboard: the form goes, and the focus goes to the conversation's title, not the page.
    await el(page, 'resolve').focus();
    await page.keyboard.press('Enter');
    await page.locator('#standby').filter({ hasText: 'resolved' }).waitFor();
    expect(await focused(page)).to.equal('conv-title');

    // Hand off Dana's conversation: Escape closes the form and gives the focus back to its button.
    await el(page, 'conversation-item').filter({ hasText: 'Thanks, I am waiting' }).focus();
    await page.keyboard.press('Enter');
    await el(page, 'handoff').focus();
    await page.keyboard.press('Enter');
    expect(await focused(page)).to.equal('handoff-pick');
    await page.keyboard.press('Escape');
    expect(await page.locator('#handoff-panel').isHidden()).to.equal(true);
    expect(await focused(page)).to.equal('handoff');

    // "Write to a customer…" closes with Escape too, the focus back on its button.
    await el(page, 'write').focus();
    await page.keyboard.press('Enter');
    expect(await focused(page)).to.equal('write-to');
    await page.keyboard.press('Escape');
    expect(await page.locator('#write-panel').isHidden()).to.equal(true);
    expect(await focused(page)).to.equal('write');

    // Status with the keyboard, said in words (pressed), not only in colour.
    await el(page, 'status-away').focus();
    await page.keyboard.press('Space');
    await page.locator('[data-sb="status-away"][aria-pressed="true"]').waitFor();
    expect((await h.store.getAgent(ada.id))?.status).to.equal('away');
  });

  it('says a new conversation once, keeps the notice in the accessibility tree, and names every control', async () => {
    const { token } = await h.createAgent('Ada', { capacity: { chat: 2 } });
    const page = await consolePage(token);
    // The notice's region is there while empty, so that its first words are said.
    expect(await page.locator('#notice').evaluate((n) => getComputedStyle(n).display)).to.not.equal('none');
    const dana = visitor();
    await dana.say('Hello there');
    await el(page, 'offer-accept').click();
    await el(page, 'message').filter({ hasText: 'Hello there' }).waitFor();
    await hush(page);
    const tag = await tagOf(await dana.say('Are you there?'));
    await el(page, 'message').filter({ hasText: 'Are you there?' }).waitFor();
    // One message, said once; the log is not read out again.
    expect(await said(page)).to.deep.equal([`announce: Website visitor ${tag}: Are you there?`]);
    const snapshot = await page.locator('body').ariaSnapshot();
    const unnamed = snapshot
      .split('\n')
      .filter((line) => /^\s*- (button|textbox|combobox|link|checkbox)\s*(\[|:|$)/.test(line));
    expect(unnamed).to.deep.equal([]);
  });

  it('goes through the saved replies with the arrow keys; Enter puts the one shown in the message box', async () => {
    const { token } = await h.createAgent('Ada', { capacity: { chat: 2 } });
    const page = await consolePage(token);
    await visitor().say('Hello');
    await el(page, 'offer-accept').click();
    await el(page, 'saved-replies').waitFor();
    await el(page, 'saved-replies').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    // Browsing puts nothing in the box and leaves the focus on the list.
    expect(await el(page, 'reply-input').inputValue()).to.equal('');
    expect(await focused(page)).to.equal('saved-replies');
    await page.keyboard.press('Enter');
    expect(await el(page, 'reply-input').inputValue()).to.equal('Thank you for your patience.');
    expect(await focused(page)).to.equal('reply-input');
  });

  it('draws the focus ring of a conversation in the list inside the list, where its scroll box does not cut it', async () => {
    const { token } = await h.createAgent('Ada', { capacity: { chat: 2 } });
    const page = await consolePage(token);
    await visitor().say('Hello');
    await el(page, 'offer-accept').click();
    await el(page, 'conversation-item').focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    expect(await focused(page)).to.equal('conversation-item');
    const ring = await el(page, 'conversation-item').evaluate((item) => {
      const style = getComputedStyle(item);
      const out = Number.parseFloat(style.outlineOffset) + Number.parseFloat(style.outlineWidth);
      const box = item.getBoundingClientRect();
      const list = item.closest('.list')!.getBoundingClientRect();
      return {
        style: style.outlineStyle,
        inside: box.left - out >= list.left && box.right + out <= list.right,
      };
    });
    expect(ring).to.deep.equal({ style: 'solid', inside: true });
  });

  it('keeps the notice off the control that has the focus, on a laptop screen (1280×720)', async () => {
    const { token } = await h.createAgent('Ada', { capacity: { chat: 2 } });
    const page = await consolePage(token);
    await page.setViewportSize({ width: 1280, height: 720 });
    await visitor().say('Hello');
    await el(page, 'offer-accept').click();
    await el(page, 'consult').waitFor();
    /** Whether the control with the focus can be seen: nothing lies over its middle. */
    const inSight = () =>
      page.evaluate(() => {
        const a = document.activeElement as HTMLElement;
        const box = a.getBoundingClientRect();
        const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
        return `${a.dataset.sb}: ${top === a || a.contains(top) ? 'in sight' : `under ${top?.id || top?.tagName}`}`;
      });
    // Accepted: "New conversation with …" floats over the window's bottom-left corner, where Consult is.
    await page.locator('#notice').filter({ hasText: 'New conversation' }).waitFor();
    await el(page, 'handoff').focus();
    await page.keyboard.press('Shift+Tab');
    expect(await inSight()).to.equal('consult: in sight');
    await el(page, 'resolve').focus();
    expect(await inSight()).to.equal('resolve: in sight');
    // The notice is still there to read, out of the way.
    expect(await page.locator('#notice').textContent()).to.not.equal('');
  });
});
