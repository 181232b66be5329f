// Outbound email: every `message.sent` on the email channel (agent replies and the
// wait acknowledgement) goes out through the SMTP relay, threaded so the
// customer's mail client keeps it with their mail. Failures are retried with
// backoff; every failed attempt is shown to the agent as the message's delivery.
// The channel is the router's `Sender` for email: a retry waits in the store as
// the message's delivery timer (any process sends it when due, and one that
// restarts keeps its retries), and a reply whose process died before its send was
// seen to finish is sent by another.
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

/**
 * How long one send may take before another process sends the mail instead (connecting and the greeting
 * time out after 15 s each, a silent connection after 60 s).
 */
export const EMAIL_LEASE_MS = 5 * 60_000;

export interface OutboundDeps {
  router: Router;
  settings: EmailSettings;
  content: ContentStore;
  transport: MailTransport;
  log: EmailLog;
  retry?: RetryPolicy;
}

export class EmailOutbound {
  readonly #router: Router;
  readonly #settings: EmailSettings;
  readonly #content: ContentStore;
  readonly #transport: MailTransport;
  readonly #log: EmailLog;
  readonly #retry: RetryPolicy;
  #closed = false;
  readonly #inflight = new Set<Promise<void>>();
  readonly #unsubscribe: () => void;
  readonly #unregister: () => void;

  constructor(deps: OutboundDeps) {
    this.#router = deps.router;
    this.#settings = deps.settings;
    this.#content = deps.content;
    this.#transport = deps.transport;
    this.#log = deps.log;
    this.#retry = deps.retry ?? DEFAULT_RETRY;
    this.#unsubscribe = this.#router.events.subscribe((event) => this.#onEvent(event));
    this.#unregister = this.#router.registerSender(['email'], {
      leaseMs: EMAIL_LEASE_MS,
      resume: (message) => {
        if (this.#closed) return false;
        this.#track(this.deliver(message, message.delivery.attempts + 1, true));
        return true;
      },
    });
  }

  /** Sends under way. */
  get pending(): number {
    return this.#inflight.size;
  }

  /** Resolves when every delivery under way has finished (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  /** Stop taking new replies and wait for sends in progress; retries not begun stay in the store. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe();
    this.#unregister();
    await this.idle();
    this.#transport.close();
  }

  #onEvent(event: DomainEvent): void {
    if (event.type !== 'message.sent' || this.#closed) return;
    const m = event.message;
    if (m.channel !== 'email' || m.direction !== 'out') return;
    this.#track(this.deliver(m, 1));
  }

  #track(p: Promise<void>): void {
    const job = p.catch((err) => this.#log.warn({ err }, 'email: delivery failed unexpectedly'));
    this.#inflight.add(job);
    void job.finally(() => this.#inflight.delete(job));
  }

  /**
   * Send attempt `attempt` of one stored outbound message: the first as it was stored (its delivery timer
   * is the lease already), or one `resumed` when its timer came due (a retry, or a send whose process died:
   * begun in the store first, so that one process sends it). A temporary failure sets the retry's time as
   * the timer; a refusal or the last attempt ends it.
   */
  async deliver(message: Message, attempt: number, resumed = false): Promise<void> {
    const { attempts } = this.#retry;
    if (attempt > attempts) {
      await this.#mark(message.id, 'failed', `not sent after ${attempt - 1} attempts`, attempt - 1, null);
      return;
    }
    if (resumed && !(await this.#router.beginAttempt(message, attempt, EMAIL_LEASE_MS))) return;
    const mail = await this.compose(message);
    if ('error' in mail) {
      await this.#mark(message.id, 'failed', mail.error, attempt, null);
      return;
    }
    try {
      await this.#transport.sendMail(mail);
    } catch (err) {
      const reason = describe(err);
      if (isPermanent(err)) {
        await this.#mark(message.id, 'failed', `the mail server refused it: ${reason}`, attempt, null);
      } else if (attempt >= attempts) {
        await this.#mark(
          message.id,
          'failed',
          `not sent after ${attempt} attempts: ${reason}`,
          attempt,
          null,
        );
      } else {
        const delay = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** (attempt - 1));
        const why = `attempt ${attempt} of ${attempts} failed (${reason}); retrying in ${humanDuration(delay / 1000)}`;
        await this.#mark(message.id, 'failed', why, attempt, this.#router.clock.now() + delay);
      }
      return;
    }
    await this.#mark(message.id, 'sent', undefined, attempt, null);
    this.#log.info({ messageId: message.id, to: mail.to }, 'email: reply sent');
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

  async #mark(
    messageId: string,
    state: 'sent' | 'failed',
    reason: string | undefined,
    attempt: number,
    retryAt: number | null,
  ): Promise<void> {
    try {
      await this.#router.markDelivery(messageId, state, reason, { attempt, retryAt });
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
