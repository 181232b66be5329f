// The chat widget in a real browser: a returning visitor sees, after a reload, what was said in their earlier
// conversations (messages and files) above the latest one, in order, each once, under a line with its date.
import { expect } from 'chai';
import { once, useHarness } from '../server/harness.js';
import { useChromium } from '../support/chromium.js';
import { until } from '../support/cluster.js';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

describe('e2e: the chat widget shows a returning visitor their earlier conversations, in Chromium', function () {
  this.timeout(120_000);
  const sb = useHarness();
  const browser = useChromium();

  it('after a reload, the earlier conversation and its picture come back above the latest, once', async () => {
    const h = sb();
    const { agent: ada, token } = await h.createAgent('Ada', { capacity: { chat: 1 } });
    // Her console open: an agent with none is set away a minute after (`consoleAwaySeconds`), and a day passes.
    const adaConsole = h.agentSocket(token);
    await once(adaConsole, 'hello');
    const page = await browser().newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    try {
      await page.goto(`${h.url}/`);
      const widget = (name: string) => page.locator(`#switchboard-widget [data-sb="${name}"]`);
      const bubble = (text: string) =>
        page.locator('#switchboard-widget [data-sb="message"]:not(.q)', { hasText: text });
      await widget('launcher').click();
      await widget('input').fill('My parcel SE1122 has not come');
      await widget('send').click();
      await bubble('SE1122').waitFor();
      await widget('file').setInputFiles({ name: 'label.png', mimeType: 'image/png', buffer: PNG });
      await widget('attachment').locator('img[alt="label.png"]').waitFor();
      const src = await widget('attachment').locator('img[alt="label.png"]').getAttribute('src');
      expect(src).to.match(/\/chat\/files\//);
      const [first] = await h.store.listConversations({});
      // The widget shows a message once stored; Ada has it once it is routed, which may come a moment later.
      const adaOwns = (id: string) =>
        until(async () => (await h.store.getConversation(id))?.ownerId === ada.id, `Ada to own ${id}`);
      await adaOwns(first!.id);
      await h.sb.router.reply(ada.id, first!.id, 'It leaves the depot today.', 'r-1');
      await bubble('leaves the depot').waitFor();
      await h.sb.router.resolve(ada.id, first!.id);

      // The next day, they write again: a new conversation.
      h.clock.advance(24 * 3600 * 1000);
      // What a day brings is due now (the survey about the first conversation), here rather than at a later tick.
      await h.sb.router.tick();
      await bubble('How did we do?').waitFor();
      await widget('input').fill('It came, but the lid is cracked');
      await widget('send').click();
      await bubble('lid is cracked').waitFor();
      const second = (await h.store.listConversations({ limit: 1 }))[0]!;
      expect(second.id).to.not.equal(first!.id);
      await adaOwns(second.id);
      await h.sb.router.reply(ada.id, second.id, 'Sorry! A new one is on its way.', 'r-2');
      await bubble('new one is on its way').waitFor();

      await page.reload();
      await bubble('new one is on its way').waitFor();
      await bubble('SE1122').waitFor();
      const shown = async () =>
        page.evaluate(() =>
          [
            ...(document
              .querySelector('#switchboard-widget')
              ?.shadowRoot?.querySelector('[data-sb="messages"]')?.children ?? []),
          ].map((el) =>
            (el as HTMLElement).dataset.sb === 'separator'
              ? 'separator'
              : el.querySelector('img')
                ? `picture ${el.querySelector('img')!.getAttribute('alt')}`
                : // Its words, without the time shown under it.
                  [...el.childNodes]
                    .filter((n) => !(n instanceof Element && n.matches('time')))
                    .map((n) => n.textContent)
                    .join('')
                    .replace(/^You: /, ''),
          ),
        );
      const expected = [
        'separator',
        'My parcel SE1122 has not come',
        'picture label.png',
        'AdaIt leaves the depot today.',
        'How did we do? Reply with 1-5 (5 is best), then one thing we should fix.',
        'separator',
        'It came, but the lid is cracked',
        'AdaSorry! A new one is on its way.',
      ];
      expect(await shown()).to.deep.equal(expected);
      // The picture of the earlier conversation links to the same file as before the reload.
      expect(await widget('attachment').locator('img[alt="label.png"]').getAttribute('src')).to.equal(src);
      // The separator says when the earlier conversation was.
      const line = await widget('separator').first().textContent();
      expect(line).to.match(/2026/);
      // Another reload brings the same again: nothing shows twice.
      await page.reload();
      await bubble('new one is on its way').waitFor();
      await bubble('SE1122').waitFor();
      expect(await shown()).to.deep.equal(expected);
      await h.sb.router.resolve(ada.id, second.id);
    } finally {
      await page.close();
      adaConsole.disconnect();
    }
  });
});
