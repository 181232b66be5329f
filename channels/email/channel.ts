// The email channel: inbound (SMTP listener and `POST /email/inbound`), outbound
// (replies over SMTP_URL) and the content store, wired to one router.
import express from 'express';
import nodemailer from 'nodemailer';
import type { Router } from '../../routing/router.js';
import type { Attachment } from '../../shared/model.js';
import { type AttachmentLinks, fileRoute, forgetFiles, keptBytes } from '../attachments.js';
import { type ContentStore, type FileBytes, MemoryContentStore } from '../content.js';
import { inboundRoute } from './http.js';
import { EmailInbound, type EmailLog, type InboundResult } from './inbound.js';
import { type OriginalLinks, originalRoute } from './original.js';
import { EmailOutbound, type MailTransport, type RetryPolicy } from './outbound.js';
import type { Envelope } from './parse.js';
import type { EmailSettings } from './settings.js';
import { SmtpListener } from './smtp.js';

export interface EmailChannelOptions {
  router: Router;
  settings: EmailSettings;
  log: EmailLog & { error(obj: object, msg: string): void };
  /** Default: nodemailer over `settings.smtpUrl`. */
  transport?: MailTransport;
  content?: ContentStore;
  retry?: RetryPolicy;
  /** Signs the links to kept attachments, served at `/email/attachments/…` under `publicUrl`. */
  links?: AttachmentLinks;
  /** The bytes of a file an agent sends with a reply (chat/files.ts `bytes`); without, such a reply fails. */
  files?: FileBytes;
  /** Signs the links to inbound mail as received, served at `/email/original/…` (original.ts). */
  originals?: OriginalLinks;
}

export class EmailChannel {
  readonly settings: EmailSettings;
  readonly content: ContentStore;
  readonly inbound: EmailInbound;
  readonly outbound: EmailOutbound;
  readonly #log: EmailChannelOptions['log'];
  readonly #smtp: SmtpListener | null;
  readonly #links: AttachmentLinks | null;
  readonly #originals: OriginalLinks | null;
  readonly #store: Router['store'];

  constructor(options: EmailChannelOptions) {
    const { router, settings, log } = options;
    this.settings = settings;
    this.#originals = options.originals ?? null;
    this.#store = router.store;
    this.#log = log;
    this.content = options.content ?? new MemoryContentStore(settings.storeMaxBytes);
    // "Show original" is told whether each mail is kept (one too large to keep gets no link).
    this.#originals?.keptIn(this.content);
    this.#links = options.links ?? null;
    this.inbound = new EmailInbound({
      router,
      settings,
      content: this.content,
      log,
      ...(this.#links ? { links: this.#links } : {}),
    });
    const transport =
      options.transport ??
      nodemailer.createTransport({
        url: settings.smtpUrl,
        connectionTimeout: 15_000,
        greetingTimeout: 15_000,
        socketTimeout: 60_000,
      });
    this.outbound = new EmailOutbound({
      router,
      settings,
      content: this.content,
      transport,
      log,
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.files ? { files: options.files } : {}),
    });
    this.#smtp =
      settings.smtpListenPort === null
        ? null
        : new SmtpListener(settings, (raw, envelope) => this.receive(raw, envelope), log);
  }

  /** The bytes of an attachment a customer emailed, by its link (`FileBytes`); null when not one of ours or gone. */
  async bytes(file: Attachment): Promise<Buffer | null> {
    return this.#links ? keptBytes(this.#links, this.content, file) : null;
  }

  /** One raw message, as the listener and the HTTP route hand it over. */
  /** Forget what is kept of these messages (an erased customer's): the mail as received and its files. */
  forget(messages: ReadonlyArray<{ id: string; attachments: readonly Attachment[] }>): Promise<number> {
    const files = messages.flatMap((m) => m.attachments);
    const ids = messages.map((m) => m.id);
    return this.#links ? forgetFiles(this.#links, this.content, files, ids) : this.content.delete(ids);
  }

  receive(raw: Buffer, envelope?: Envelope): Promise<InboundResult> {
    return this.inbound.receive(raw, envelope);
  }

  /**
   * For mounting under `/email`: `POST /inbound` when EMAIL_INBOUND_TOKEN is set, `GET /attachments/…` with
   * attachment links, `GET /original/…` with links to originals; null when none.
   */
  httpRoute(): express.Router | null {
    const token = this.settings.inboundToken;
    if (token === null && !this.#links && !this.#originals) return null;
    const route = express.Router();
    if (this.#originals)
      route.use(
        originalRoute({ links: this.#originals, store: this.#store, content: this.content, log: this.#log }),
      );
    if (this.#links)
      route.use(
        fileRoute({
          path: '/attachments/:token',
          content: this.content,
          links: this.#links,
          log: this.#log,
          gone: {
            tooLarge:
              'this file was too large to keep (EMAIL_ATTACHMENT_MAX_BYTES); the customer can send it again',
            dropped:
              'this file is no longer kept: the customer’s data was erased, or it was among the oldest, which go first once EMAIL_STORE_MAX_BYTES is reached',
          },
        }),
      );
    if (token !== null)
      route.use(
        inboundRoute({
          token,
          maxBytes: this.settings.maxMessageBytes,
          receive: (raw) => this.receive(raw),
          log: this.#log,
        }),
      );
    return route;
  }

  /** Start the SMTP listener when SMTP_LISTEN_PORT is set; resolves with its port (null without one). */
  async start(host?: string): Promise<number | null> {
    if (!this.#smtp) return null;
    const port = await this.#smtp.listen(host);
    this.#log.info(
      { port },
      `email: SMTP listener on port ${port} for ${this.settings.addresses.join(', ')}`,
    );
    return port;
  }

  /** The SMTP listener's port while it listens. */
  get smtpPort(): number | null {
    return this.#smtp?.port ?? null;
  }

  /** Stop the listener, then let sends in progress finish (retries wait in the store for the next process). */
  async close(): Promise<void> {
    await this.#smtp?.close();
    await this.outbound.close();
  }
}
