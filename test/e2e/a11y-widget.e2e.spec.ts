// The chat widget as a visitor who uses the keyboard, a screen reader or a small phone finds it, in Chromium.
// What a screen reader would say is read from the page: every node or text added inside a live region (one whose
// politeness is not "off"), recorded by a MutationObserver in the widget's shadow root from the page's start.
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import { emitAck, type Json, useHarness } from '../server/harness.js';
import { launchChromium } from '../support/chromium.js';
import { widgetPart, widgetTaken } from '../support/widget.js';

/** In the page, before its scripts: `window.__said`, what was added to the widget's live regions. */
const RECORDER = `
  window.__said = [];
  const watch = (root) => new MutationObserver((records) => {
    for (const r of records) {
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      const live = el && el.closest('[aria-live],[role=log],[role=status],[role=alert]');
      if (!live || live.getAttribute('aria-live') === 'off') continue;
      const text = r.type === 'characterData' ? r.target.data : [...r.addedNodes].map((n) => n.textContent).join('');
      if (text) window.__said.push(live.dataset.sb + ': ' + text);
    }
  }).observe(root, { subtree: true, childList: true, characterData: true });
  new MutationObserver((_, self) => {
    const host = document.getElementById('switchboard-widget');
    if (host && host.shadowRoot) { watch(host.shadowRoot); self.disconnect(); }
  }).observe(document, { subtree: true, childList: true });
`;

/**
 * The widget's socket, kept as `window.__socket` when the socket.io client it loads creates it, with a count of the
 * statuses it received (the last event of the history a connection brings).
 */
const SOCKET = `
  let real;
  Object.defineProperty(window, 'io', {
    configurable: true,
    get: () => real && Object.assign((...args) => {
      const socket = real(...args);
      window.__statuses = 0;
      socket.on('status', () => { window.__statuses += 1; });
      window.__socket = socket;
      return socket;
    }, real),
    set: (v) => { real = v; },
  });
`;

/**
 * In the page: WCAG contrast helpers as `window.__contrast`: `ratio(a, b)` of two CSS colours, `behind(el)` the
 * opaque colour behind an element (its backgrounds and its ancestors' stacked, over white), and `texts()` every
 * visible text of the widget (its placeholders and the empty list's words too) as `{what, text, ratio}`, opacity
 * included.
 */
const CONTRAST = `
  const rgba = (c) => {
    const m = String(c).match(/rgba?\\(([^)]+)\\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const lum = (c) => {
    const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const up = (e) => e.parentElement || (e.getRootNode() instanceof ShadowRoot ? e.getRootNode().host : null);
  const chain = (el) => {
    const out = [];
    for (let e = el; e; e = up(e)) out.unshift(e);
    return out;
  };
  /** The opaque colours of an element's text (or pseudo-element's) and of what is behind it, faded as it is. */
  const pair = (el, pseudo) => {
    let bg = [255, 255, 255, 1];
    let opacity = 1;
    for (const e of chain(el)) {
      const cs = getComputedStyle(e);
      bg = over(rgba(cs.backgroundColor), bg);
      opacity *= Number(cs.opacity);
    }
    let fg = over(rgba(getComputedStyle(el, pseudo).color), bg);
    if (opacity < 1) {
      const white = [255, 255, 255, 1];
      fg = over([...fg.slice(0, 3), opacity], white);
      bg = over([...bg.slice(0, 3), opacity], white);
    }
    return [fg, bg];
  };
  const behind = (el) => {
    let bg = [255, 255, 255, 1];
    for (const e of chain(el)) bg = over(rgba(getComputedStyle(e).backgroundColor), bg);
    return bg;
  };
  const texts = () => {
    const root = document.getElementById('switchboard-widget').shadowRoot;
    const out = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!n.data.trim() || !el || el.closest('style, [hidden], .v') || !el.getClientRects().length) continue;
      out.push({ what: el.dataset.sb || el.tagName.toLowerCase(), text: n.data.trim(), ratio: ratio(...pair(el)) });
    }
    for (const el of root.querySelectorAll('textarea, input'))
      if (el.placeholder && el.getClientRects().length)
        out.push({ what: 'placeholder', text: el.placeholder, ratio: ratio(...pair(el, '::placeholder')) });
    for (const el of root.querySelectorAll('[data-sb=messages]')) {
      const words = getComputedStyle(el, '::before').content;
      if (words && words !== 'none' && el.getClientRects().length)
        out.push({ what: 'empty', text: words, ratio: ratio(...pair(el, '::before')) });
    }
    return out;
  };
  window.__contrast = { ratio: (a, b) => ratio(over(rgba(a), [255, 255, 255, 1]), over(rgba(b), [255, 255, 255, 1])), rgba, behind, texts };
`;

/** A stand-in for the browser's visual viewport, so that a test can show an on-screen keyboard. */
const KEYBOARD = `
  const vv = new EventTarget();
  Object.assign(vv, { width: innerWidth, height: innerHeight, offsetTop: 0, offsetLeft: 0, pageTop: 0, pageLeft: 0, scale: 1 });
  Object.defineProperty(window, 'visualViewport', { get: () => vv, configurable: true });
  window.__keyboard = (px) => { vv.height = innerHeight - px; vv.dispatchEvent(new Event('resize')); };
`;

describe('e2e: the chat widget with the keyboard, a screen reader and a phone (a11y)', function () {
  this.timeout(120_000);
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  before(async () => {
    browser = await launchChromium();
  });
  // Before the harness's own (registered below, so run after this): its server waits for the pages' sockets.
  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close().catch(() => {});
  });
  const sb = useHarness({ env: { CHAT_FILE_MAX_BYTES: '200' } });
  after(async () => {
    await browser?.close();
  });

  async function open(
    viewport = { width: 1280, height: 800 },
    scripts: string[] = [RECORDER],
    deviceScaleFactor = 1,
  ): Promise<Page> {
    const context = await browser.newContext({ viewport, deviceScaleFactor });
    contexts.push(context);
    for (const content of scripts) await context.addInitScript({ content });
    const page = await context.newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    await page.goto(`${sb().url}/`);
    return page;
  }
  const w = widgetPart;
  /** What the widget inside the shadow root has focused: its data-sb name. */
  const focused = (page: Page) =>
    page.evaluate(
      () =>
        (document.getElementById('switchboard-widget')?.shadowRoot?.activeElement as HTMLElement | null)
          ?.dataset.sb ?? null,
    );
  const said = (page: Page) => page.evaluate(() => (window as unknown as { __said: string[] }).__said);
  const hush = (page: Page) =>
    page.evaluate(() => {
      (window as unknown as { __said: string[] }).__said = [];
    });
  const taken = widgetTaken;

  /** An agent who takes the chat; `reply` answers in the visitor's conversation. */
  async function agent(): Promise<{ socket: Socket; reply: (text: string) => Promise<void> }> {
    const { token } = await sb().createAgent('Ada', { capacity: { chat: 3 } });
    const socket = sb().agentSocket(token);
    return {
      socket,
      async reply(text) {
        const [conv] = await sb().store.listConversations({ status: 'assigned' });
        const ack = await emitAck(socket, 'reply', {
          conversationId: conv!.id,
          text,
          clientMessageId: `r-${text}`,
        });
        expect(ack.ok).to.equal(true);
      },
    };
  }

  it('is used with the keyboard alone: Tab to the launcher, type, send, attach; Escape closes it from the launcher too', async () => {
    const page = await open();
    // The file chooser, once opened, is answered with a file (set up first: the browser is told to hand it over).
    page.on('filechooser', (chooser) => {
      void chooser.setFiles({ name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('hi') });
    });
    await page.keyboard.press('Tab'); // the demo page's link
    await page.keyboard.press('Tab');
    expect(await focused(page)).to.equal('launcher');
    expect(await w(page, 'launcher').evaluate((el) => el.matches(':focus-visible'))).to.equal(true);
    expect(await w(page, 'launcher').evaluate((el) => getComputedStyle(el).outlineStyle)).to.equal('solid');
    await page.keyboard.press('Enter');
    expect(await focused(page)).to.equal('input');
    expect(await w(page, 'panel').getAttribute('role')).to.equal('dialog');
    await page.keyboard.type('Hello from the keyboard');
    await page.keyboard.press('Enter');
    await taken(page, 'Hello from the keyboard');

    // Shift+Tab from the message box reaches the paperclip; Enter there opens the file chooser.
    await page.keyboard.press('Shift+Tab');
    expect(await focused(page)).to.equal('attach');
    await page.keyboard.press('Enter');
    await page.locator('#switchboard-widget [data-sb="message"]:not(.q)', { hasText: 'note.txt' }).waitFor();

    // Escape in the message box closes the chat and the focus goes back to the launcher …
    await w(page, 'input').focus();
    await page.keyboard.press('Escape');
    expect(await w(page, 'panel').isHidden()).to.equal(true);
    expect(await focused(page)).to.equal('launcher');
    // … and with the focus on the launcher of an open chat (Tab from Send), Escape closes it as well.
    await page.keyboard.press('Enter');
    expect(await focused(page)).to.equal('input');
    await page.keyboard.press('Tab');
    expect(await focused(page)).to.equal('send');
    await page.keyboard.press('Tab');
    expect(await focused(page)).to.equal('launcher');
    await page.keyboard.press('Escape');
    expect(await w(page, 'panel').isHidden()).to.equal(true);
    expect(await w(page, 'launcher').getAttribute('aria-expanded')).to.equal('false');
  });

  it("says a reply once; never the visitor's own words, a status said already, or the history a reload or a reconnect brings back", async () => {
    const ada = await agent();
    const page = await open(undefined, [RECORDER, SOCKET]);
    await w(page, 'launcher').click();
    // The status line is in the accessibility tree while empty, so that its first words are said.
    expect(await w(page, 'status').evaluate((el) => getComputedStyle(el).display)).to.not.equal('none');
    await w(page, 'input').fill('Where is my parcel?');
    await w(page, 'send').click();
    await taken(page, 'Where is my parcel?');
    await w(page, 'status').filter({ hasText: "You're chatting with Ada" }).waitFor();
    expect(await said(page)).to.deep.equal(["status: You're chatting with Ada"]);
    // The log is there to be read, not to be read out (the announcements are).
    expect(await w(page, 'messages').getAttribute('role')).to.equal('log');

    await hush(page);
    await ada.reply('It left the warehouse today.');
    await w(page, 'message').filter({ hasText: 'It left the warehouse today.' }).waitFor();
    expect(await said(page)).to.deep.equal(['announce: Ada: It left the warehouse today.']);

    // The visitor writes again: their words are not read back to them, nor the same status again.
    await hush(page);
    await w(page, 'input').fill('Thank you');
    await w(page, 'send').click();
    await taken(page, 'Thank you');
    await ada.reply('You are welcome.');
    await w(page, 'message').filter({ hasText: 'You are welcome.' }).waitFor();
    expect(await said(page)).to.deep.equal(['announce: Ada: You are welcome.']);

    // The connection drops and comes back: the history sent again is not read again.
    await hush(page);
    const statuses = await page.evaluate(() => (window as unknown as { __statuses: number }).__statuses);
    // The bubbles on screen stay the same nodes (a screen reader reading one, or the focus in it, is not thrown off).
    await w(page, 'message')
      .first()
      .evaluate((el) => {
        (el as HTMLElement & { kept?: boolean }).kept = true;
      });
    for (const s of sb().sb.io.of('/chat').sockets.values()) s.conn.close();
    await w(page, 'reconnecting').filter({ hasText: 'Reconnecting' }).waitFor();
    // The history comes again, then the status.
    await page.waitForFunction((n) => (window as unknown as { __statuses: number }).__statuses > n, statuses);
    expect(await w(page, 'message').count()).to.equal(4);
    expect(
      await w(page, 'message')
        .first()
        .evaluate((el) => (el as HTMLElement & { kept?: boolean }).kept),
    ).to.equal(true);
    expect((await said(page)).filter((s) => !s.startsWith('reconnecting:'))).to.deep.equal([]);

    // A reload shows the history without reading it; the status is said once.
    await page.reload();
    await w(page, 'message').filter({ hasText: 'You are welcome.' }).waitFor();
    await w(page, 'status').filter({ hasText: 'Ada' }).waitFor();
    expect(await said(page)).to.deep.equal(["status: You're chatting with Ada"]);

    // Closed, a reply is said as new, and the launcher says so in words, not only with its red dot.
    await hush(page);
    await w(page, 'close').click();
    await ada.reply('It arrives tomorrow.');
    await page.locator('#switchboard-widget [data-sb="launcher"].u').waitFor();
    expect(await w(page, 'launcher').getAttribute('aria-label')).to.equal('Open chat (new message)');
    expect(await said(page)).to.deep.equal(['announce: New message. Ada: It arrives tomorrow.']);
    await w(page, 'launcher').click();
    expect(await w(page, 'launcher').getAttribute('aria-label')).to.equal('Open chat');
    // Who wrote what is in words too: the visitor's own messages say "You".
    expect(await page.getByRole('log', { name: 'Messages' }).getByText('You: Thank you').count()).to.equal(1);
  });

  it('says in words that a message is still going, and that one was refused, not by its colour alone', async () => {
    // Not connected (the socket.io client never loads): the message stays going, and says so in its text.
    const away = await open(undefined, [RECORDER]);
    await away.route('**/socket.io/socket.io.min.js', (r) => r.abort());
    await w(away, 'launcher').click();
    await w(away, 'input').fill('Where is my parcel?');
    await w(away, 'send').click();
    const going = away.locator('#switchboard-widget [data-sb="message"].q');
    await going.waitFor();
    expect(await going.textContent()).to.equal('You: Where is my parcel?Sending…');
    expect(await going.locator('[data-sb="sending"]').isVisible()).to.equal(true);

    // Connected: once taken it says its time instead.
    const page = await open(undefined, [RECORDER]);
    await w(page, 'launcher').click();
    await w(page, 'input').fill('Hello');
    await w(page, 'send').click();
    await taken(page, 'Hello');
    expect(await w(page, 'message').filter({ hasText: 'Hello' }).getByText('Sending…').count()).to.equal(0);

    // More messages at once than the chat takes (a burst of 10): the ones refused are said to be not sent, aloud.
    await hush(page);
    for (let i = 1; i <= 14; i++) {
      await w(page, 'input').fill(`Line ${i}`);
      await w(page, 'input').press('Enter');
    }
    const refused = w(page, 'error').filter({ hasText: 'not sent' });
    await refused.waitFor();
    expect(await refused.textContent()).to.match(
      /^Your message was not sent: too many messages; wait \d+ seconds? and try again\.$/,
    );
    expect(await refused.getAttribute('role')).to.equal('alert');
    expect((await said(page)).filter((s) => s.startsWith('error:'))).to.have.length.greaterThan(0);
    expect((await said(page)).filter((s) => s.startsWith('error:'))[0]).to.match(
      /^error: Your message was not sent: too many messages/,
    );
  });

  it("shows each message's time in its text (not only in a tooltip): the keyboard, a touch screen and a screen reader reach it", async () => {
    const ada = await agent();
    const page = await open();
    await w(page, 'launcher').click();
    await w(page, 'input').fill('Where is my parcel?');
    await w(page, 'send').click();
    await w(page, 'status').filter({ hasText: 'Ada' }).waitFor();
    await ada.reply('It left the warehouse today.');
    const reply = w(page, 'message').filter({ hasText: 'It left the warehouse today.' });
    await reply.waitFor();
    const time = reply.locator('time');
    expect(await time.isVisible()).to.equal(true);
    const at = await time.getAttribute('datetime');
    const [stored] = await sb().store.listConversations({ status: 'assigned' });
    const messages = await sb().store.listMessages(stored!.id);
    const sent = messages.find((m) => m.text === 'It left the warehouse today.');
    expect(Date.parse(at ?? '')).to.equal(sent!.at);
    // As the browser writes it (the policy's locale is English): the time alone today, else with its date (the
    // server's clock here is a manual one, days away from the browser's).
    const expected = await page.evaluate((t) => {
      const today = new Date(t).toDateString() === new Date().toDateString();
      return new Date(t).toLocaleString(
        [],
        today ? { timeStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' },
      );
    }, sent!.at);
    expect(expected).to.match(/\d:\d\d/);
    expect(await time.textContent()).to.equal(expected);
    // It is in the message's text, read with it; no tooltip says it a second time.
    expect(await reply.textContent()).to.equal(`AdaIt left the warehouse today.${expected}`);
    expect(await reply.getAttribute('title')).to.equal(null);
  });

  it('fits a 360×640 phone: no sideways scroll, long words wrap, a 16px message box, the close button in reach', async () => {
    await agent();
    const page = await open({ width: 360, height: 640 });
    await w(page, 'launcher').click();
    const url = `https://example.com/${'a'.repeat(200)}`;
    await w(page, 'input').fill(`See ${url}`);
    await w(page, 'send').click();
    await taken(page, url);
    // A file too large for this server: the notice names it, however long its name.
    await w(page, 'file').setInputFiles({
      name: `${'invoice'.repeat(12)}.pdf`,
      mimeType: 'application/pdf',
      buffer: Buffer.alloc(500),
    });
    await w(page, 'error').filter({ hasText: 'was not sent' }).waitFor();
    const overflow = await page.evaluate(() => {
      const root = document.getElementById('switchboard-widget')!.shadowRoot!;
      return [...root.querySelectorAll<HTMLElement>('.p *')]
        .filter((el) => el.offsetParent && el.scrollWidth > el.clientWidth + 1 && !el.matches('textarea, .v'))
        .map((el) => el.dataset.sb || el.className);
    });
    expect(overflow).to.deep.equal([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.equal(360);
    for (const name of ['close', 'input', 'send', 'attach']) {
      const box = (await w(page, name).boundingBox())!;
      expect(
        box.x >= 0 && box.y >= 0 && box.x + box.width <= 360 && box.y + box.height <= 640,
        name,
      ).to.equal(true);
    }
    // Under 16px a phone's browser zooms the page in when the box is focused.
    expect(
      await w(page, 'input').evaluate((el) => Number.parseFloat(getComputedStyle(el).fontSize)),
    ).to.be.at.least(16);
  });

  it('the buttons beside the message box say their word on one line, on a desktop and on a phone', async () => {
    for (const viewport of [
      { width: 1280, height: 720 },
      { width: 360, height: 640 },
    ]) {
      const page = await open(viewport);
      await w(page, 'launcher').click();
      const lines = await w(page, 'send').evaluate((el) => {
        const range = document.createRange();
        range.selectNodeContents(el);
        return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
      });
      expect(lines, `${viewport.width}×${viewport.height}`).to.equal(1);
    }
  });

  it('at 200% zoom, with the questions open, keeps the message box and Send inside the chat', async () => {
    // 1280×800 at 200%: 640×400 CSS pixels.
    const page = await open({ width: 640, height: 400 }, [RECORDER], 2);
    await w(page, 'launcher').click();
    await w(page, 'prechat').locator('input[name="name"]').waitFor();
    const panel = (await w(page, 'panel').boundingBox())!;
    for (const name of ['close', 'input', 'send']) {
      const box = (await w(page, name).boundingBox())!;
      expect(box.y >= panel.y && box.y + box.height <= panel.y + panel.height, name).to.equal(true);
      expect(box.y + box.height <= 400, name).to.equal(true);
    }
    // The questions scroll within their own box.
    await w(page, 'prechat').getByRole('button', { name: 'Skip' }).scrollIntoViewIfNeeded();
    await w(page, 'prechat').getByRole('button', { name: 'Skip' }).click();
    await w(page, 'prechat').waitFor({ state: 'hidden' });
  });

  it('works 320 px wide, and on a screen as short as 256 px (400% zoom): nothing cut off, Escape back to the launcher', async () => {
    await agent();
    for (const viewport of [
      { width: 320, height: 568 },
      { width: 320, height: 256 },
    ]) {
      const page = await open(viewport);
      const size = `${viewport.width}×${viewport.height}`;
      await w(page, 'launcher').click();
      await w(page, 'prechat').locator('input').first().waitFor();
      await w(page, 'input').fill(`See https://example.com/${'a'.repeat(200)}`);
      await w(page, 'send').click();
      await w(page, 'status').filter({ hasText: 'Ada' }).waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth), size).to.equal(320);
      const panel = (await w(page, 'panel').boundingBox())!;
      for (const name of ['close', 'input', 'send', 'attach']) {
        const box = (await w(page, name).boundingBox())!;
        expect(
          box.x >= panel.x &&
            box.x + box.width <= panel.x + panel.width &&
            box.y >= panel.y &&
            box.y + box.height <= panel.y + panel.height &&
            box.y + box.height <= viewport.height,
          `${name} at ${size}`,
        ).to.equal(true);
      }
      // Nothing else on top of what the visitor types or presses.
      for (const name of ['input', 'send', 'close']) {
        const box = (await w(page, name).boundingBox())!;
        const hit = await page.evaluate(
          ([x, y]) =>
            (
              document
                .getElementById('switchboard-widget')!
                .shadowRoot!.elementFromPoint(x!, y!) as HTMLElement
            )
              ?.closest('[data-sb]')
              ?.getAttribute('data-sb'),
          [box.x + box.width / 2, box.y + box.height / 2],
        );
        expect(hit, `${name} at ${size}`).to.equal(name);
      }
      await w(page, 'input').focus();
      await page.keyboard.press('Escape');
      expect(await w(page, 'panel').isHidden()).to.equal(true);
      expect(await focused(page), size).to.equal('launcher');
      expect(await w(page, 'launcher').isVisible()).to.equal(true);
    }
  });

  it("moves above a phone's on-screen keyboard: the message box and the close button stay in sight", async () => {
    const page = await open({ width: 360, height: 640 }, [RECORDER, KEYBOARD]);
    await w(page, 'launcher').click();
    await w(page, 'input').focus();
    await page.evaluate(() => (window as unknown as { __keyboard: (px: number) => void }).__keyboard(300));
    // 340 pixels are left above the keyboard.
    for (const name of ['close', 'input', 'send']) {
      const box = (await w(page, name).boundingBox())!;
      expect(box.y >= 0 && box.y + box.height <= 340, name).to.equal(true);
    }
    await page.evaluate(() => (window as unknown as { __keyboard: (px: number) => void }).__keyboard(0));
    const box = (await w(page, 'input').boundingBox())!;
    expect(box.y + box.height).to.be.greaterThan(500);
  });

  /** Every text the widget shows now, with its contrast, and those below 4.5:1. */
  const lowContrast = async (page: Page) => {
    const all = await page.evaluate(() =>
      (
        window as unknown as { __contrast: { texts(): { what: string; text: string; ratio: number }[] } }
      ).__contrast.texts(),
    );
    expect(all.length).to.be.greaterThan(3);
    return all.filter((t) => t.ratio < 4.5).map((t) => `${t.what} "${t.text}" ${t.ratio.toFixed(2)}:1`);
  };

  it('every text reaches 4.5:1 against what is behind it: a message still going, the notices, the questions, a reply, the status', async () => {
    // Not connected (the socket.io client never loads): the message stays going, the reconnecting notice shows.
    const away = await open(undefined, [RECORDER, CONTRAST]);
    await away.route('**/socket.io/socket.io.min.js', (r) => r.abort());
    await w(away, 'launcher').click();
    expect(await lowContrast(away)).to.deep.equal([]);
    await w(away, 'input').fill('Where is my parcel?');
    await w(away, 'send').click();
    await w(away, 'reconnecting').filter({ hasText: 'Reconnecting' }).waitFor();
    await away.locator('#switchboard-widget [data-sb="message"].q').waitFor();
    await w(away, 'input').fill('x'.repeat(4001));
    await w(away, 'send').click();
    await w(away, 'error').filter({ hasText: 'too long' }).waitFor();
    await w(away, 'input').fill('');
    expect(await lowContrast(away)).to.deep.equal([]);

    // Connected: the questions, the status, a reply with its author's name, the typing line.
    const ada = await agent();
    const page = await open(undefined, [RECORDER, CONTRAST]);
    await w(page, 'launcher').click();
    await w(page, 'prechat').locator('input').first().waitFor();
    expect(await lowContrast(page)).to.deep.equal([]);
    await w(page, 'input').fill('Hello');
    await w(page, 'send').click();
    await w(page, 'status').filter({ hasText: 'Ada' }).waitFor();
    await ada.reply('It left the warehouse today.');
    const [conv] = await sb().store.listConversations({ status: 'assigned' });
    await emitAck(ada.socket, 'typing', { conversationId: conv!.id, typing: true });
    await w(page, 'typing').waitFor();
    expect(await lowContrast(page)).to.deep.equal([]);
  });

  it('the focus ring stands out at 3:1 on every background it is on, and the boxes to type in have a 3:1 border', async () => {
    await agent();
    const page = await open(undefined, [RECORDER, CONTRAST]);
    await w(page, 'launcher').click();
    await w(page, 'prechat').locator('input').first().waitFor();
    // Every control, reached with the keyboard: the ring is an outline and a shadow around it; against what is
    // behind the control, one of the two reaches 3:1, and the two rings differ by 3:1 (either shows).
    const rings: string[] = [];
    const seen: string[] = [];
    // From Send, Tab reaches the launcher; then back through the chat with Shift+Tab.
    await w(page, 'send').focus();
    for (const key of ['Tab', ...Array(9).fill('Shift+Tab')]) {
      await page.keyboard.press(key);
      const ring = await page.evaluate(() => {
        const c = (window as unknown as { __contrast: Json }).__contrast;
        const el = document.getElementById('switchboard-widget')!.shadowRoot!.activeElement as HTMLElement;
        if (!el) return null;
        const cs = getComputedStyle(el);
        const bg = `rgb(${c.behind(el.parentElement).slice(0, 3).join(',')})`;
        const shadow = cs.boxShadow === 'none' ? bg : cs.boxShadow.replace(/\)\s.*$/, ')');
        const outer = c.ratio(cs.outlineColor, bg);
        const inner = c.ratio(shadow, bg);
        return {
          what: el.dataset.sb || el.getAttribute('name') || el.textContent,
          visible: el.matches(':focus-visible') && cs.outlineStyle !== 'none',
          against: Math.max(outer, inner),
          between: c.ratio(cs.outlineColor, shadow),
        };
      });
      if (!ring) continue;
      seen.push(ring.what);
      if (!ring.visible || ring.against < 3 || ring.between < 3)
        rings.push(`${ring.what}: ${JSON.stringify(ring)}`);
    }
    expect(rings).to.deep.equal([]);
    expect(seen).to.include.members(['launcher', 'send', 'input', 'attach', 'close', 'name', 'email']);
    const borders = await page.evaluate(() => {
      const c = (window as unknown as { __contrast: Json }).__contrast;
      const root = document.getElementById('switchboard-widget')!.shadowRoot!;
      return [...root.querySelectorAll<HTMLElement>('textarea, input:not([type=file])')].map((el) =>
        c.ratio(
          getComputedStyle(el).borderTopColor,
          `rgb(${c.behind(el.parentElement).slice(0, 3).join(',')})`,
        ),
      );
    });
    expect(borders).to.have.length(3);
    for (const r of borders) expect(r).to.be.at.least(3);
  });
});
