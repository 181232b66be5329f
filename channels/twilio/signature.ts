// Twilio webhook verification: a pure function over the public URL Twilio requested,
// the raw form parameters and the X-Twilio-Signature header, plus the express
// middleware that applies it (its own urlencoded parser; no global body parsers).
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import twilio from 'twilio';

/** Form parameters as Twilio posts them (a repeated key arrives as an array). */
export type TwilioParams = Record<string, string | string[]>;

/**
 * True when `signature` is Twilio's signature of `url` and `params` under `authToken`.
 * `url` must be the URL Twilio requested: PUBLIC_URL + path and query, never the
 * host this process sees (a proxy, a random test port). Never throws on input.
 */
export function verifyTwilioSignature(
  authToken: string,
  url: string,
  params: TwilioParams,
  signature: unknown,
): boolean {
  if (typeof signature !== 'string' || signature.length === 0 || signature.length > 200) return false;
  try {
    return twilio.validateRequest(authToken, signature, url, params);
  } catch {
    return false;
  }
}

/** The URL Twilio requested for this request: the configured public base plus the original path and query. */
export function publicRequestUrl(publicUrl: string, originalUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${originalUrl}`;
}

export interface WebhookOptions {
  authToken: string;
  publicUrl: string;
  log: { warn(obj: object, msg: string): void };
}

/** Answer a webhook with TwiML (no ETag: Twilio never revalidates, and every answer is fresh). */
export function sendTwiml(res: Response, twiml: string): void {
  res.status(200);
  res.setHeader('Content-Type', 'text/xml; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(twiml));
  res.end(twiml);
}

/** Raw, verified form parameters of a Twilio webhook. */
export function webhookParams(req: Request): TwilioParams {
  return (req as Request & { twilioParams: TwilioParams }).twilioParams;
}

/** The largest webhook body read (Twilio's are a few kilobytes). */
export const FORM_LIMIT = 64 * 1024;
const MAX_PARAMS = 500;

export class FormError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * Read an `application/x-www-form-urlencoded` body into its parameters (a repeated key becomes an
 * array). Any other content type reads as no parameters (its signature then fails). Throws a
 * FormError with 413 past `limit` bytes, 400 for a broken stream or too many parameters.
 */
export async function readForm(req: IncomingMessage, limit = FORM_LIMIT): Promise<TwilioParams> {
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  const isForm = type.split(';')[0]!.trim() === 'application/x-www-form-urlencoded';
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new FormError(413, 'the body is too large');
  }
  const body = await readBody(req, limit, isForm);
  const params: TwilioParams = Object.create(null);
  if (!isForm) return params;
  let count = 0;
  for (const [key, value] of new URLSearchParams(body.toString('utf8'))) {
    if (++count > MAX_PARAMS) throw new FormError(400, 'too many parameters');
    const prev = params[key];
    if (prev === undefined) params[key] = value;
    else params[key] = Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return params;
}

/**
 * The whole body (kept only when `keep`), with plain stream events: a webhook body is one or two
 * chunks, and an async iterator per request cost more than the reading. Past `limit` bytes the rest
 * is discarded and the promise rejects with 413; a stream that fails or closes early rejects with 400.
 */
function readBody(req: IncomingMessage, limit: number, keep: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (req.readableEnded) return resolve(Buffer.alloc(0)); // read already: nothing left
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const fail = (err: FormError) => {
      cleanup();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        fail(new FormError(413, 'the body is too large'));
        req.resume(); // discard the rest; the answer goes out meanwhile
        return;
      }
      if (keep) chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = () => fail(new FormError(400, 'the body could not be read'));
    const onClose = () => {
      if (!req.complete) fail(new FormError(400, 'the body could not be read'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * Middleware for every Twilio webhook: read the urlencoded form (Twilio's format; this route's own
 * parser, nothing global), then verify the signature over PUBLIC_URL + path before anything reads
 * the parameters. A missing or wrong signature gets 403 and a log line; nothing else runs.
 */
export function twilioWebhook(options: WebhookOptions): RequestHandler {
  const base = options.publicUrl.replace(/\/+$/, '');
  return async (req: Request, res: Response, next: NextFunction) => {
    let params: TwilioParams;
    try {
      params = await readForm(req);
    } catch (err) {
      const status = err instanceof FormError ? err.status : 400;
      options.log.warn({ path: req.path, status }, `twilio: webhook refused: ${(err as Error).message}`);
      res
        .status(status)
        .type('text/plain')
        .send((err as Error).message);
      return;
    }
    const url = `${base}${req.originalUrl}`; // publicRequestUrl, with the base trimmed once
    const signature = req.headers['x-twilio-signature'];
    if (!verifyTwilioSignature(options.authToken, url, params, signature)) {
      options.log.warn(
        { path: req.path, signature: signature ? 'wrong' : 'missing', ip: req.ip },
        'twilio: webhook refused: bad signature',
      );
      res.status(403).type('text/plain').send('invalid Twilio signature');
      return;
    }
    (req as Request & { twilioParams: TwilioParams }).twilioParams = params;
    next();
  };
}
