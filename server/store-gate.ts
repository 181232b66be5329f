// While the store is unreachable, requests that need it answer 503 at once with
// the usual JSON error, before any of their work starts: nothing is half-done,
// and webhook senders (Twilio, Slack) retry later.
import type { NextFunction, Request, Response } from 'express';
import { StoreUnavailableError } from '../shared/errors.js';

export function storeGate(ready: () => boolean) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    if (ready()) {
      next();
      return;
    }
    const err = new StoreUnavailableError('Redis does not answer; retry in a moment');
    res.status(err.status).set('Retry-After', '1').json({ error: err.toJSON() });
  };
}
