// The built-in SMTP listener (smtp-server): accepts mail for the configured
// addresses only, refuses anything over the size limit, and hands each message to
// the inbound edge. Answers are SMTP replies a sending server understands:
// 550 for what must not be retried, 451 for what may be.
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { SwitchboardError } from '../../shared/errors.js';
import type { EmailLog, InboundResult } from './inbound.js';
import type { Envelope } from './parse.js';
import type { EmailSettings } from './settings.js';
import { isOurAddress } from './threading.js';

export type Receive = (raw: Buffer, envelope: Envelope) => Promise<InboundResult>;

const smtpError = (code: number, message: string) =>
  Object.assign(new Error(message), { responseCode: code });

export class SmtpListener {
  readonly #server: SMTPServer;
  readonly #settings: EmailSettings;
  readonly #log: EmailLog;
  readonly #ours: string[];
  #port: number | null = null;

  constructor(settings: EmailSettings, receive: Receive, log: EmailLog) {
    this.#settings = settings;
    this.#log = log;
    this.#ours = [...new Set([settings.fromAddress, ...settings.addresses])];
    this.#server = new SMTPServer({
      name: settings.domain,
      banner: 'Switchboard',
      size: settings.maxMessageBytes,
      // A receiving server (MX-style): anyone may deliver to our addresses, nobody relays.
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      // The client's host name is only informational; a DNS lookup per connection is not worth its delay.
      disableReverseLookup: true,
      maxClients: 200,
      socketTimeout: 60_000,
      closeTimeout: 5_000,
      onRcptTo: (address, _session, callback) => {
        if (isOurAddress(address.address, this.#ours)) return callback();
        callback(smtpError(550, `5.1.1 <${address.address}>: no such mailbox here`));
      },
      onData: (stream, session, callback) => {
        this.#data(stream, session, receive).then(
          (reply) => callback(null, reply),
          (err: unknown) => callback(err as Error),
        );
      },
    });
    // Before it listens, a failure to listen is `listen`'s to say (a port in use is one readable line at start).
    this.#server.on('error', (err) => {
      if (this.#port !== null) this.#log.warn({ err }, 'email: SMTP listener error');
    });
  }

  /** The bound port once listening. */
  get port(): number | null {
    return this.#port;
  }

  async listen(host?: string): Promise<number> {
    const port = this.#settings.smtpListenPort ?? 0;
    await new Promise<void>((resolve, reject) => {
      const server = this.#server.server;
      server.once('error', reject);
      this.#server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#port = (this.#server.server.address() as AddressInfo).port;
    return this.#port;
  }

  async close(): Promise<void> {
    if (this.#port === null) return;
    this.#port = null;
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #data(stream: SMTPServerDataStream, session: SMTPServerSession, receive: Receive): Promise<string> {
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      // Past the limit keep draining but stop keeping: the server answers 552 itself.
      bytes += chunk.length;
      if (bytes <= this.#settings.maxMessageBytes) chunks.push(chunk);
    }
    if (stream.sizeExceeded || bytes > this.#settings.maxMessageBytes) {
      throw smtpError(
        552,
        `5.3.4 message is larger than the ${this.#settings.maxMessageBytes} bytes accepted`,
      );
    }
    const mailFrom = session.envelope.mailFrom;
    const envelope: Envelope = {
      mailFrom: mailFrom ? mailFrom.address : '',
      rcptTo: session.envelope.rcptTo.map((r) => r.address),
    };
    try {
      const result = await receive(Buffer.concat(chunks), envelope);
      switch (result.status) {
        case 'accepted':
          return `2.0.0 OK: accepted as ${result.messageId}`;
        case 'duplicate':
          return `2.0.0 OK: already received as ${result.messageId}`;
        case 'ignored':
          return `2.0.0 OK: accepted, not answered (${result.kind})`;
      }
    } catch (err) {
      if (err instanceof SwitchboardError && err.status < 500) {
        throw smtpError(550, `5.6.0 message refused: ${err.message}`);
      }
      this.#log.warn({ err }, 'email: SMTP message could not be stored');
      throw smtpError(451, '4.3.0 temporary failure; please try again later');
    }
  }
}
