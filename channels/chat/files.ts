// Files sent in a conversation: a chat visitor's (a screenshot, a receipt, a
// photo of the damage, so the agent sees it instead of asking for it by email),
// and an agent's from the web console (a form, a label), to a customer on chat,
// SMS (as MMS) or email:
//
// - `POST /chat/files` takes one file's bytes (the body; `Content-Type` its type,
//   `X-File-Name` its name, URI-encoded), `Authorization: Bearer <visitor token>`
//   or `Bearer <agent console token>`. It is kept in a content store (memory, or
//   Redis with REDIS_URL so that any process serves it), and the answer is
//   `201 {file: {upload, name, type, size}}`.
// - `upload` is the sender's own handle on it, signed over who they are: the
//   widget sends it in `message` `files` (namespace.ts), the console in `reply`
//   `files` (web/namespace.ts), and only its sender can attach it. The message
//   then carries the file as an attachment whose `url` is
//   `<PUBLIC_URL>/chat/files/<token>`, opened from the consoles and the widget
//   (channels/attachments.ts: sandboxed, never sniffed), fetched by Twilio for an
//   MMS, read from the store for an email.
//
// The widget lives on other websites: the upload answers CORS for any origin (no
// cookies are involved; the visitor token is the credential).
import { randomBytes } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { isEnglish } from '../../routing/estimate.js';
import { fillText } from '../../routing/policy.js';
import { BlockedError, RateLimitedError, ValidationError } from '../../shared/errors.js';
import type { Attachment } from '../../shared/model.js';
import type { TokenSigner } from '../../shared/tokens.js';
import { AttachmentLinks, fileRoute, forgetFiles, keptBytes } from '../attachments.js';
import type { ContentStore } from '../content.js';
import { bearerToken, fail } from '../http.js';

/** Files one message may carry. */
export const CHAT_FILES_PER_MESSAGE = 5;

/** A message's `files`: `upload` handles from `POST /chat/files`. */
export const FileHandles = z
  .array(z.string().min(1).max(300))
  .max(CHAT_FILES_PER_MESSAGE, `at most ${CHAT_FILES_PER_MESSAGE} files a message`)
  .default([]);

/** The attachments `uploads` stand for (see `ChatFiles.attachments`); with files off (null), refused by name. */
export async function attachedFiles(
  files: ChatFiles | null,
  sender: Sender,
  uploads: readonly string[],
): Promise<Attachment[]> {
  if (uploads.length === 0) return [];
  if (!files) throw new ValidationError('files: files are off here (CHAT_FILE_MAX_BYTES is 0)', 'files');
  return files.attachments(sender, uploads);
}

export interface ChatFilesOptions {
  content: ContentStore;
  tokens: TokenSigner;
  /** Where visitors and agents reach Switchboard (PUBLIC_URL). */
  publicUrl: string;
  /** Largest file taken (CHAT_FILE_MAX_BYTES). */
  maxBytes: number;
  /** Uploads a visitor or agent may make in an hour. */
  perHour?: number;
  /** The agent a web console token stands for (checked against their renewed links), or null. */
  agentOf?: (token: string) => Promise<string | null>;
  /**
   * What a chat visitor is told when their file is refused, in the policy's language: its `locale` and the
   * `widgetTexts` `fileTooLarge` and `tooManyFiles` (`{max}` filled in here). Left out, and to agents, English.
   */
  visitorTexts?: { locale: string; fileTooLarge: string; tooManyFiles: string };
  /** Whether a visitor is a blocked customer (their files are refused, as their messages are). */
  visitorBlocked?: (visitorId: string) => Promise<boolean>;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

const FileName = z
  .string()
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it takes out
  .transform((s) => s.replace(/[\u0000-\u001f\u007f/\\]/g, '_').trim())
  .pipe(z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'));
const FileType = z
  .string()
  .transform((s) => s.split(';')[0]!.trim().toLowerCase())
  .pipe(z.string().regex(/^[a-z0-9][\w.+-]*\/[\w.+-]+$/, 'must be a media type such as image/png'));

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, X-File-Name',
  'Access-Control-Max-Age': '600',
};

/** Who sends a file: a chat visitor (their visitor id), an agent (their id), or a customer texting (MMS: their number). */
export type Sender = { visitor: string } | { agent: string } | { texter: string };
const senderKey = (s: Sender) =>
  'visitor' in s ? `visitor:${s.visitor}` : 'agent' in s ? `agent:${s.agent}` : `texter:${s.texter}`;

/** A file to keep that came from elsewhere (`ChatFiles.keep`): its name and type as given, and its bytes. */
export interface FileToKeep {
  name: string;
  type: string;
  content: Buffer;
}

export class ChatFiles {
  readonly links: AttachmentLinks;
  readonly #content: ContentStore;
  readonly #tokens: TokenSigner;
  readonly #maxBytes: number;
  /** What a file over the limit is told: an agent (and a file from elsewhere), and a chat visitor. */
  readonly #tooLarge: string;
  readonly #visitorTooLarge: string;
  readonly #perHour: number;
  /** What a sender over the hour's uploads is told: an agent (and a file from elsewhere), and a chat visitor. */
  readonly #tooMany: string;
  readonly #visitorTooMany: string;
  readonly #log: ChatFilesOptions['log'];
  readonly #agentOf: ChatFilesOptions['agentOf'];
  readonly #visitorBlocked: ChatFilesOptions['visitorBlocked'];
  /** Uploads per sender in the current hour. */
  readonly #spent = new Map<string, { hour: number; count: number }>();

  constructor(options: ChatFilesOptions) {
    this.#content = options.content;
    this.#tokens = options.tokens;
    this.#maxBytes = options.maxBytes;
    this.#perHour = options.perHour ?? 60;
    this.#tooLarge = `the file is larger than ${sizeText(options.maxBytes)}`;
    this.#tooMany = `at most ${this.#perHour} files an hour; try again in a while`;
    const texts = options.visitorTexts;
    this.#visitorTooLarge = texts
      ? fillText(texts.fileTooLarge, { max: sizeText(options.maxBytes, texts.locale) })
      : this.#tooLarge;
    this.#visitorTooMany = texts
      ? fillText(texts.tooManyFiles, { max: countText(this.#perHour, texts.locale) })
      : this.#tooMany;
    this.#log = options.log;
    this.#agentOf = options.agentOf;
    this.#visitorBlocked = options.visitorBlocked;
    this.links = new AttachmentLinks(options.tokens, options.publicUrl, '/chat/files/', 'file');
  }

  /** For mounting under `/chat`: `POST /files` (and its CORS preflight), `GET /files/:token`. */
  routes(): express.Router {
    const route = express.Router();
    route.options('/files', (_req, res) => {
      res.set(CORS).status(204).end();
    });
    route.post(
      '/files',
      (req: Request, res: Response, next: NextFunction) => {
        res.set(CORS);
        this.#sender(req.get('authorization'))
          .then(async (sender) => {
            // Refused before its body is read: the connection closes rather than take the rest of it.
            if (!sender) {
              res.set('Connection', 'close');
              fail(res, 401, 'unauthorized', 'Authorization: Bearer <visitor or agent token> is required');
              return;
            }
            if ('visitor' in sender && this.#visitorBlocked) {
              const blocked = await this.#visitorBlocked(sender.visitor);
              if (blocked) {
                res.set('Connection', 'close');
                const refusal = new BlockedError(sender.visitor).toJSON();
                fail(res, 403, refusal.code, refusal.message);
                return;
              }
            }
            const declared = Number(req.get('content-length'));
            if (declared > this.#maxBytes) {
              res.set('Connection', 'close');
              fail(res, 413, 'too_large', this.#tooLargeFor(sender));
              return;
            }
            res.locals.sender = sender;
            next();
          })
          .catch(next);
      },
      express.raw({ type: () => true, limit: this.#maxBytes }),
      (req: Request, res: Response, next: NextFunction) => {
        this.#upload(req, res).catch(next);
      },
      // The body parser's own refusals (a body longer than it said), answered here with CORS.
      (err: unknown, _req: Request, res: Response, next: NextFunction) => {
        const e = err as { type?: string };
        if (e?.type === 'entity.too.large') {
          fail(res, 413, 'too_large', this.#tooLargeFor(res.locals.sender as Sender));
          return;
        }
        next(err);
      },
    );
    route.use(
      fileRoute({
        path: '/files/:token',
        content: this.#content,
        links: this.links,
        log: this.#log,
        gone: {
          tooLarge: 'this file was too large to keep',
          dropped:
            'this file is no longer kept: the customer’s data was erased, or it was among the oldest, which go first once CHAT_FILES_STORE_MAX_BYTES is reached',
        },
      }),
    );
    return route;
  }

  async #upload(req: Request, res: Response): Promise<void> {
    const sender = res.locals.sender as Sender;
    let rawName: string;
    try {
      rawName = decodeURIComponent(req.get('x-file-name') ?? '');
    } catch {
      fail(res, 400, 'invalid_input', 'X-File-Name: must be URI-encoded', 'X-File-Name');
      return;
    }
    const name = FileName.safeParse(rawName);
    if (!name.success) {
      fail(res, 400, 'invalid_input', `X-File-Name: ${name.error.issues[0]!.message}`, 'X-File-Name');
      return;
    }
    const type = FileType.safeParse(req.get('content-type') ?? 'application/octet-stream');
    if (!type.success) {
      fail(res, 400, 'invalid_input', `Content-Type: ${type.error.issues[0]!.message}`, 'Content-Type');
      return;
    }
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (body.length === 0) {
      fail(res, 400, 'invalid_input', 'the file is empty', 'body');
      return;
    }
    if (!this.#spend(senderKey(sender))) {
      fail(res, 429, 'rate_limited', 'visitor' in sender ? this.#visitorTooMany : this.#tooMany);
      return;
    }
    const uploadId = await this.#put(name.data, type.data, body);
    res.status(201).json({
      file: {
        upload: this.#tokens.sign('upload', `${senderKey(sender)}:${uploadId}`),
        name: name.data,
        type: type.data,
        size: body.length,
      },
    });
  }

  /**
   * The attachments a message carries, from the `upload` handles its sender was given: refused by field
   * (`files.<i>`) when one is not theirs or no longer kept.
   */
  async attachments(sender: Sender, uploads: readonly string[]): Promise<Attachment[]> {
    const out: Attachment[] = [];
    const key = senderKey(sender);
    for (const [i, upload] of uploads.entries()) {
      const signed = this.#tokens.verify('upload', upload);
      if (!signed?.startsWith(`${key}:`))
        throw new ValidationError(`files.${i}: is not a file you uploaded`, `files.${i}`);
      const uploadId = signed.slice(key.length + 1);
      const file = (await this.#content.files(uploadId))?.[0];
      if (!file?.kept)
        throw new ValidationError(`files.${i}: is no longer kept; upload it again`, `files.${i}`);
      out.push({ name: file.name, type: file.type, size: file.size, url: this.links.url(uploadId, 0) });
    }
    return out;
  }

  /**
   * Keep a file sent from elsewhere (an agent's shared in a Slack thread, a customer's texted picture): the
   * attachment for its message.
   * `name` and `type` are checked as an upload's are; a file over CHAT_FILE_MAX_BYTES is refused.
   */
  async keep(sender: Sender, file: FileToKeep): Promise<Attachment> {
    if (file.content.length > this.#maxBytes) throw new ValidationError(this.#tooLarge, 'files');
    const name = FileName.safeParse(file.name);
    const type = FileType.safeParse(file.type);
    if (!this.#spend(senderKey(sender))) throw new RateLimitedError(this.#tooMany);
    const kept = {
      name: name.success ? name.data : 'file',
      type: type.success ? type.data : 'application/octet-stream',
      size: file.content.length,
    };
    const uploadId = await this.#put(kept.name, kept.type, file.content);
    return { ...kept, url: this.links.url(uploadId, 0) };
  }

  /** The largest file taken (CHAT_FILE_MAX_BYTES). */
  get maxBytes(): number {
    return this.#maxBytes;
  }

  async #put(name: string, type: string, content: Buffer): Promise<string> {
    const uploadId = `up_${randomBytes(12).toString('base64url')}`;
    await this.#content.put(uploadId, {
      raw: Buffer.alloc(0),
      messageId: '',
      replyTo: '',
      references: [],
      attachments: [{ name, type, size: content.length, content }],
    });
    this.#log.info({ uploadId, bytes: content.length, type }, 'chat: file kept');
    return uploadId;
  }

  /** Forget the files these attachments link to (an erased customer's): how many were kept. */
  forget(files: readonly Attachment[]): Promise<number> {
    return forgetFiles(this.links, this.#content, files);
  }

  /** The bytes of a file sent in a conversation, by its link (`FileBytes`); null when not one of ours or gone. */
  bytes(file: Attachment): Promise<Buffer | null> {
    return keptBytes(this.links, this.#content, file);
  }

  async #sender(header: string | undefined): Promise<Sender | null> {
    const token = bearerToken(header);
    if (!token) return null;
    const visitor = this.#tokens.verify('visitor', token);
    if (visitor) return { visitor };
    const agent = this.#agentOf ? await this.#agentOf(token) : null;
    return agent ? { agent } : null;
  }

  /** What a file over the limit is told: in the policy's language to a chat visitor. */
  #tooLargeFor(sender: Sender | undefined): string {
    return sender && 'visitor' in sender ? this.#visitorTooLarge : this.#tooLarge;
  }

  /** One more upload for `who` this hour: false when they are over the hour's. */
  #spend(who: string): boolean {
    const hour = Math.floor(Date.now() / 3_600_000);
    const spent = this.#spent.get(who);
    const count = spent && spent.hour === hour ? spent.count : 0;
    if (count >= this.#perHour) return false;
    this.#spent.delete(who);
    this.#spent.set(who, { hour, count: count + 1 });
    if (this.#spent.size > 50_000) this.#spent.delete(this.#spent.keys().next().value!);
    return true;
  }
}

/**
 * A byte limit as people say it: `10 MB`, `2048 bytes`; in the language of `locale` (a BCP 47 tag, the policy's)
 * when it is not English ("2,5 MB", "2048 bytes").
 */
export function sizeText(bytes: number, locale = 'en'): string {
  const mb = bytes >= 1024 * 1024;
  const n = mb ? Math.round((bytes / (1024 * 1024)) * 10) / 10 : bytes;
  if (isEnglish(locale)) return mb ? `${n} MB` : `${n} bytes`;
  return new Intl.NumberFormat(locale, {
    style: 'unit',
    unit: mb ? 'megabyte' : 'byte',
    unitDisplay: mb ? 'short' : 'long',
  }).format(n);
}

/** A count as `locale` writes it: as it always was in English (`1000`), else in that language ("1.000"). */
function countText(n: number, locale: string): string {
  return isEnglish(locale) ? String(n) : new Intl.NumberFormat(locale).format(n);
}
