// A Switchboard of its own for a browser test, with email on: the outbound relay is a local SMTP sink (what was
// sent is read back from it), inbound mail comes by POST /email/inbound.
import { pino } from 'pino';
import type { Browser } from 'playwright-core';
import { createSwitchboard, type Switchboard } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { INBOUND_TOKEN, type Sink, SUPPORT, startSink } from '../channels/email-harness.js';
import { launchChromium } from '../support/chromium.js';

export interface EmailServer {
  sb: Switchboard;
  sink: Sink;
  base: string;
  close(): Promise<void>;
}

/** Listening on 127.0.0.1 (a free port); `name` makes its secrets its own. */
export async function startEmailServer(name: string): Promise<EmailServer> {
  const sink = await startSink();
  const config = loadConfig({
    ADMIN_TOKEN: `e2e-${name}-admin-token-0123456789`,
    TOKEN_SECRET: `e2e-${name}-token-secret-0123456789-0123456789`,
    DEMO_AGENTS: 'off',
    EMAIL_INBOUND_TOKEN: INBOUND_TOKEN,
    EMAIL_FROM: SUPPORT,
    SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
  });
  const sb = createSwitchboard({ config, logger: pino({ level: 'silent' }) });
  const port = await sb.listen(0, '127.0.0.1');
  return {
    sb,
    sink,
    base: `http://127.0.0.1:${port}`,
    async close() {
      await sb.close();
      await sink.close();
    },
  };
}

/**
 * For the enclosing `describe`: a server with email on and a Chromium, started before its first test and closed
 * after its last; their fields are set once it runs.
 */
export function useEmailServer(name: string): EmailServer & { browser: Browser } {
  const ctx = {} as EmailServer & { browser: Browser };
  let server: EmailServer | null = null;
  before(async () => {
    server = await startEmailServer(name);
    Object.assign(ctx, server, { browser: await launchChromium() });
  });
  after(async () => {
    await ctx.browser?.close();
    await server?.close();
  });
  return ctx;
}
