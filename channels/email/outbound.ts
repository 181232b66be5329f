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
import { fillText } from '../../routing/policy.js';
import type { Router } from '../../routing/router.js';
import type { DomainEvent } from '../../shared/events.js';
import { escapeHtml } from '../../shared/html.js';
import type { Customer, Message } from '../../shared/model.js';
import type { ContentStore, FileBytes } from '../content.js';
import { Sends } from '../sends.js';
import type { EmailLog } from './inbound.js';
import { bareAddress, type EmailSettings } from './settings.js';
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
  log: EmailLog & { error(obj: object, msg: string): void };
  retry?: RetryPolicy;
  /** The bytes of the files an agent's reply carries. */
  files?: FileBytes;
}

export class EmailOutbound {
  readonly #router: Router;
  readonly #settings: EmailSettings;
  readonly #content: ContentStore;
  readonly #transport: MailTransport;
  readonly #log: EmailLog;
  readonly #retry: RetryPolicy;
  readonly #sends: Sends;
  readonly #files: FileBytes | null;
  readonly #unsubscribe: () => void;

  constructor(deps: OutboundDeps) {
    this.#router = deps.router;
    this.#settings = deps.settings;
    this.#content = deps.content;
    this.#transport = deps.transport;
    this.#log = deps.log;
    this.#retry = deps.retry ?? DEFAULT_RETRY;
    this.#files = deps.files ?? null;
    this.#sends = new Sends({
      router: this.#router,
      channels: ['email'],
      leaseMs: EMAIL_LEASE_MS,
      maxAttempts: this.#retry.attempts,
      name: 'email',
      log: deps.log,
      attempt: (message, attempt) => this.deliver(message, attempt),
    });
    this.#unsubscribe = this.#router.events.subscribe((event) => this.#onEvent(event));
  }

  /** Sends under way. */
  get pending(): number {
    return this.#sends.pending;
  }

  /** Resolves when every delivery under way has finished (tests; shutdown). */
  idle(): Promise<void> {
    return this.#sends.idle();
  }

  /** Stop taking new replies and wait for sends in progress; retries not begun stay in the store. */
  async close(): Promise<void> {
    this.#unsubscribe();
    this.#sends.close();
    await this.idle();
    this.#transport.close();
  }

  #onEvent(event: DomainEvent): void {
    if (event.type !== 'message.sent') return;
    const m = event.message;
    if (m.channel !== 'email' || m.direction !== 'out') return;
    this.#sends.start(m);
  }

  /**
   * Send attempt `attempt` of one stored outbound message (`Sends` checked it may be made). A temporary
   * failure sets the retry's time as its delivery timer; a refusal or the last attempt ends the tries.
   */
  async deliver(message: Message, attempt: number): Promise<void> {
    const { attempts } = this.#retry;
    const mail = await this.compose(message);
    if ('error' in mail) {
      await this.#sends.mark(message.id, 'failed', mail.error, attempt, null);
      return;
    }
    try {
      await this.#transport.sendMail(mail);
    } catch (err) {
      const reason = describe(err);
      // As a text's: the operator sees a relay in trouble in the log, not only the agent in the console.
      this.#log.warn({ messageId: message.id, attempt, reason }, 'email: send failed');
      if (isPermanent(err)) {
        await this.#sends.mark(message.id, 'failed', `the mail server refused it: ${reason}`, attempt, null);
      } else if (attempt >= attempts) {
        await this.#sends.mark(
          message.id,
          'failed',
          `not sent after ${attempt} attempts: ${reason}`,
          attempt,
          null,
        );
      } else {
        const delay = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** (attempt - 1));
        const why = `attempt ${attempt} of ${attempts} failed (${reason}); retrying in ${humanDuration(delay / 1000)}`;
        await this.#sends.mark(message.id, 'failed', why, attempt, this.#router.clock.now() + delay);
      }
      return;
    }
    await this.#sends.mark(message.id, 'sent', undefined, attempt, null);
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
    // Back to where their last mail asked replies to go (its Reply-To, kept with its content), else to the
    // address it came from (kept on the message); before they wrote, where the agent who started the
    // conversation wrote to.
    const customer = await store.getCustomer(conversation.customerId);
    const address =
      message.to ??
      kept?.replyTo ??
      lastIn?.from ??
      earlier.findLast((m) => m.direction === 'out' && m.to !== undefined)?.to ??
      customerAddress(customer);
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
    // A conversation an agent starts by mail has the subject they gave; the rest answers the first one.
    const first = earlier.find((m) => m.subject)?.subject;
    // A conversation that began in the chat has no mail to answer: its mails say what they are about.
    const subject =
      !first && message.subject
        ? message.subject
        : !lastIn && !first && conversation.channels[0] === 'chat'
          ? fillText(this.#router.policy.texts.chatSubject, { team: senderName(this.#settings.from) })
          : replySubject(lastIn?.subject ?? first);
    const automatic = message.author.type === 'system';
    // The files, attached: their bytes from where they are kept. An agent's that is gone stops the send (they
    // send it again); one that Switchboard's own message carries (the replies a chat visitor did not see) is
    // left out, its link still in the text.
    const attachments: NonNullable<SendMailOptions['attachments']> = [];
    for (const file of message.attachments) {
      const content = this.#files ? await this.#files(file) : null;
      if (!content && automatic) continue;
      if (!content) return { error: `the file ${file.name} is no longer kept; send it again` };
      attachments.push({ filename: file.name, contentType: file.type, content });
    }
    // An agent's reply says who wrote it ("Sam Lee (Support Team)"), from the team's address: the customer
    // knows the person who has their conversation, and replies still reach the team.
    const agent = message.author.type === 'agent' ? message.author.name?.trim() : undefined;
    const teamAddress = bareAddress(this.#settings.from);
    const from =
      agent && teamAddress
        ? { name: `${agent} (${senderName(this.#settings.from)})`, address: teamAddress }
        : this.#settings.from;
    return {
      from,
      to,
      subject,
      messageId: outboundMessageId(message.id, conversation.id, domain),
      ...(inReplyTo ? { inReplyTo } : {}),
      ...(chain.length > 0 ? { references: referencesFor(chain) } : {}),
      text: message.text,
      html: simpleHtml(message.text),
      ...(attachments.length > 0 ? { attachments } : {}),
      // RFC 3834: our acknowledgement is automatic, so auto-responders do not answer it.
      ...(automatic
        ? { headers: { 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All' } }
        : {}),
    };
  }
}

/** Who the mail is from, in words: the From's display name (`Acme Support <…>`), else its domain. */
function senderName(from: string): string {
  const named = /^\s*"?([^"<]+?)"?\s*</.exec(from)?.[1]?.trim();
  if (named) return named;
  return from.trim().replace(/^.*@/, '').replace(/>$/, '') || 'us';
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

/**
 * Paragraphs and line breaks, nothing else: it reads the same as the plain text. Each paragraph runs in the
 * direction of its own words (`dir="auto"`): a reply in Arabic or Hebrew reads right to left.
 */
export function simpleHtml(text: string): string {
  const paragraphs = text
    .replace(/\r\n?/g, '\n')
    .split(/\n{2,}/)
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => `<p dir="auto">${escapeHtml(p).replace(/\n/g, '<br>\n')}</p>`);
  return `<!doctype html>\n<html><body style="font-family: sans-serif; font-size: 14px; line-height: 1.5">\n${paragraphs.join('\n')}\n</body></html>\n`;
}

/** The customer's email: their email fact when it is one of their identities, else their first email identity. */
function customerAddress(customer: Customer | null): string | null {
  if (!customer) return null;
  const emails = customer.identities.filter((i) => i.channel === 'email').map((i) => i.address);
  const fact = customer.facts.email?.value;
  return fact && emails.includes(fact) ? fact : (emails[0] ?? null);
}
