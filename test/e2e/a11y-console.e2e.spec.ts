// The web agent console as an agent who uses the keyboard and a screen reader finds it, in Chromium. What a screen
// reader would say is read from the page: every node or text added inside a live region (one whose politeness is
// not "off"), recorded by a MutationObserver from the page's start.
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import { emitAck, type Harness, startHarness } from '../server/harness.js';
import { launchChromium } from '../support/chromium.js';
import { LIVE_REGION_RECORDER } from '../support/live-regions.js';

/**
 * In the page: what falls short of WCAG's contrast, as `ratio < needed: what`. Every text shown against the
 * backgrounds under it (each element's opacity folded in; 4.5:1, or 3:1 for large text), and `ring`'s focus ring
 * (3:1) against what it is drawn on: the element's own background when the ring is inside it, else its parent's.
 */
const CONTRAST = `(ring) => {
  const rgba = (c) => { const p = c.match(/[\\d.]+/g).map(Number); return { r: p[0], g: p[1], b: p[2], a: p[3] ?? 1 }; };
  const over = (t, u) => ({ r: t.r * t.a + u.r * (1 - t.a), g: t.g * t.a + u.g * (1 - t.a), b: t.b * t.a + u.b * (1 - t.a), a: 1 });
  const lum = (c) => { const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4); return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const ratio = (x, y) => { const [a, b] = [lum(x), lum(y)].sort((m, n) => n - m); return (a + 0.05) / (b + 0.05); };
  const chain = (el) => { const up = []; for (let e = el; e; e = e.parentElement) up.unshift(e); return up; };
  const background = (el) => chain(el).reduce((bg, e) => { const c = rgba(getComputedStyle(e).backgroundColor); return c.a ? over(c, bg) : bg; }, { r: 255, g: 255, b: 255, a: 1 });
  const opacity = (el) => chain(el).reduce((o, e) => o * Number(getComputedStyle(e).opacity), 1);
  const short = [];
  const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = texts.nextNode(); n; n = texts.nextNode()) {
    const el = n.parentElement;
    if (!n.data.trim() || !el.getClientRects().length || el.closest('.visually-hidden, option')) continue;
    const s = getComputedStyle(el);
    const bg = background(el);
    const fg = over({ ...over(rgba(s.color), bg), a: opacity(el) }, bg);
    const size = Number.parseFloat(s.fontSize);
    const needed = size >= 24 || (Number(s.fontWeight) >= 700 && size >= 18.66) ? 3 : 4.5;
    const r = ratio(fg, bg);
    if (r < needed) short.push(r.toFixed(2) + ' < ' + needed + ': ' + n.data.trim().slice(0, 30));
  }
  if (ring) {
    const s = getComputedStyle(ring);
    const on = Number.parseFloat(s.outlineOffset) < 0 ? ring : ring.parentElement;
    const r = ratio(rgba(s.outlineColor), background(on));
    if (s.outlineStyle === 'none' || r < 3) short.push(r.toFixed(2) + ' < 3: focus ring of ' + (ring.dataset.sb || ring.id));
  }
  return short;
}`;

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
    await context.addInitScript({ content: LIVE_REGION_RECORDER });
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

  it('the Alerts toggle keeps its name and says its state once, as pressed', async () => {
    const { token } = await h.createAgent('Ada', { capacity: { chat: 2 } });
    const page = await consolePage(token);
    const alerts = page.getByRole('button', { name: 'Alerts', exact: true });
    expect(await alerts.getAttribute('aria-pressed')).to.equal('true');
    await alerts.click();
    await page.locator('[data-sb="alerts"][aria-pressed="false"]').waitFor();
    // The same name, off: only its pressed state changed; the eye reads "off" beside it.
    expect(await alerts.count()).to.equal(1);
    expect((await alerts.textContent())?.replace(/\s+/g, ' ').trim()).to.equal('Alerts off');
    await alerts.click();
    await page.locator('[data-sb="alerts"][aria-pressed="true"]').waitFor();
    expect(await alerts.count()).to.equal(1);
  });

  it('resolves with the usual follow-up in one Tab stop from Resolve; another time opens the date field', async () => {
    const { token } = await h.createAgent('Ada', { capacity: { chat: 2 } });
    const page = await consolePage(token);
    const dana = visitor();
    const conversationId = await dana.say('Please check back with me tomorrow');
    await el(page, 'offer-accept').click();
    await el(page, 'reply-input').waitFor();
    // From Resolve, the next stop is the follow-up choice, and the one after it leaves the row: the date and
    // time field (six stops in Chromium) is not in the way unless another time is wanted.
    await el(page, 'resolve').focus();
    await page.keyboard.press('Tab');
    expect(await focused(page)).to.equal('followup-when');
    await page.keyboard.press('Tab');
    expect(await focused(page)).to.equal('consult');
    expect(await page.getByRole('combobox', { name: 'Follow up' }).count()).to.equal(1);
    // Another time: the field shows, the next stop after the choice.
    await el(page, 'followup-when').selectOption('other');
    await el(page, 'followup-when').focus();
    await page.keyboard.press('Tab');
    expect(await focused(page)).to.equal('followup');
    // Tomorrow morning, then Resolve (Shift+Tab back to it).
    await el(page, 'followup-when').selectOption('tomorrow');
    expect(await el(page, 'followup').isHidden()).to.equal(true);
    await el(page, 'followup-when').focus();
    await page.keyboard.press('Shift+Tab');
    expect(await focused(page)).to.equal('resolve');
    await page.keyboard.press('Enter');
    await page.locator('#standby').filter({ hasText: 'resolved' }).waitFor();
    const expected = await page.evaluate(() => {
      const d = new Date();
      return new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1, 9, 0).getTime();
    });
    const promises = await h.store.listPromises(conversationId);
    expect(promises.filter((p) => p.kind === 'follow-up').map((p) => p.dueAt)).to.deep.equal([expected]);
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

  it('shows every text at 4.5:1 at least (a closed conversation, a delivered reply too), and a focus ring at 3:1', async () => {
    const { token } = await h.createAgent('Ada', { capacity: { chat: 2 } });
    const page = await consolePage(token);
    /** What falls short, with the focus ring of the element `ring` selects. */
    const shortOf = (ring?: string): Promise<string[]> =>
      page.evaluate(`(${CONTRAST})(${ring ? `document.querySelector(${JSON.stringify(ring)})` : 'null'})`);
    // One conversation resolved (it stays in the list, closed), one open with a reply delivered and a note.
    await visitor().say('First question');
    await el(page, 'offer-accept').click();
    await el(page, 'resolve').click();
    await page.locator('#standby').filter({ hasText: 'resolved' }).waitFor();
    await visitor().say('Second question');
    await el(page, 'offer-accept').click();
    await el(page, 'reply-input').fill('Here is the answer');
    await el(page, 'reply').click();
    await page.locator('[data-sb="delivery"][data-state="delivered"]').waitFor();
    await el(page, 'reply-input').fill('Told them');
    await el(page, 'note').click();
    await el(page, 'message').filter({ hasText: 'Told them' }).waitFor();
    await visitor().say('Third question');
    await el(page, 'offer-accept').waitFor();
    await el(page, 'conversation-item').filter({ hasText: 'First question' }).waitFor();
    expect(await shortOf()).to.deep.equal([]);
    // The ring, moved there by the keyboard, on the page, on a panel, inside the current conversation's item.
    for (const name of ['status-away', 'offer-accept', 'reply-input', 'resolve']) {
      await el(page, name).focus();
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Tab');
      expect(await shortOf(`[data-sb="${name}"]`)).to.deep.equal([]);
    }
    const current = '[data-sb="conversation-item"][aria-current="true"]';
    await page.locator(current).focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    expect(await shortOf(current)).to.deep.equal([]);
  });

  it('takes away an offer that rang out, says so, and keeps the focus on the page', async () => {
    const { token } = await h.createAgent('Ada', { capacity: { chat: 2 } });
    const page = await consolePage(token);
    const tag = await tagOf(await visitor().say('Hello, anyone?'));
    await el(page, 'offer-accept').waitFor();
    await tabFromHeader(page);
    expect(await focused(page)).to.equal('offer-accept');
    await hush(page);
    // Ada does not answer in time (offerTimeoutSeconds, 60 s for chat).
    h.clock.advance(61_000);
    await h.sb.router.tick();
    await el(page, 'offer-accept').waitFor({ state: 'detached' });
    expect(await said(page)).to.include(`announce: Website visitor ${tag} is no longer offered to you.`);
    expect(await focused(page)).to.equal('conv-title');
  });

  it('does not read out the waiting count at each change; away, it says once that customers wait', async () => {
    // Away, and no room for chats: what comes waits.
    const { token } = await h.createAgent('Ada', { capacity: { chat: 0 }, status: 'away' });
    const page = await consolePage(token);
    await page.locator('[data-sb="queue"]').filter({ hasText: 'Nobody waiting' }).waitFor();
    await hush(page);
    await visitor().say('First');
    await page.locator('[data-sb="queue"]').filter({ hasText: '1 waiting' }).waitFor();
    await visitor().say('Second');
    await page.locator('[data-sb="queue"]').filter({ hasText: '2 waiting (chat 2)' }).waitFor();
    expect(await said(page)).to.deep.equal(['announce: Customers are waiting: 1 waiting (chat 1).']);

    // Available, she hears of what is offered to her; the count changes without a word.
    await el(page, 'status-available').click();
    await page.locator('[data-sb="status-available"][aria-pressed="true"]').waitFor();
    await hush(page);
    await visitor().say('Third');
    await page.locator('[data-sb="queue"]').filter({ hasText: '3 waiting (chat 3)' }).waitFor();
    expect(await said(page)).to.deep.equal([]);
  });

  it('lets a screen reader jump to the conversations, the conversation, the reply box and the actions by landmark', async () => {
    const { token } = await h.createAgent('Ada', { capacity: { chat: 2 } });
    const page = await consolePage(token);
    await visitor().say('Hello');
    await el(page, 'offer-accept').click();
    await el(page, 'reply-input').waitFor();
    expect(
      await page.getByRole('navigation', { name: 'Conversations' }).getByRole('button').count(),
    ).to.be.above(0);
    const tag = await tagOf((await h.store.listConversations({ status: 'assigned' }))[0]!.id);
    expect(
      await page
        .getByRole('region', { name: `Website visitor ${tag}` })
        .getByRole('log')
        .count(),
    ).to.equal(1);
    const reply = page.getByRole('form', { name: 'Reply' });
    expect(await reply.getByRole('textbox', { name: 'Message' }).count()).to.equal(1);
    const actions = page.getByRole('region', { name: 'Actions on this conversation' });
    for (const name of ['Resolve', 'Consult', 'Hand off', 'Promise'])
      expect(await actions.getByRole('button', { name, exact: true }).count()).to.equal(1, name);
  });

  it('does not leave what it said in the page: an offer accepted is not read again going through the page', async () => {
    const { token } = await h.createAgent('Ada', { capacity: { chat: 2 } });
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    contexts.push(context);
    const page = await context.newPage();
    // The page's timers run when the test says.
    await page.clock.install();
    await page.goto(`${h.url}/console?token=${token}`);
    await el(page, 'agent-name').filter({ hasText: 'Ada' }).waitFor();
    await visitor().say('Hello');
    await el(page, 'offer-accept').click();
    await el(page, 'reply-input').waitFor();
    expect(await el(page, 'announce').textContent()).to.match(/^Incoming contact: Incoming chat from/);
    await page.clock.runFor(21_000);
    expect(await page.locator('body').ariaSnapshot()).to.not.match(/Incoming contact|Incoming chat/);
  });

  it('scrolls the history with the keys, also when a file in it has a link, its focus ring whole', async () => {
    const { token } = await h.createAgent('Ada', { capacity: { chat: 2 } });
    const page = await consolePage(token);
    await page.setViewportSize({ width: 1280, height: 720 });
    const dana = visitor();
    await dana.say('Hello');
    await el(page, 'offer-accept').click();
    await el(page, 'reply-input').waitFor();
    await el(page, 'file').setInputFiles({
      name: 'receipt.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('Paid'),
    });
    await el(page, 'attachment').waitFor();
    for (let i = 1; i <= 8; i++) await dana.say(`Line ${i}: ${'and more about my order '.repeat(3)}`);
    await el(page, 'message').filter({ hasText: 'Line 8:' }).waitFor();
    // From the list, Tab comes to the history (not to the file's link, which would scroll it to the file).
    await el(page, 'conversation-item').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await focused(page)).to.equal('messages');
    const end = await el(page, 'messages').evaluate((m) => m.scrollTop);
    await page.keyboard.press('PageUp');
    await page.waitForFunction((at) => document.querySelector('[data-sb="messages"]')!.scrollTop < at, end);
    const ring = await el(page, 'messages').evaluate((box) => {
      const style = getComputedStyle(box);
      const out = Number.parseFloat(style.outlineOffset) + Number.parseFloat(style.outlineWidth);
      const r = box.getBoundingClientRect();
      const panel = box.closest('.conversation')!.getBoundingClientRect();
      return {
        style: style.outlineStyle,
        inside: r.left - out >= panel.left && r.right + out <= panel.right,
      };
    });
    expect(ring).to.deep.equal({ style: 'solid', inside: true });
  });
});
