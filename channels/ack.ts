// Socket.io acks: `{ok: true, …}` or `{ok: false, error: {code, message, field?}}`.
// A handler's failure never escapes into the process.
import { logFailure, SwitchboardError } from '../shared/errors.js';

export type Ack =
  | { ok: true; [key: string]: unknown }
  | { ok: false; error: { code: string; message: string; field?: string } };

export function ackError(err: unknown): Ack {
  if (err instanceof SwitchboardError) return { ok: false, error: err.toJSON() };
  return { ok: false, error: { code: 'internal', message: 'something went wrong; please retry' } };
}

type Logger = { error(obj: object, msg: string): void; warn(obj: object, msg: string): void };
let logger: Logger | null = null;
/** Where unexpected handler failures are logged. */
export function setAckLogger(l: Logger | null): void {
  logger = l;
}

/** Run `handler` and answer through `ack` when the client asked for one. */
export function withAck(ack: unknown, handler: () => Promise<Ack>): void {
  const reply = typeof ack === 'function' ? (ack as (a: Ack) => void) : () => {};
  handler().then(reply, (err: unknown) => {
    // Failures on our side are logged with their detail; the client gets the public message (`ackError`).
    if (logger) logFailure(logger, err, 'socket handler failed');
    reply(ackError(err));
  });
}
