// The files a customer's email brought, opened from the consoles: each kept
// attachment's `url` is `<PUBLIC_URL>/email/attachments/<token>`, the token
// signed with TOKEN_SECRET over `<message id>:<index>` (shared/tokens.ts), so
// any process can check it and nobody can guess another file's link. The bytes
// come from the content store (in Redis with REDIS_URL: any process serves them).
//
// What is served cannot run on our origin: every answer is sandboxed
// (Content-Security-Policy), never sniffed, and only types a browser shows
// without running anything (pictures, plain text) open in the browser;
// everything else (PDF too: Chromium will not show one in a sandbox) downloads.
import express, { type Request, type Response } from 'express';
import type { TokenSigner } from '../../shared/tokens.js';
import type { ContentStore } from './content.js';
import { fail } from './http.js';
import type { EmailLog } from './inbound.js';

/** Shown in the browser (`inline`); any other type is downloaded. SVG is left out: it can carry script. */
const INLINE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'text/plain']);

export class AttachmentLinks {
  readonly #tokens: TokenSigner;
  readonly #base: string;

  /** `publicUrl`: where customers and agents reach Switchboard (PUBLIC_URL). */
  constructor(tokens: TokenSigner, publicUrl: string) {
    this.#tokens = tokens;
    this.#base = `${publicUrl.replace(/\/+$/, '')}/email/attachments/`;
  }

  url(messageId: string, index: number): string {
    return this.#base + this.#tokens.sign('attachment', `${messageId}:${index}`);
  }

  /** The attachment a token names, or null for anything not signed by us. */
  parse(token: unknown): { messageId: string; index: number } | null {
    const id = this.#tokens.verify('attachment', token);
    const m = id === null ? null : /^(.+):(\d{1,4})$/.exec(id);
    return m ? { messageId: m[1]!, index: Number(m[2]) } : null;
  }
}

/** `GET /attachments/:token`, for mounting under `/email`. */
export function attachmentRoute(
  content: ContentStore,
  links: AttachmentLinks,
  log: EmailLog,
): express.Router {
  const route = express.Router();
  route.get('/attachments/:token', async (req: Request, res: Response) => {
    const at = links.parse(req.params.token);
    if (!at) {
      fail(res, 404, 'not_found', 'no such attachment');
      return;
    }
    const kept = await content.get(at.messageId);
    const file = kept?.attachments[at.index];
    if (!file?.content) {
      log.info({ messageId: at.messageId, index: at.index }, 'email: attachment asked for is not kept');
      fail(
        res,
        410,
        'gone',
        kept && file
          ? 'this file was too large to keep (EMAIL_ATTACHMENT_MAX_BYTES); the customer can send it again'
          : 'this file is no longer kept (the oldest go first once EMAIL_STORE_MAX_BYTES is reached)',
      );
      return;
    }
    const type = file.type.toLowerCase();
    const inline = INLINE.has(type);
    // express writes the file name encoded for every browser (filename and filename*); then our type.
    res.attachment(file.name);
    if (inline)
      res.set('Content-Disposition', String(res.get('Content-Disposition')).replace(/^attachment/, 'inline'));
    res.set({
      'Content-Type': inline
        ? type === 'text/plain'
          ? 'text/plain; charset=utf-8'
          : type
        : 'application/octet-stream',
      'Content-Length': String(file.content.length),
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "sandbox; default-src 'none'; img-src 'self'",
      'Cache-Control': 'private, max-age=3600',
    });
    res.end(file.content);
  });
  return route;
}
