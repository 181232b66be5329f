// Real SMTP both ways on loopback: a local smtp-server sink stands in for the
// outbound relay (it records every mail and can refuse on demand), and a whole
// Switchboard runs with its SMTP listener and `/email/inbound` on port 0.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ParsedMail, simpleParser } from 'mailparser';
import nodemailer, { type Transporter } from 'nodemailer';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import type request from 'supertest';
import type { ContentStore } from '../../channels/content.js';
import type { EmailChannel } from '../../channels/email/channel.js';
import { MemoryStore } from '../../routing/store/memory.js';
import { createSwitchboard, type Switchboard } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { ManualClock } from '../../shared/clock.js';
import type { Agent, Message } from '../../shared/model.js';

export const DOMAIN = 'support.example.com';
export const SUPPORT = `support@${DOMAIN}`;
export const INBOUND_TOKEN = 'test-email-inbound-token-0123456789';
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'email');

/** A MIME fixture's bytes, with `{{NAME}}` placeholders filled in. */
export function fixture(name: string, values: Record<string, string> = {}): Buffer {
  let raw = readFileSync(join(FIXTURES, name));
  for (const [k, v] of Object.entries(values)) {
    raw = Buffer.from(raw.toString('latin1').replaceAll(`{{${k}}}`, v), 'latin1');
  }
  return raw;
}

export interface SinkMail {
  envelope: { from: string; to: string[] };
  raw: Buffer;
  mail: ParsedMail;
}

export interface Sink {
  port: number;
  mails: SinkMail[];
  /** Refuse the next DATA transactions with this reply (one entry per transaction). */
  refuse(...replies: Array<{ code: number; message: string }>): void;
  /** The next mail not yet taken, waiting for it up to `timeoutMs`. */
  next(timeoutMs?: number): Promise<SinkMail>;
  close(): Promise<void>;
}

/** A sink for the enclosing `describe`: started before its first test, closed after its last. */
export function useSink(): () => Sink {
  let sink: Sink | null = null;
  before(async () => {
    sink = await startSink();
  });
  after(async () => {
    await sink?.close();
  });
  return () => {
    if (!sink) throw new Error('useSink: no sink outside its describe');
    return sink;
  };
}

/**
 * The environment that turns email on for a harness (`useHarness({env})`): the inbound token, the address
 * replies come from, and `extra`; SMTP_URL is the sink's, read when the harness starts (the sink is up by then).
 */
export function emailEnv(sink: () => Sink, extra: Record<string, string> = {}): Record<string, string> {
  return Object.defineProperty(
    { EMAIL_INBOUND_TOKEN: INBOUND_TOKEN, EMAIL_FROM: SUPPORT, ...extra },
    'SMTP_URL',
    {
      enumerable: true,
      get: () => `smtp://127.0.0.1:${sink().port}`,
    },
  );
}

/** The outbound relay stand-in: an smtp-server on 127.0.0.1, port 0. */
export async function startSink(): Promise<Sink> {
  const mails: SinkMail[] = [];
  const refusals: Array<{ code: number; message: string }> = [];
  const waiters: Array<() => void> = [];
  let taken = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    disableReverseLookup: true,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const refusal = refusals.shift();
        if (refusal) {
          callback(Object.assign(new Error(refusal.message), { responseCode: refusal.code }));
          return;
        }
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then((mail) => {
          const from = session.envelope.mailFrom;
          mails.push({
            envelope: { from: from ? from.address : '', to: session.envelope.rcptTo.map((r) => r.address) },
            raw,
            mail,
          });
          for (const w of waiters.splice(0)) w();
          callback(null, 'OK: stored by the sink');
        }, callback);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    refuse: (...replies) => refusals.push(...replies),
    next(timeoutMs = 3000) {
      return new Promise<SinkMail>((resolve, reject) => {
        const look = () => {
          if (taken < mails.length) {
            resolve(mails[taken++]!);
            return true;
          }
          return false;
        };
        if (look()) return;
        const timer = setTimeout(
          () => reject(new Error(`the sink got no mail within ${timeoutMs} ms`)),
          timeoutMs,
        );
        const waiter = () => {
          if (look()) clearTimeout(timer);
          else waiters.push(waiter);
        };
        waiters.push(waiter);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface EmailHarness {
  sb: Switchboard;
  email: EmailChannel;
  store: MemoryStore;
  clock: ManualClock;
  sink: Sink;
  url: string;
  /** A customer's mail client: nodemailer sending to the built-in SMTP listener. */
  customer: Transporter;
  agent(name: string, status?: Agent['status']): Promise<Agent>;
  /** Every reply in progress has been sent (or has failed). */
  settle(): Promise<void>;
  /** The stored inbound message for a Message-ID. */
  inbound(messageId: string): Promise<Message>;
  close(): Promise<void>;
}

export async function startEmailHarness(
  env: Record<string, string> = {},
  content?: ContentStore,
): Promise<EmailHarness> {
  const sink = await startSink();
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_TOKEN: 'test-admin-token-0123456789',
    TOKEN_SECRET: 'test-token-secret-0123456789-abcdefghijklmnop',
    LOG_LEVEL: 'silent',
    DEMO_AGENTS: 'off',
    EMAIL_INBOUND_TOKEN: INBOUND_TOKEN,
    SMTP_LISTEN_PORT: '0',
    SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    EMAIL_FROM: `Support Team <${SUPPORT}>`,
    EMAIL_ADDRESSES: `${SUPPORT},help@${DOMAIN}`,
    // Its agents work without a console of theirs (the specs act for them): never set away for having none.
    ROUTING_POLICY: JSON.stringify({ consoleAwaySeconds: 0 }),
    ...env,
  });
  const store = new MemoryStore();
  const clock = new ManualClock();
  const sb = createSwitchboard({
    config,
    logger: pino({ level: 'silent' }),
    store,
    clock,
    ...(content ? { emailContent: content } : {}),
  });
  const port = await sb.listen(0, '127.0.0.1');
  const email = sb.email!;
  const customer = nodemailer.createTransport({
    host: '127.0.0.1',
    port: email.smtpPort!,
    secure: false,
    ignoreTLS: true,
  });
  return {
    sb,
    email,
    store,
    clock,
    sink,
    url: `http://127.0.0.1:${port}`,
    customer,
    async agent(name, status = 'available') {
      const agent = await sb.router.createAgent({ name, status });
      clock.advance(1000);
      return agent;
    },
    settle: () => email.outbound.idle(),
    async inbound(messageId) {
      const m = await store.findMessageByExternalId('email', messageId);
      if (!m) throw new Error(`no stored email ${messageId}`);
      return m;
    },
    async close() {
      customer.close();
      await sb.close();
      await sink.close();
    },
  };
}

/** A mail from Lee with the given parts after its text: [file name, MIME type, bytes]. */
export function mailWith(id: string, files: Array<[string, string, Buffer]>): string {
  const parts = files.map(([name, type, bytes]) =>
    [
      '--b0undary',
      `Content-Type: ${type}; name="${name}"`,
      `Content-Disposition: attachment; filename="${name}"`,
      'Content-Transfer-Encoding: base64',
      '',
      bytes.toString('base64'),
    ].join('\r\n'),
  );
  return [
    'From: Lee Chen <lee.chen@example.com>',
    'To: support@support.example.com',
    `Message-ID: <${id}@example.com>`,
    'Subject: Photos of the damage',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b0undary"',
    '',
    '--b0undary',
    'Content-Type: text/plain; charset=UTF-8',
    '',
    'See the attached.',
    ...parts,
    '--b0undary--',
    '',
  ].join('\r\n');
}

/**
 * A mail as received by `POST /email/inbound` (the inbound token, as raw `message/rfc822`) on a server harness;
 * it must be taken (200 or 202). Answers the response's body: `{messageId, conversationId, …}`.
 */
export async function postMail(
  h: { http(): ReturnType<typeof request> },
  raw: string | Buffer,
): Promise<{ messageId: string; conversationId: string } & Record<string, unknown>> {
  const res = await h
    .http()
    .post('/email/inbound')
    .set('Authorization', `Bearer ${INBOUND_TOKEN}`)
    .set('Content-Type', 'message/rfc822')
    .send(raw);
  if (res.status !== 200 && res.status !== 202)
    throw new Error(`inbound mail answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A plain-text mail from `from` to the shop (`SUPPORT`), with Message-ID `<id@example.com>`, posted as `postMail` does. */
export async function postPlainMail(
  h: { http(): ReturnType<typeof request> },
  from: string,
  subject: string,
  body: string,
  id: string,
): Promise<{ messageId: string; conversationId: string } & Record<string, unknown>> {
  const raw = [
    `From: ${from}`,
    `To: ${SUPPORT}`,
    `Subject: ${subject}`,
    `Message-ID: <${id}@example.com>`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
    '',
  ].join('\r\n');
  return postMail(h, raw);
}
