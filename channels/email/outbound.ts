// Outbound email: every `message.sent` on the email channel (agent replies and the
// wait acknowledgement) goes out through the SMTP relay, threaded so the
// customer's mail client keeps it with their mail. Failures are retried with
// backoff; every failed attempt is shown to the agent as the message's delivery.
import type { SendMailOptions } from 'nodemailer';
import { humanDuration } from '../../routing/estimate.js';
import type { Router } from '../../routing/router.js';
import type { DomainEvent } from '../../shared/events.js';
import type { Customer, Message } from '../../shared/model.js';
import type { ContentStore } from './content.js';
import type { EmailLog } from './inbound.js';
import type { EmailSettings } from './settings.js';
import { outboundMessageId, referencesFor, replySubject } from './threading.js';

/** What the channel needs of a nodemailer transporter (tests may pass their own). */
export interface MailTransport {
  sendMail(mail: SendMailOptions): Promise<unknown>;
  close(): void;
}

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** Wait before the second try; doubles after each failure, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 30_000, maxDelayMs: 15 * 60_000 };

/** Waits `ms`, or rejects when `signal` aborts. Injected in tests, which never wait on real time. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

export interface OutboundDeps {
  router: Router;
  settings: EmailSettings;
  content: ContentStore;
  transport: MailTransport;
  log: EmailLog;
  retry?: RetryPolicy;
  sleep?: Sleep;
}

export class EmailOutbound {
  readonly #router: Router;
  readonly #settings: EmailSettings;
  readonly #content: ContentStore;
  readonly #transport: MailTransport;
  readonly #log: EmailLog;
  readonly #retry: RetryPolicy;
  readonly #sleep: Sleep;
  readonly #stop = new AbortController();
  readonly #inflight = new Set<Promise<void>>();
  readonly #unsubscribe: () => void;

  constructor(deps: OutboundDeps) {
    this.#router = deps.router;
    this.#settings = deps.settings;
    this.#content = deps.content;
    this.#transport = deps.transport;
    this.#log = deps.log;
    this.#retry = deps.retry ?? DEFAULT_RETRY;
    this.#sleep = deps.sleep ?? realSleep;
    this.#unsubscribe = this.#router.events.subscribe((event) => this.#onEvent(event));
  }

  /** Deliveries under way (sending or waiting to retry). */
  get pending(): number {
    return this.#inflight.size;
  }

  /** Resolves when every delivery under way has finished (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  /** Stop taking new replies, cut retry waits short, and wait for sends in progress. */
  async close(): Promise<void> {
    this.#unsubscribe();
    this.#stop.abort(new Error('the email channel is closing'));
    await this.idle();
    this.#transport.close();
  }

  #onEvent(event: DomainEvent): void {
    if (event.type !== 'message.sent') return;
    const m = event.message;
    if (m.channel !== 'email' || m.direction !== 'out') return;
    const job = this.deliver(m).catch((err) =>
      this.#log.warn({ err, messageId: m.id }, 'email: delivery failed unexpectedly'),
    );
    this.#inflight.add(job);
    void job.finally(() => this.#inflight.delete(job));
  }

  /** Send one stored outbound message, retrying transient failures. */
  async deliver(message: Message): Promise<void> {
    const mail = await this.compose(message);
    if ('error' in mail) {
      await this.#mark(message.id, 'failed', mail.error);
      return;
    }
    const { attempts } = this.#retry;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#transport.sendMail(mail);
        await this.#mark(message.id, 'sent');
        this.#log.info({ messageId: message.id, to: mail.to }, 'email: reply sent');
        return;
      } catch (err) {
        const reason = describe(err);
        if (isPermanent(err)) {
          await this.#mark(message.id, 'failed', `the mail server refused it: ${reason}`);
          return;
        }
        if (attempt >= attempts || this.#stop.signal.aborted) {
          await this.#mark(message.id, 'failed', `not sent after ${attempt} attempts: ${reason}`);
          return;
        }
        const delay = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** (attempt - 1));
        await this.#mark(
          message.id,
          'failed',
          `attempt ${attempt} of ${attempts} failed (${reason}); retrying in ${humanDuration(delay / 1000)}`,
        );
        try {
          await this.#sleep(delay, this.#stop.signal);
        } catch {
          await this.#mark(message.id, 'failed', `not sent: Switchboard stopped before retrying (${reason})`);
          return;
        }
      }
    }
  }

  /** The mail for one outbound message, or why there can be none. */
  async compose(message: Message): Promise<SendMailOptions | { error: string }> {
    const store = this.#router.store;
    const conversation = await store.getConversation(message.conversationId);
    if (!conversation) return { error: `conversation ${message.conversationId} does not exist` };
    const all = await store.listMessages(conversation.id);
    const at = all.findIndex((m) => m.id === message.id);
    const earlier = (at >= 0 ? all.slice(0, at) : all).filter(
      (m) => m.channel === 'email' && m.direction !== 'internal',
    );
    const lastIn = earlier.findLast((m) => m.direction === 'in');
    const kept = lastIn ? await this.#content.get(lastIn.id) : null;
    // Back to the address of their last mail (kept on the message; the content store for older messages).
    const customer = await store.getCustomer(conversation.customerId);
    const address = lastIn?.from ?? kept?.replyTo ?? customerAddress(customer);
    if (!address) return { error: 'the customer has no email address to reply to' };
    // By name when we know it, as a person writing back would (nodemailer quotes and encodes it).
    const to = customer?.name ? { name: customer.name, address } : address;

    const domain = this.#settings.domain;
    const idOf = (m: Message) =>
      m.direction === 'in' ? m.externalId : outboundMessageId(m.id, conversation.id, domain);
    const real = (id: string | undefined): id is string =>
      id !== undefined && /^<[^<>\s]+@[^<>\s]+>$/.test(id) && !id.endsWith('@switchboard.invalid>');
    const chain = [...(kept?.references ?? []), ...earlier.map(idOf)].filter(real);
    const inReplyTo = real(lastIn?.externalId) ? lastIn.externalId : undefined;
    const subject = replySubject(lastIn?.subject ?? earlier.find((m) => m.subject)?.subject);
    const automatic = message.author.type === 'system';
    return {
      from: this.#settings.from,
      to,
      subject,
      messageId: outboundMessageId(message.id, conversation.id, domain),
      ...(inReplyTo ? { inReplyTo } : {}),
      ...(chain.length > 0 ? { references: referencesFor(chain) } : {}),
      text: message.text,
      html: simpleHtml(message.text),
      // RFC 3834: our acknowledgement is automatic, so auto-responders do not answer it.
      ...(automatic
        ? { headers: { 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All' } }
        : {}),
    };
  }

  async #mark(messageId: string, state: 'sent' | 'failed', reason?: string): Promise<void> {
    try {
      await this.#router.markDelivery(messageId, state, reason);
    } catch (err) {
      this.#log.warn({ err, messageId, state }, 'email: could not record the delivery state');
    }
  }
}

/** 5xx from the server: retrying the same mail will not help. */
function isPermanent(err: unknown): boolean {
  const code = (err as { responseCode?: unknown })?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

function describe(err: unknown): string {
  const e = err as { response?: unknown; code?: unknown; message?: unknown };
  const text =
    typeof e?.response === 'string' ? e.response : typeof e?.message === 'string' ? e.message : String(err);
  const code = typeof e?.code === 'string' ? `${e.code}: ` : '';
  return `${code}${text}`.replace(/\s+/g, ' ').slice(0, 300);
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Paragraphs and line breaks, nothing else: it reads the same as the plain text. */
export function simpleHtml(text: string): string {
  const paragraphs = text
    .replace(/\r\n?/g, '\n')
    .split(/\n{2,}/)
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>\n')}</p>`);
  return `<!doctype html>\n<html><body style="font-family: sans-serif; font-size: 14px; line-height: 1.5">\n${paragraphs.join('\n')}\n</body></html>\n`;
}

/** The customer's email: their email fact when it is one of their identities, else their first email identity. */
function customerAddress(customer: Customer | null): string | null {
  if (!customer) return null;
  const emails = customer.identities.filter((i) => i.channel === 'email').map((i) => i.address);
  const fact = customer.facts.email?.value;
  return fact && emails.includes(fact) ? fact : (emails[0] ?? null);
}
