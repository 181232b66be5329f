// `POST /email/inbound`: a raw MIME message (`Content-Type: message/rfc822`) from
// a forwarder, with `Authorization: Bearer $EMAIL_INBOUND_TOKEN`. The token is
// checked before the body is read; the body parser is this route's own.
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { SwitchboardError } from '../../shared/errors.js';
import { bearerToken, fail } from '../http.js';
import type { EmailLog, InboundResult } from './inbound.js';

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

export function inboundRoute(options: InboundRouteOptions): express.Router {
  const route = express.Router();
  const raw = express.raw({ type: 'message/rfc822', limit: options.maxBytes });

  route.post(
    '/inbound',
    (req: Request, res: Response, next: NextFunction) => {
      if (!verifyBearer(req.headers.authorization, options.token)) {
        res.set('WWW-Authenticate', 'Bearer realm="email"');
        fail(res, 401, 'unauthorized', 'Authorization: Bearer <EMAIL_INBOUND_TOKEN> is required');
        return;
      }
      if (!req.is('message/rfc822')) {
        fail(res, 415, 'unsupported_media_type', 'send the raw message with Content-Type: message/rfc822');
        return;
      }
      next();
    },
    raw,
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
