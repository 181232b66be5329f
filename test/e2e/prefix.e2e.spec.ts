// Switchboard reached under a path (PUBLIC_URL https://example.com/help), behind a proxy that takes the path off,
// in a real browser: the demo page and its widget, the web console and the team view load what they need and
// connect under that path, and a chat goes both ways.
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { useHarness } from '../server/harness.js';
import { useChromium } from '../support/chromium.js';

const PREFIX = '/help';

/** A reverse proxy on a free port: `/help/...` (requests and websocket upgrades) to `target` without `/help`. */
async function prefixProxy(target: string): Promise<{ url: string; close: () => void }> {
  const to = new URL(target);
  const path = (req: IncomingMessage) =>
    req.url?.startsWith(`${PREFIX}/`) ? req.url.slice(PREFIX.length) : null;
  const server: Server = createServer((req, res) => {
    const upstreamPath = path(req);
    if (upstreamPath === null) {
      res.writeHead(404).end();
      return;
    }
    const up = request(
      { host: to.hostname, port: to.port, method: req.method, path: upstreamPath, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  const open = new Set<Socket>();
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const upstreamPath = path(req);
    if (upstreamPath === null) {
      socket.destroy();
      return;
    }
    const up = connect(Number(to.port), to.hostname, () => {
      const headers = Object.entries(req.headers).flatMap(([k, v]) =>
        (Array.isArray(v) ? v : [v]).map((x) => `${k}: ${x}`),
      );
      up.write([`${req.method} ${upstreamPath} HTTP/1.1`, ...headers, '', ''].join('\r\n'));
      up.write(head);
      socket.pipe(up).pipe(socket);
    });
    open.add(up).add(socket);
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${PREFIX}`,
    close: () => {
      for (const s of open) s.destroy();
      server.close();
    },
  };
}

describe('e2e: Switchboard under a path (behind a proxy), in Chromium', function () {
  this.timeout(120_000);
  const sb = useHarness();
  const browser = useChromium();

  it('the demo page, the widget, the console and the team view all work under /help', async () => {
    const h = sb();
    const proxy = await prefixProxy(h.url);
    const { agent: ada, token } = await h.createAgent('Ada', { capacity: { chat: 1 } });
    const visitor = await browser().newPage();
    const console = await browser().newPage();
    const team = await browser().newPage();
    for (const page of [visitor, console, team])
      page.on('pageerror', (err) => {
        throw err;
      });
    try {
      // The console first: Ada is there when the visitor writes.
      await console.goto(`${proxy.url}/console?token=${encodeURIComponent(token)}`);
      const consoleEl = (name: string) => console.locator(`[data-sb="${name}"]`);
      await console
        .locator('#conn')
        .filter({ hasText: /^Connected/ })
        .waitFor();

      await visitor.goto(`${proxy.url}/`);
      const widget = (name: string) => visitor.locator(`#switchboard-widget [data-sb="${name}"]`);
      await widget('launcher').click();
      await widget('input').fill('Hello from under /help');
      await widget('send').click();

      await consoleEl('conversation-item').first().click();
      await consoleEl('message').filter({ hasText: 'Hello from under /help' }).waitFor();
      const [conv] = await h.sb.store.listConversations({});
      expect(conv?.ownerId).to.equal(ada.id);
      await consoleEl('reply-input').fill('Hi! Answered through the proxy.');
      await consoleEl('reply').click();
      await widget('message').filter({ hasText: 'Answered through the proxy' }).waitFor();

      // The team view, signed in with the admin token in its fragment, reads the API under /help.
      await team.goto(`${proxy.url}/team#token=${encodeURIComponent(h.config.adminToken)}`);
      await team.locator('[data-sb="agent-row"]').filter({ hasText: 'Ada' }).waitFor();

      // The console asked for with a trailing slash is sent to its own address, its token kept.
      const res = await fetch(`${proxy.url}/console/?token=abc`, { redirect: 'manual' });
      expect([res.status, res.headers.get('location')]).to.deep.equal([301, '../console?token=abc']);
    } finally {
      await visitor.close();
      await console.close();
      await team.close();
      proxy.close();
    }
  });
});
