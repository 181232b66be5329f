// Inbound email, a thin edge: parse the raw message, drop echoes and robots,
// find the thread, normalize to one Contact and hand it to the router. Both the
// SMTP listener and `POST /email/inbound` end here.

import { ownerWaitSentence, placeKeptSentence, waitSentence } from '../../routing/policy.js';
import type { ContactOutcome, ContactResult, Router } from '../../routing/router.js';
import { BlockedError } from '../../shared/errors.js';
import { ID_PREFIX, newId } from '../../shared/ids.js';
import { type Attachment, type Contact, showsText } from '../../shared/model.js';
import type { AttachmentLinks } from '../attachments.js';
import { type ContentStore, type EmailContent, entryBytes } from '../content.js';
import type { AutomatedKind } from './automated.js';
import { type Envelope, type ParsedEmail, parseEmail } from './parse.js';
import type { EmailSettings } from './settings.js';
import { isOurAddress, parseOwnMessageId, plusTag } from './threading.js';
import { newText } from './trim.js';

export interface EmailLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export type InboundResult =
  | {
      status: 'accepted';
      /** The stored message's id. */
      messageId: string;
      conversationId: string;
      created: boolean;
      outcome: ContactOutcome['type'];
    }
  | { status: 'duplicate'; messageId: string; conversationId: string }
  | { status: 'ignored'; kind: AutomatedKind | 'echo' | 'blocked' | 'empty'; reason: string };

export interface InboundDeps {
  router: Router;
  settings: EmailSettings;
  content: ContentStore;
  log: EmailLog;
  /** Links to the kept attachments (their `url`); without, they are listed by name only. */
  links?: AttachmentLinks;
}

export class EmailInbound {
  readonly #router: Router;
  readonly #settings: EmailSettings;
  readonly #content: ContentStore;
  readonly #log: EmailLog;
  readonly #ours: string[];
  readonly #links: AttachmentLinks | null;

  constructor(deps: InboundDeps) {
    this.#router = deps.router;
    this.#settings = deps.settings;
    this.#content = deps.content;
    this.#log = deps.log;
    this.#ours = [...new Set([deps.settings.fromAddress, ...deps.settings.addresses])];
    this.#links = deps.links ?? null;
  }

  /** One raw message, from the SMTP listener (with its envelope) or the HTTP route. Throws ValidationError on bad input. */
  async receive(raw: Buffer, envelope?: Envelope): Promise<InboundResult> {
    const email = await parseEmail(raw, envelope);
    const domain = this.#settings.domain;

    // Our own mail coming back (a relay that copies us, a misrouted alias): drop it.
    if (isOurAddress(email.from.address, this.#ours) || parseOwnMessageId(email.messageId, domain)) {
      this.#log.info({ messageId: email.messageId }, 'email: ignored our own message');
      return { status: 'ignored', kind: 'echo', reason: `from our own address ${email.from.address}` };
    }
    if (email.automated) {
      if (email.automated.kind === 'bounce') await this.#bounced(raw, email);
      this.#log.info(
        { messageId: email.messageId, kind: email.automated.kind, reason: email.automated.reason },
        'email: automated mail ignored (no conversation, no reply)',
      );
      return { status: 'ignored', ...email.automated };
    }
    // Nothing in it (no subject, no text, no file): sent by mistake, with nothing to answer.
    if (!showsText(email.subject ?? '') && !showsText(email.text) && email.attachments.length === 0) {
      this.#log.info({ messageId: email.messageId }, 'email: empty mail ignored');
      return { status: 'ignored', kind: 'empty', reason: 'no subject, no text and no file' };
    }

    const conversationId = await this.#thread(email, envelope);
    // The message's id is drawn here: the links to its kept attachments name it.
    const messageId = newId(ID_PREFIX.message);
    const kept = (size: number) => size <= this.#settings.maxAttachmentBytes;
    const content: EmailContent = {
      raw,
      messageId: email.messageId,
      // Where they asked replies to go (Reply-To), else where they wrote from.
      replyTo: email.replyTo ?? email.from.address,
      references: [...email.references, ...email.inReplyTo.filter((id) => !email.references.includes(id))],
      attachments: email.attachments.map((a) => ({
        name: a.name,
        type: a.type,
        size: a.size,
        content: kept(a.size) ? a.content : null,
      })),
    };
    // A mail larger than the whole store (EMAIL_STORE_MAX_BYTES) cannot be kept as received: what a reply needs
    // is kept instead, with no bytes, before the message is stored, so that whoever is shown the message is told
    // its original was too large to keep rather than given a link that opens nothing (its files too).
    const tooLarge = entryBytes(content) > this.#content.maxBytes;
    const keptAs = tooLarge ? addressingOnly(content) : content;
    if (tooLarge) await this.#content.put(messageId, keptAs);
    // Links to the files kept (none of a mail too large to keep).
    const attachments: Attachment[] = email.attachments.map(({ name, type, size }, i) => ({
      name,
      type,
      size,
      ...(this.#links && kept(size) && !tooLarge ? { url: this.#links.url(messageId, i) } : {}),
    }));
    // The address it was sent to (the envelope's, else the headers' first): its entry point (policy `entryPoints`).
    const to = envelope?.rcptTo?.[0] ?? email.recipients[0];
    const result = await this.#contact({
      messageId,
      channel: 'email',
      from: email.from.address,
      ...(to ? { to } : {}),
      ...(email.from.name ? { name: email.from.name } : {}),
      ...(email.subject !== undefined ? { subject: email.subject } : {}),
      text: newText(email.text, email.subject),
      attachments,
      externalId: email.messageId,
      ...((email.inReplyTo[0] ?? email.references.at(-1))
        ? { threadRef: (email.inReplyTo[0] ?? email.references.at(-1))!.slice(0, 2000) }
        : {}),
      ...(conversationId ? { conversationId } : {}),
    });
    if (result === 'blocked') {
      if (tooLarge) await this.#content.delete([messageId]);
      this.#log.info(
        { messageId: email.messageId },
        'email: from a blocked customer; not stored, not answered',
      );
      return { status: 'ignored', kind: 'blocked', reason: 'the sender is a blocked customer' };
    }
    // Kept under the stored message's id; a repeated delivery keeps it again (the first may have been
    // answered with an error after its message was stored: the store was briefly away).
    if (!tooLarge || result.message.id !== messageId) await this.#content.put(result.message.id, keptAs);
    if (tooLarge && result.message.id !== messageId) await this.#content.delete([messageId]);
    // A repeated delivery still waiting is told so, unless the first was (once per wait: the store keeps one).
    const ack = await this.#acknowledgement(await this.#router.outcomeToTell(result));
    if (ack) await this.#router.acknowledgeWait(result.conversation.id, ack, { channel: 'email' });
    if (result.outcome.type === 'duplicate') {
      return { status: 'duplicate', messageId: result.message.id, conversationId: result.conversation.id };
    }

    return {
      status: 'accepted',
      messageId: result.message.id,
      conversationId: result.conversation.id,
      created: result.created,
      outcome: result.outcome.type,
    };
  }

  /** The router's `contact`, or 'blocked' when the sender is a blocked customer (nothing was stored). */
  async #contact(contact: Contact): Promise<ContactResult | 'blocked'> {
    try {
      return await this.#router.contact(contact);
    } catch (err) {
      if (err instanceof BlockedError) return 'blocked';
      throw err;
    }
  }

  /**
   * The conversation the mail replies to: In-Reply-To, then References (latest first), matching our
   * Message-IDs or the customer's earlier mail; then a `local+<conversation id>@` recipient. The router
   * takes it only when it is this customer's open conversation.
   */
  async #thread(email: ParsedEmail, envelope?: Envelope): Promise<string | null> {
    const store = this.#router.store;
    for (const ref of [...email.inReplyTo, ...[...email.references].reverse()]) {
      const own = parseOwnMessageId(ref, this.#settings.domain);
      if (own) {
        if (await store.getConversation(own.conversationId)) return own.conversationId;
        continue;
      }
      const earlier = await store.findMessageByExternalId('email', ref);
      if (earlier) return earlier.conversationId;
    }
    for (const to of [...(envelope?.rcptTo ?? []), ...email.recipients]) {
      const tagged = plusTag(to, this.#ours);
      if (tagged && (await store.getConversation(tagged))) return tagged;
    }
    return null;
  }

  /** The one sentence a waiting customer gets: position and a pessimistic wait. */
  async #acknowledgement(outcome: ContactOutcome): Promise<string | null> {
    const texts = this.#router.policy.texts;
    if (outcome.type === 'queued') {
      // Back soon after giving up a wait: they keep their place, and are told so.
      const kept = placeKeptSentence(this.#router.policy, outcome);
      return `${texts.greeting} ${kept ? `${kept} ` : ''}${waitSentence(this.#router.policy, outcome)}`;
    }
    if (outcome.type === 'waiting_for_owner') {
      const owner = await this.#router.store.getAgent(outcome.ownerId);
      const seconds = Math.max(60, (outcome.until - this.#router.clock.now()) / 1000);
      return `${texts.greeting} ${ownerWaitSentence(this.#router.policy, owner, seconds)}`;
    }
    return null;
  }

  /** A bounce of one of our replies: that reply is marked failed, so the agent sees it. */
  async #bounced(raw: Buffer, email: ParsedEmail): Promise<void> {
    const domain = this.#settings.domain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const mentioned = raw.toString('latin1').match(new RegExp(`<sb\\.[^<>\\s@]+@${domain}>`, 'gi')) ?? [];
    const diagnostic =
      /diagnostic-code:\s*(?:smtp;\s*)?([^\n]{1,300})/i.exec(email.text)?.[1]?.trim() ??
      email.subject ??
      'returned by the recipient’s mail server';
    for (const id of new Set(mentioned)) {
      const own = parseOwnMessageId(id, this.#settings.domain);
      if (!own) continue;
      const message = await this.#router.store.getMessage(own.messageId);
      if (message?.direction !== 'out' || message.conversationId !== own.conversationId) continue;
      if (message.delivery.state === 'failed' && message.delivery.reason?.startsWith('bounced')) continue;
      await this.#router.markDelivery(message.id, 'failed', `bounced: ${diagnostic}`.slice(0, 1000));
    }
  }
}

/** What a reply needs of a mail, without its bytes: kept for one too large to keep as received. */
function addressingOnly(content: EmailContent): EmailContent {
  return {
    ...content,
    raw: Buffer.alloc(0),
    attachments: content.attachments.map((a) => ({ ...a, content: null })),
  };
}
