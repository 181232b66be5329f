// "Show original": an inbound email as the customer sent it, before Switchboard
// trimmed it for the agent (quoted history, signature, disclaimer: trim.ts).
// `<PUBLIC_URL>/email/original/<token>` shows its From, To, Cc, Date and Subject,
// its whole text and its files; `…/<token>/html` its HTML part as sent.
//
// The link is signed with TOKEN_SECRET over `<message id>.<expiry>` and expires
// (ORIGINAL_LINK_DAYS after it was made): a link in a Slack thread or a new browser
// tab cannot carry a console's bearer token, and a link copied somewhere stops
// opening the mail. Consoles and the API are given a fresh one with each message
// they are shown (`show`), and Slack's Show original button one each time it is
// pressed; whoever is shown a message may read its original. A
// mail too large to keep (EMAIL_STORE_MAX_BYTES) has no link: `originalNotKept`
// says so in its place.
//
// Nothing served runs on our origin: the pages are sandboxed (no script, an opaque
// origin) and load nothing from anywhere (Content-Security-Policy); the customer's
// HTML shows its inline pictures (`cid:`, turned into `data:` URLs) and nothing remote.
import express, { type Request, type Response } from 'express';
import { type AddressObject, type EmailAddress, simpleParser } from 'mailparser';
import { z } from 'zod';
import type { Store } from '../../routing/store/store.js';
import { escapeHtml } from '../../shared/html.js';
import type { Message } from '../../shared/model.js';
import type { TokenSigner } from '../../shared/tokens.js';
import type { ContentStore } from '../content.js';
import { fail } from '../http.js';
import { parseEmail } from './parse.js';

/** An email a customer sent: the messages with an original. */
export function isInboundEmail(m: Message): boolean {
  return m.direction === 'in' && m.channel === 'email';
}

/** How long a link to an original opens it after it was made. */
export const ORIGINAL_LINK_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A message as consoles and the API show it: an inbound email's carries the link to its original (`original`),
 * or, when the mail was too large to keep (EMAIL_STORE_MAX_BYTES), says so instead (`originalNotKept`).
 */
export type ShownMessage = Message & { original?: string; originalNotKept?: OriginalNotKept };
/** Why an email has no original to show: too large to keep when it came. */
export type OriginalNotKept = 'too_large';
/** Whether a message's original is there to open: kept, too large to keep when it came, or dropped since. */
export type OriginalState = 'kept' | OriginalNotKept | 'dropped';

/** What a link's token looks like: `<message id>.<expiry, ms>.<signature>`. */
const NOT_A_LINK = 'not a link to an original email (it is cut short or altered): copy the whole link';
const OriginalToken = z
  .string()
  .max(300, { message: NOT_A_LINK })
  .regex(/^[A-Za-z0-9_-]{1,128}\.\d{1,15}\.[A-Za-z0-9_-]{43}$/, { message: NOT_A_LINK });

/** The answers a link gets other than the mail: status, code, what is wrong. */
export type LinkRefusal = { status: number; code: string; message: string };

export class OriginalLinks {
  readonly #tokens: TokenSigner;
  readonly #base: string;
  readonly #now: () => number;
  readonly #ttlMs: number;
  #content: Pick<ContentStore, 'held'> | null = null;

  /** `publicUrl`: PUBLIC_URL; `now`: the clock links expire by; `ttlMs`: how long a link opens the mail. */
  constructor(
    tokens: TokenSigner,
    publicUrl: string,
    now: () => number,
    ttlMs = ORIGINAL_LINK_DAYS * DAY_MS,
  ) {
    this.#tokens = tokens;
    this.#base = `${publicUrl.replace(/\/+$/, '')}/email/original/`;
    this.#now = now;
    this.#ttlMs = ttlMs;
  }

  /** A link to the original of the stored message `messageId`, opening it for `ttlMs` from now. */
  url(messageId: string): string {
    return this.#base + this.#tokens.sign('original', `${messageId}.${this.#now() + this.#ttlMs}`);
  }

  /** Where the mail as received is kept (the email channel's content store): told whether an original is kept. */
  keptIn(content: Pick<ContentStore, 'held'>): void {
    this.#content = content;
  }

  /**
   * Messages as a console shows them: each email a customer sent with `original`, a fresh link, or, when its
   * mail was too large to keep, `originalNotKept` instead (one read of the content store for them all).
   */
  async show<M extends Message>(
    messages: readonly M[],
  ): Promise<Array<M & Omit<ShownMessage, keyof Message>>> {
    const emails = messages.filter(isInboundEmail);
    const held = emails.length > 0 && this.#content ? await this.#content.held(emails.map((m) => m.id)) : [];
    const tooLarge = new Set(emails.filter((_, i) => held[i] === 0).map((m) => m.id));
    return messages.map((m) =>
      !isInboundEmail(m)
        ? m
        : tooLarge.has(m.id)
          ? { ...m, originalNotKept: 'too_large' as const }
          : { ...m, original: this.url(m.id) },
    );
  }

  /** Whether the original of message `messageId` is kept, was too large to keep, or was dropped since. */
  async state(messageId: string): Promise<OriginalState> {
    if (!this.#content) return 'kept';
    const [held] = await this.#content.held([messageId]);
    return held === null || held === undefined ? 'dropped' : held === 0 ? 'too_large' : 'kept';
  }

  /** The message a token names, or why it opens nothing (never throws on input). */
  read(token: unknown): { messageId: string } | LinkRefusal {
    const parsed = OriginalToken.safeParse(token);
    if (!parsed.success)
      return { status: 400, code: 'invalid_link', message: parsed.error.issues[0]?.message ?? 'not a link' };
    const signed = this.#tokens.verify('original', parsed.data);
    if (signed === null)
      return {
        status: 403,
        code: 'invalid_link',
        message: 'this link to an original email was altered or made by another Switchboard',
      };
    const dot = signed.lastIndexOf('.');
    const expires = Number(signed.slice(dot + 1));
    if (expires <= this.#now())
      return {
        status: 410,
        code: 'link_expired',
        message: `this link to an original email expired at ${new Date(expires).toISOString()}: open the message again in the console for a new one`,
      };
    return { messageId: signed.slice(0, dot) };
  }
}

export interface OriginalRouteOptions {
  links: OriginalLinks;
  store: Pick<Store, 'getMessage'>;
  content: ContentStore;
  log: { info(obj: object, msg: string): void };
}

/** What both pages answer with: sandboxed, nothing loaded but what the policy names, never sniffed or kept. */
function safeHeaders(res: Response, policy: string): void {
  res.set({
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': `sandbox allow-downloads; default-src 'none'; ${policy}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'private, no-store',
  });
}

/** `GET /original/:token` and `GET /original/:token/html`, for mounting under `/email`. */
export function originalRoute(options: OriginalRouteOptions): express.Router {
  const { links, store, content, log } = options;
  const route = express.Router();

  /** The message and its mail as received, or an answer already sent. */
  const find = async (req: Request, res: Response) => {
    const read = links.read(req.params.token);
    if (!('messageId' in read)) {
      fail(res, read.status, read.code, read.message, 'token');
      return null;
    }
    const message = await store.getMessage(read.messageId);
    if (message?.direction !== 'in' || message.channel !== 'email') {
      fail(
        res,
        404,
        'not_found',
        `message ${read.messageId} does not exist (its customer may have been erased)`,
      );
      return null;
    }
    const kept = await content.get(message.id);
    // What a reply needs only (an empty raw): the mail was larger than the whole store when it came.
    if (kept?.raw.length === 0) {
      fail(
        res,
        410,
        'gone',
        'this email was too large to keep as received (EMAIL_STORE_MAX_BYTES); what the agent was shown stays in the conversation',
      );
      return null;
    }
    if (!kept) {
      log.info({ messageId: message.id }, 'email: original asked for is not kept');
      fail(
        res,
        410,
        'gone',
        'this email as received is no longer kept: it was among the oldest, which go first once EMAIL_STORE_MAX_BYTES is reached; what the agent was shown stays in the conversation',
      );
      return null;
    }
    return { message, raw: kept.raw };
  };

  route.get('/original/:token', async (req: Request, res: Response) => {
    const found = await find(req, res);
    if (!found) return;
    const page = await originalPage(found.raw, found.message, req.params.token as string);
    safeHeaders(res, "style-src 'unsafe-inline'");
    res.send(page);
  });

  route.get('/original/:token/html', async (req: Request, res: Response) => {
    const found = await find(req, res);
    if (!found) return;
    const html = await htmlPart(found.raw);
    if (html === null) {
      fail(res, 404, 'not_found', 'this email has no HTML part: its text is the whole of it');
      return;
    }
    safeHeaders(res, "img-src data:; style-src 'unsafe-inline'; font-src data:");
    res.send(html);
  });
  return route;
}

/** Addresses as a mail program shows them: `Name <address>`, a group's members after its name. */
function addresses(value: AddressObject | AddressObject[] | undefined): string {
  const one = (a: EmailAddress): string =>
    a.group
      ? `${a.name}: ${a.group.map(one).join(', ')};`
      : a.name && a.address
        ? `${a.name} <${a.address}>`
        : (a.address ?? a.name);
  return (Array.isArray(value) ? value : value ? [value] : []).flatMap((o) => o.value.map(one)).join(', ');
}

function byteSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** The customer's HTML part, its inline pictures as `data:` URLs; null when it has none. */
async function htmlPart(raw: Buffer): Promise<string | null> {
  try {
    const mail = await simpleParser(raw, { skipTextToHtml: true, skipTextLinks: true, skipHtmlToText: true });
    return typeof mail.html === 'string' && mail.html.trim() ? mail.html : null;
  } catch {
    return null;
  }
}

/**
 * The page of an original: its headers, its whole text (the text part; without one, the HTML as text), a link to
 * the HTML as sent when it has one, and its files, linked when kept. Everything the customer wrote is escaped.
 */
export async function originalPage(raw: Buffer, message: Message, token: string): Promise<string> {
  const mail = await simpleParser(raw, {
    keepCidLinks: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    skipHtmlToText: true,
  }).catch(() => null);
  // The text as parse.ts reads it (the HTML converted where there is no text part), unless a text part is longer.
  const parsed = await parseEmail(raw).catch(() => null);
  const text = mail?.text && mail.text.length > (parsed?.text.length ?? 0) ? mail.text : (parsed?.text ?? '');
  const hasHtml = typeof mail?.html === 'string' && mail.html.trim() !== '';
  const subject = mail?.subject ?? message.subject ?? '';
  const rows: Array<[string, string]> = [
    ['From', addresses(mail?.from)],
    ['To', addresses(mail?.to)],
    ['Cc', addresses(mail?.cc)],
    ['Date', mail?.date ? mail.date.toUTCString() : ''],
    ['Subject', subject],
  ];
  const files = message.attachments.map((a) => {
    const label = `${escapeHtml(a.name)} (${escapeHtml(a.type)}, ${byteSize(a.size)})`;
    const link = a.url && /^https?:\/\//.test(a.url) ? `<a href="${escapeHtml(a.url)}">${label}</a>` : label;
    return `<li>${link}${a.url ? '' : ' — not kept: larger than EMAIL_ATTACHMENT_MAX_BYTES'}</li>`;
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Original email${subject ? `: ${escapeHtml(subject)}` : ''}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 1.5rem auto; max-width: 60rem; padding: 0 1rem; color: #1d1d1f; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0 0 1rem; }
dt { font-weight: 600; color: #555; }
dd { margin: 0; overflow-wrap: anywhere; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font: inherit; border-top: 1px solid #ccc; padding-top: 1rem; }
.note { color: #555; font-size: 13px; }
</style>
</head>
<body>
<h1>Original email</h1>
<dl data-sb="headers">
${rows
  .filter(([, v]) => v !== '')
  .map(([k, v]) => `<dt>${k}</dt><dd dir="auto">${escapeHtml(v)}</dd>`)
  .join('\n')}
</dl>
<p class="note">As received, before Switchboard left out quoted history, signatures and disclaimers.${
    hasHtml ? ` <a href="./${escapeHtml(token)}/html" data-sb="html">Show as sent (HTML)</a>` : ''
  }</p>
<pre dir="auto" data-sb="text">${escapeHtml(text)}</pre>
${files.length > 0 ? `<h2>Attachments</h2>\n<ul data-sb="attachments">\n${files.join('\n')}\n</ul>` : ''}
</body>
</html>
`;
}
