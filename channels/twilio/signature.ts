// Twilio webhook verification: a pure function over the public URL Twilio requested,
// the raw form parameters and the X-Twilio-Signature header, plus the express
// middleware that applies it (its own urlencoded parser; no global body parsers).
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
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

/** Raw, verified form parameters of a Twilio webhook. */
export function webhookParams(req: Request): TwilioParams {
  return (req as Request & { twilioParams: TwilioParams }).twilioParams;
}

/**
 * Middleware for every Twilio webhook: parse the urlencoded form (Twilio's format), then verify the
 * signature over PUBLIC_URL + path before anything reads the parameters. A missing or wrong signature
 * gets 403 and a log line; nothing else runs.
 */
export function twilioWebhook(options: WebhookOptions): RequestHandler[] {
  const parse = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 500 });
  const verify = (req: Request, res: Response, next: NextFunction) => {
    const body: unknown = req.body;
    const params: TwilioParams =
      body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as TwilioParams) : {};
    const url = publicRequestUrl(options.publicUrl, req.originalUrl);
    const signature = req.get('X-Twilio-Signature');
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
  return [parse, verify];
}
