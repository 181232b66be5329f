// `POST /email/inbound`: a raw MIME message from a forwarder: as the body
// (`Content-Type: message/rfc822`: a script, a Postfix pipe), or in a form
// (`multipart/form-data`) as the field `email` (SendGrid Inbound Parse, raw mode)
// or `body-mime` (Mailgun, a route forwarding to a URL ending in `mime`). The
// token comes as `Authorization: Bearer $EMAIL_INBOUND_TOKEN`, or as the password
// of basic auth (`https://inbound:TOKEN@host/email/inbound`, for services that
// set no header), and is checked before the body is read; the body parsers are
// this route's own.
import { createHash, timingSafeEqual } from 'node:crypto';
import busboy from 'busboy';
import express, { type NextFunction, type Request, type Response } from 'express';
import { SwitchboardError, ValidationError } from '../../shared/errors.js';
import { bearerToken, fail } from '../http.js';
import type { EmailLog, InboundResult } from './inbound.js';

/** The form fields that carry the raw message: SendGrid's raw mode, Mailgun's `mime` forward. */
const FORM_FIELDS = ['email', 'body-mime'];
/** What a form may hold beside the message (SendGrid adds its headers, envelope, charsets, spam report). */
const FORM_OVERHEAD_BYTES = 256 * 1024;

export interface InboundRouteOptions {
  token: string;
  maxBytes: number;
  receive(raw: Buffer): Promise<InboundResult>;
  log: EmailLog & { error(obj: object, msg: string): void };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** True when the Authorization header carries the token (constant time). A pure function. */
export function verifyBearer(header: unknown, token: string): boolean {
  const given = bearerToken(header);
  return given !== null && timingSafeEqual(digest(given), digest(token));
}

/** True when the Authorization header is basic auth whose password is the token, any user (constant time). */
export function verifyBasic(header: unknown, token: string): boolean {
  if (typeof header !== 'string') return false;
  const encoded = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)?.[1];
  if (!encoded) return false;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && timingSafeEqual(digest(decoded.slice(colon + 1)), digest(token));
}

/**
 * The raw message of a form post (`FORM_FIELDS`), as bytes; other fields and any file are read past. Refused:
 * a form without it (400), one whose message or whole body is too large (413).
 */
function messageOfForm(req: Request, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let form: busboy.Busboy;
    try {
      form = busboy({
        headers: req.headers,
        limits: { fieldSize: maxBytes, fields: 100, files: 50, fileSize: maxBytes, parts: 200 },
      });
    } catch (err) {
      reject(new ValidationError(`the form could not be read: ${(err as Error).message}`, 'body'));
      return;
    }
    let message: Buffer | null = null;
    let failure: SwitchboardError | null = null;
    let read = 0;
    const tooLarge = () =>
      new SwitchboardError(
        'too_large',
        `the message is larger than the ${maxBytes} bytes accepted (EMAIL_MAX_BYTES)`,
        413,
      );
    req.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read > maxBytes + FORM_OVERHEAD_BYTES && !failure) {
        failure = tooLarge();
        req.unpipe(form);
        req.resume();
        reject(failure);
      }
    });
    form.on('field', (name, value, info) => {
      if (!FORM_FIELDS.includes(name) || message) return;
      if (info.valueTruncated) failure ??= tooLarge();
      else message = Buffer.from(value, 'utf8');
    });
    form.on('file', (_name, stream) => stream.resume());
    form.on('error', (err: Error) => {
      failure ??= new ValidationError(`the form could not be read: ${err.message}`, 'body');
      reject(failure);
    });
    form.on('close', () => {
      if (failure) return reject(failure);
      if (!message || message.length === 0)
        return reject(
          new ValidationError(
            `the form has no raw message: send it as the field ${FORM_FIELDS.map((f) => `"${f}"`).join(' or ')}`,
            'email',
          ),
        );
      resolve(message);
    });
    req.pipe(form);
  });
}

export function inboundRoute(options: InboundRouteOptions): express.Router {
  const route = express.Router();
  const raw = express.raw({ type: 'message/rfc822', limit: options.maxBytes });

  route.post(
    '/inbound',
    (req: Request, res: Response, next: NextFunction) => {
      const auth = req.headers.authorization;
      if (!verifyBearer(auth, options.token) && !verifyBasic(auth, options.token)) {
        res.set('WWW-Authenticate', 'Bearer realm="email", Basic realm="email"');
        fail(
          res,
          401,
          'unauthorized',
          'Authorization: Bearer <EMAIL_INBOUND_TOKEN> is required (or basic auth with it as the password)',
        );
        return;
      }
      if (req.is('multipart/form-data')) {
        messageOfForm(req, options.maxBytes).then((message) => {
          req.body = message;
          next();
        }, next);
        return;
      }
      if (!req.is('message/rfc822')) {
        fail(
          res,
          415,
          'unsupported_media_type',
          'send the raw message with Content-Type: message/rfc822, or in a multipart/form-data field "email" or "body-mime"',
        );
        return;
      }
      raw(req, res, next);
    },
    async (req: Request, res: Response) => {
      const body: unknown = req.body;
      if (!Buffer.isBuffer(body) || body.length === 0) {
        fail(res, 400, 'invalid_input', 'the body is empty; send the raw MIME message');
        return;
      }
      const result = await options.receive(body);
      switch (result.status) {
        case 'accepted':
          res.status(202).json(result);
          return;
        case 'duplicate':
          res.status(200).json(result);
          return;
        case 'ignored':
          res.status(202).json(result);
          return;
      }
    },
  );

  route.all('/inbound', (_req: Request, res: Response) => {
    res.set('Allow', 'POST');
    fail(
      res,
      405,
      'method_not_allowed',
      'POST the raw message (Content-Type: message/rfc822) to /email/inbound',
    );
  });
  route.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number };
    if (e?.type === 'entity.too.large') {
      fail(
        res,
        413,
        'too_large',
        `the message is larger than the ${options.maxBytes} bytes accepted (EMAIL_MAX_BYTES)`,
      );
      return;
    }
    if (err instanceof SwitchboardError) {
      if (err.status >= 500) options.log.error({ err }, 'email: inbound request failed');
      res.status(err.status).json({ error: err.toJSON() });
      return;
    }
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      fail(res, e.status, 'bad_request', 'the body could not be read');
      return;
    }
    options.log.error({ err }, 'email: inbound request failed');
    fail(res, 500, 'internal', 'something went wrong; the forwarder should retry');
  });
  return route;
}
