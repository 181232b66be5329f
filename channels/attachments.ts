// Files customers send, opened from the consoles and the widget: an email's
// kept attachments (`<PUBLIC_URL>/email/attachments/<token>`) and a chat
// visitor's uploads (`<PUBLIC_URL>/chat/files/<token>`). Each token is signed
// with TOKEN_SECRET over `<entry id>:<index>` (shared/tokens.ts), so any process
// can check it and nobody can guess another file's link. The bytes come from a
// content store (in Redis with REDIS_URL: any process serves them).
//
// What is served cannot run on our origin: every answer is sandboxed
// (Content-Security-Policy), never sniffed, and only types a browser shows
// without running anything (pictures, plain text) open in the browser;
// everything else (PDF too: Chromium will not show one in a sandbox) downloads.
import express, { type Request, type Response } from 'express';
import type { Attachment } from '../shared/model.js';
import type { TokenPurpose, TokenSigner } from '../shared/tokens.js';
import type { ContentStore } from './content.js';
import { fail } from './http.js';

/** Shown in the browser (`inline`); any other type is downloaded. SVG is left out: it can carry script. */
const INLINE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'text/plain']);

export interface LinkLog {
  info(obj: object, msg: string): void;
}

export class AttachmentLinks {
  readonly #tokens: TokenSigner;
  readonly #base: string;
  readonly #purpose: TokenPurpose;
  readonly #path: string;

  /**
   * `publicUrl`: where customers and agents reach Switchboard (PUBLIC_URL); `path`: where the files are
   * served under it; `purpose`: what the tokens are signed for (a token of one kind opens nothing of another).
   */
  constructor(
    tokens: TokenSigner,
    publicUrl: string,
    path = '/email/attachments/',
    purpose: TokenPurpose = 'attachment',
  ) {
    this.#tokens = tokens;
    this.#base = `${publicUrl.replace(/\/+$/, '')}${path}`;
    this.#purpose = purpose;
    this.#path = path;
  }

  /** The token in a link of this kind (whatever host it was made for), or null for another link. */
  tokenOf(url: string | undefined): string | null {
    if (!url || !URL.canParse(url)) return null;
    const { pathname } = new URL(url);
    const token = pathname.startsWith(this.#path) ? pathname.slice(this.#path.length) : '';
    return token && !token.includes('/') ? token : null;
  }

  url(entryId: string, index: number): string {
    return this.#base + this.#tokens.sign(this.#purpose, `${entryId}:${index}`);
  }

  /** The file a token names, or null for anything not signed by us for this kind. */
  parse(token: unknown): { entryId: string; index: number } | null {
    const id = this.#tokens.verify(this.#purpose, token);
    const m = id === null ? null : /^(.+):(\d{1,4})$/.exec(id);
    return m ? { entryId: m[1]!, index: Number(m[2]) } : null;
  }
}

/** The bytes of a kept file by its link (a `FileBytes`): null when the link is not one of `links`' kind or it is gone. */
export async function keptBytes(
  links: AttachmentLinks,
  content: ContentStore,
  file: Attachment,
): Promise<Buffer | null> {
  const at = links.parse(links.tokenOf(file.url));
  if (!at) return null;
  return (await content.get(at.entryId))?.attachments[at.index]?.content ?? null;
}

/**
 * Forget the kept files these attachments link to (links of another kind are passed over) and the entries
 * `entryIds` (an email's own content, by its message id): how many entries were kept.
 */
export function forgetFiles(
  links: AttachmentLinks,
  content: ContentStore,
  files: readonly Attachment[],
  entryIds: readonly string[] = [],
): Promise<number> {
  const ids = new Set(entryIds);
  for (const file of files) {
    const at = links.parse(links.tokenOf(file.url));
    if (at) ids.add(at.entryId);
  }
  return content.delete([...ids]);
}

export interface FileRouteOptions {
  /** The route's path, with `:token`: `/attachments/:token` under `/email`. */
  path: string;
  content: ContentStore;
  links: AttachmentLinks;
  log: LinkLog;
  /** What a 410 says: the file was too large to keep; it is no longer kept. */
  gone: { tooLarge: string; dropped: string };
}

/** `GET <path>`: the file a signed link names, from the content store. */
export function fileRoute(options: FileRouteOptions): express.Router {
  const { content, links, log, gone } = options;
  const route = express.Router();
  route.get(options.path, async (req: Request, res: Response) => {
    const at = links.parse(req.params.token);
    if (!at) {
      fail(res, 404, 'not_found', 'no such file');
      return;
    }
    const kept = await content.get(at.entryId);
    const file = kept?.attachments[at.index];
    if (!file?.content) {
      log.info({ entryId: at.entryId, index: at.index }, 'file asked for is not kept');
      fail(res, 410, 'gone', kept && file ? gone.tooLarge : gone.dropped);
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
      // A picture shows in the widget, on the website that embeds it.
      'Cross-Origin-Resource-Policy': 'cross-origin',
      'Cache-Control': 'private, max-age=3600',
    });
    res.end(file.content);
  });
  return route;
}
