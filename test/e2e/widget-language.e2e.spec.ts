// The chat widget in the team's language (policy `locale` and `widgetTexts`), in Chromium: every word it shows or
// says comes from the server, in `widget.js` as served and with `session`; the English of the defaults is word
// for word what the widget always said.
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { emitAck, type Harness, once, useHarness } from '../server/harness.js';
import { launchChromium } from '../support/chromium.js';
import { widgetPart, writeInWidget } from '../support/widget.js';

const SPANISH = {
  locale: 'es',
  widgetTexts: {
    title: 'Chatea con nosotros',
    open: 'Abrir el chat',
    close: 'Cerrar el chat',
    attach: 'Adjuntar un archivo',
    messages: 'Mensajes',
    message: 'Mensaje',
    placeholder: 'Escribe un mensaje…',
    send: 'Enviar',
    empty: '¡Hola! Escríbenos y una persona te responderá.',
    you: 'Tú',
    prechat: 'Para saber con quién hablamos (opcional):',
    name: 'Nombre',
    email: 'Correo',
    skip: 'Omitir',
    continue: 'Continuar',
    prechatLater: 'Añade tu {fields} (opcional)',
    nameWord: 'nombre',
    emailWord: 'correo',
    inLineAt: 'Eres el número {position} en la fila.',
    answerWithin: 'Una persona te responderá en unos {wait}.',
    chatting: 'Estás hablando con {agent}',
    fileNotSent: '{name} no se envió: {why}.',
    fileTooLarge: 'el archivo pesa más de {max}',
    tooManyFiles: 'como mucho {max} archivos por hora; inténtalo más tarde',
  },
};

describe('e2e: the chat widget speaks the policy’s language', function () {
  this.timeout(120_000);
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  before(async () => {
    browser = await launchChromium();
  });
  /** The pages closed before the harness's server (registered first in each describe, so run first). */
  const closePages = async () => {
    for (const c of contexts.splice(0)) await c.close().catch(() => {});
  };
  after(async () => {
    await browser?.close();
  });

  async function open(h: Harness): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    await page.goto(`${h.url}/`);
    return page;
  }
  const w = widgetPart;
  /** What the empty list of messages shows in its middle. */
  const emptyText = (page: Page) =>
    w(page, 'messages').evaluate((el) => getComputedStyle(el, '::before').content.replace(/^"|"$/g, ''));

  /**
   * Ada, with room for one chat, takes a first visitor's: the next visitor waits, quoted a time (the 90th
   * percentile of the default 480 s handle time: 1106 s, said by the widget as 19 minutes).
   */
  async function busy(h: Harness): Promise<void> {
    const { token } = await h.createAgent('Ada', { capacity: { voice: 0, sms: 0, chat: 1, email: 0 } });
    const ada = h.agentSocket(token);
    await once(ada, 'hello');
    const first = h.visitor();
    await once(first, 'session');
    expect((await emitAck(first, 'message', { text: 'first', clientMessageId: 'f1' })).ok).to.equal(true);
    await once(ada, 'assigned');
  }

  /** A message written in the open widget and taken, in line behind the first visitor. */
  const waiting = writeInWidget;

  /**
   * The widget's refusals of a file (the server's reasons): one larger than CHAT_FILE_MAX_BYTES, then one past
   * the 60 an hour a visitor may upload (the first 60 sent here straight to the server with its token).
   */
  async function refusedFiles(h: Harness, page: Page, size: number): Promise<string[]> {
    const said: string[] = [];
    await w(page, 'file').setInputFiles({
      name: 'big.bin',
      mimeType: 'application/octet-stream',
      buffer: Buffer.alloc(size, 1),
    });
    await w(page, 'error').filter({ hasText: 'big.bin' }).waitFor();
    said.push((await w(page, 'error').textContent()) ?? '');
    const token = await page.evaluate(() => localStorage.getItem('switchboard.visitorToken'));
    for (let i = 0; i < 60; i++)
      await h
        .http()
        .post('/chat/files')
        .set('Authorization', `Bearer ${token}`)
        .set('Content-Type', 'text/plain')
        .set('X-File-Name', 'n.txt')
        .send(Buffer.from('n'))
        .expect(201);
    await w(page, 'file').setInputFiles({
      name: 'one.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('1'),
    });
    await w(page, 'error').filter({ hasText: 'one.txt' }).waitFor();
    said.push((await w(page, 'error').textContent()) ?? '');
    return said;
  }

  /** The time shown under a message, and the time it was stored at written as `locale` writes it in the page. */
  async function shownTime(h: Harness, page: Page, text: string, locale: string): Promise<[string, string]> {
    const bubble = page.locator('#switchboard-widget [data-sb="message"]:not(.q)', { hasText: text });
    const time = bubble.locator('time');
    await time.waitFor();
    const [conv] = await h.store.listConversations({});
    const at = (await h.store.listMessages(conv!.id)).find((m) => m.text === text)!.at;
    const expected = await page.evaluate(
      ([t, l]) => {
        const today = new Date(t).toDateString() === new Date().toDateString();
        return new Date(t).toLocaleString(
          l,
          today ? { timeStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' },
        );
      },
      [at, locale] as const,
    );
    return [(await time.textContent()) ?? '', expected];
  }

  describe('Spanish (locale "es", widgetTexts in Spanish)', () => {
    afterEach(closePages);
    const sb = useHarness({ env: { ROUTING_POLICY: JSON.stringify(SPANISH) } });

    it('labels, questions, status and durations in Spanish from the first view, before it connects', async () => {
      const h = sb();
      await busy(h);
      const page = await open(h);
      // Before anything connects (a page view stores no visitor), the launcher has its Spanish name.
      expect(await page.evaluate(() => (window as unknown as { io?: unknown }).io)).to.equal(undefined);
      expect(await w(page, 'launcher').getAttribute('aria-label')).to.equal('Abrir el chat');
      await w(page, 'launcher').click();
      const panel = page.getByRole('dialog', { name: 'Chatea con nosotros' });
      await panel.waitFor();
      // Its language is said, so a screen reader reads it in Spanish.
      expect(
        await page.evaluate(() =>
          document
            .getElementById('switchboard-widget')
            ?.shadowRoot?.querySelector('.w')
            ?.getAttribute('lang'),
        ),
      ).to.equal('es');
      expect(await w(page, 'title').textContent()).to.equal('Chatea con nosotros');
      expect(await w(page, 'close').getAttribute('aria-label')).to.equal('Cerrar el chat');
      expect(await w(page, 'attach').getAttribute('aria-label')).to.equal('Adjuntar un archivo');
      expect(await w(page, 'input').getAttribute('placeholder')).to.equal('Escribe un mensaje…');
      expect(await page.getByRole('textbox', { name: 'Mensaje', exact: true }).count()).to.equal(1);
      expect(await w(page, 'send').textContent()).to.equal('Enviar');
      expect(await emptyText(page)).to.equal('¡Hola! Escríbenos y una persona te responderá.');
      await w(page, 'prechat').getByText('Para saber con quién hablamos (opcional):').waitFor();
      expect(await w(page, 'prechat').locator('label').allTextContents()).to.deep.equal(['Nombre', 'Correo']);
      expect(await w(page, 'prechat').locator('button').allTextContents()).to.deep.equal([
        'Continuar',
        'Omitir',
      ]);

      await waiting(page, '¿Dónde está mi pedido?');
      // The wait in Spanish words, as the policy's locale says a duration.
      await w(page, 'status')
        .filter({ hasText: 'Eres el número 1 en la fila. Una persona te responderá en unos 19 minutos.' })
        .waitFor();
      // The questions left blank fold to one line, the fields as a Spanish list.
      expect(await w(page, 'prechat-open').textContent()).to.equal('Añade tu nombre y correo (opcional)');
      expect(
        await page.getByRole('log', { name: 'Mensajes' }).getByText('Tú: ¿Dónde está mi pedido?').count(),
      ).to.equal(1);
    });
  });

  describe('Spanish, with files up to 2.5 MB', () => {
    afterEach(closePages);
    const sb = useHarness({
      env: { ROUTING_POLICY: JSON.stringify(SPANISH), CHAT_FILE_MAX_BYTES: String(2.5 * 1024 * 1024) },
    });

    it("a message's time, and the server's refusals of a file, in Spanish", async () => {
      const h = sb();
      const page = await open(h);
      await w(page, 'launcher').click();
      await waiting(page, 'Hola');
      const [time, expected] = await shownTime(h, page, 'Hola', 'es');
      expect(time).to.equal(expected);
      expect(time).to.not.match(/[AP]M/);
      expect(await refusedFiles(h, page, 2.6 * 1024 * 1024)).to.deep.equal([
        'big.bin no se envió: el archivo pesa más de 2,5 MB.',
        'one.txt no se envió: como mucho 60 archivos por hora; inténtalo más tarde.',
      ]);
    });
  });

  describe('English (the defaults)', () => {
    afterEach(closePages);
    const sb = useHarness();

    it('says word for word what it always said', async () => {
      const h = sb();
      await busy(h);
      const page = await open(h);
      expect(await w(page, 'launcher').getAttribute('aria-label')).to.equal('Open chat');
      await w(page, 'launcher').click();
      await page.getByRole('dialog', { name: 'Chat with us' }).waitFor();
      expect(await w(page, 'title').textContent()).to.equal('Chat with us');
      expect(await w(page, 'close').getAttribute('aria-label')).to.equal('Close chat');
      expect(await w(page, 'transcript').getAttribute('aria-label')).to.equal('Email me this chat');
      expect(await w(page, 'attach').getAttribute('title')).to.equal('Attach a file');
      expect(await w(page, 'input').getAttribute('placeholder')).to.equal('Write a message…');
      expect(await w(page, 'input').getAttribute('aria-label')).to.equal('Message');
      expect(await w(page, 'messages').getAttribute('aria-label')).to.equal('Messages');
      expect(await w(page, 'send').textContent()).to.equal('Send');
      expect(await emptyText(page)).to.equal('Hi! Write us a message and a person will answer.');
      await w(page, 'prechat').getByText('So we know who we are talking to (optional):').waitFor();
      expect(await w(page, 'prechat').locator('label').allTextContents()).to.deep.equal(['Name', 'Email']);
      expect(await w(page, 'prechat').locator('button').allTextContents()).to.deep.equal([
        'Continue',
        'Skip',
      ]);
      await waiting(page, 'Where is my order?');
      await w(page, 'status')
        .filter({ hasText: 'You are number 1 in line. A person will answer within about 19 minutes.' })
        .waitFor();
      expect(await w(page, 'prechat-open').textContent()).to.equal('Add your name and email (optional)');
      expect(
        await page.getByRole('log', { name: 'Messages' }).getByText('You: Where is my order?').count(),
      ).to.equal(1);
    });

    it("a message's time, and the server's refusals of a file, word for word as they always were", async () => {
      const h = sb();
      const page = await open(h);
      await w(page, 'launcher').click();
      await waiting(page, 'Hello');
      const [time, expected] = await shownTime(h, page, 'Hello', 'en-US');
      expect(time).to.equal(expected);
      expect(await refusedFiles(h, page, 10 * 1024 * 1024 + 1)).to.deep.equal([
        'big.bin was not sent: the file is larger than 10 MB.',
        'one.txt was not sent: at most 60 files an hour; try again in a while.',
      ]);
    });

    it('with nobody available and someone away, says nobody can answer right now, not that one will be free', async () => {
      const h = sb();
      // On a break: expected back, so the visitor keeps holding; nobody is busy serving anyone.
      await h.createAgent('Ada', { status: 'away' });
      const page = await open(h);
      await w(page, 'launcher').click();
      await waiting(page, 'Is anyone there?');
      await w(page, 'status').filter({ hasText: 'in line' }).waitFor();
      expect(await w(page, 'status').textContent()).to.equal(
        'You are number 1 in line. Nobody can answer right now; a person will answer as soon as someone is back.',
      );
    });
  });
});
