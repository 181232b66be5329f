// Email threading as mail clients expect it: our Message-IDs encode the
// conversation, replies carry In-Reply-To (the last inbound id) and References
// (the chain), and an inbound reply is matched by In-Reply-To, then References,
// then a `local+<conversation id>@` address.
import { createHash } from 'node:crypto';

/** Most ids kept in a References header: the first one and the latest ones (RFC 5322 §3.6.4). */
export const MAX_REFERENCES = 20;

const ID_PART = /^[A-Za-z0-9_-]{1,128}$/;

/** `<sb.<message id>.<conversation id>@domain>`: unique per message, and says which conversation it belongs to. */
export function outboundMessageId(messageId: string, conversationId: string, domain: string): string {
  return `<sb.${messageId}.${conversationId}@${domain}>`;
}

/** The ids inside one of our own Message-IDs, or null when it is not ours. */
export function parseOwnMessageId(
  raw: string,
  domain: string,
): { messageId: string; conversationId: string } | null {
  const m = /^<?sb\.([^.@<>\s]+)\.([^.@<>\s]+)@([^<>\s]+?)>?$/i.exec(raw.trim());
  if (!m || m[3]!.toLowerCase() !== domain.toLowerCase()) return null;
  const [messageId, conversationId] = [m[1]!, m[2]!];
  if (!ID_PART.test(messageId) || !ID_PART.test(conversationId)) return null;
  return { messageId, conversationId };
}

/** Message-IDs in a header value (`<a@b> <c@d>`, or bare ids some mailers write), in order, without repeats. */
export function messageIds(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  const joined = typeof value === 'string' ? value : value.join(' ');
  const found = joined.match(/<[^<>\s]{1,900}>/g) ?? [];
  const ids =
    found.length > 0 ? found : joined.split(/[\s,]+/).filter((t) => /^[^<>\s@]+@[^<>\s@]+$/.test(t));
  const out: string[] = [];
  for (const id of ids.map((i) => (i.startsWith('<') ? i : `<${i}>`))) if (!out.includes(id)) out.push(id);
  return out;
}

/**
 * A Message-ID fit for idempotency: the header's when it has a sane one, else one derived from the raw
 * bytes (so a forwarder posting the same mail twice still stores it once).
 */
export function inboundMessageId(header: string | undefined, raw: Buffer): string {
  const id = messageIds(header)[0];
  if (id && id.length <= 500) return id;
  const base = id ?? raw;
  return `<${createHash('sha256').update(base).digest('hex')}@switchboard.invalid>`;
}

/** References for a reply: the chain so far, ending with the message replied to; the first and the latest kept. */
export function referencesFor(chain: readonly string[]): string[] {
  const unique: string[] = [];
  for (const id of chain) if (!unique.includes(id)) unique.push(id);
  if (unique.length <= MAX_REFERENCES) return unique;
  return [unique[0]!, ...unique.slice(-(MAX_REFERENCES - 1))];
}

/** `Re: <subject>` once, however many times it was already replied to (`Re:`, `RE:`, `Aw:`, `Re[2]:`). */
export function replySubject(subject: string | undefined): string {
  const base = (subject ?? '').replace(/^\s*((re|aw|sv|antw|ref)(\[\d+\])?\s*:\s*)+/i, '').trim();
  return base ? `Re: ${base}` : 'Re: your message';
}

/** The conversation id in a `local+<id>@domain` recipient, when `local@domain` is one of ours. */
export function plusTag(address: string, ours: readonly string[]): string | null {
  const m = /^([^+@\s]+)\+([^@\s]+)@([^@\s]+)$/.exec(address.trim().toLowerCase());
  if (!m) return null;
  const base = `${m[1]}@${m[3]}`;
  if (!ours.includes(base)) return null;
  return ID_PART.test(m[2]!) ? m[2]! : null;
}

/** True when `address` is one of ours, bare or plus-tagged. */
export function isOurAddress(address: string, ours: readonly string[]): boolean {
  const a = address.trim().toLowerCase();
  if (ours.includes(a)) return true;
  const m = /^([^+@\s]+)\+[^@\s]*@([^@\s]+)$/.exec(a);
  return m !== null && ours.includes(`${m[1]}@${m[2]}`);
}
