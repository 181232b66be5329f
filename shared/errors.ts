// Errors with stable codes. Messages name the entity and the operation; `status`
// is the HTTP status where the error reaches a client over HTTP. A failure on our
// side (status 500 and up) reaches clients with a fixed public message
// (`toJSON`): its detail (a Redis address, a key, a driver's error) is for the
// server log only.

import type { z } from 'zod';
export class SwitchboardError extends Error {
  readonly code: string;
  readonly status: number;
  readonly field: string | undefined;
  /** What a client is told instead of `message` (failures on our side; one without it gets a general line). */
  readonly publicMessage: string | undefined;
  constructor(code: string, message: string, status: number, field?: string, publicMessage?: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.field = field;
    this.publicMessage = publicMessage;
  }
  /** The error as clients see it (HTTP bodies, socket acks). */
  toJSON(): { code: string; message: string; field?: string } {
    const message =
      this.publicMessage ??
      (this.status >= 500 ? 'something went wrong on our side; please retry' : this.message);
    return this.field === undefined
      ? { code: this.code, message }
      : { code: this.code, message, field: this.field };
  }
}

/**
 * Log a failure whose detail its client is not shown (`toJSON`): an unexpected one (not a SwitchboardError)
 * as an error, one on our side (5xx) as a warning; a client's own mistake (4xx) not at all.
 */
export function logFailure(
  log: { error(obj: object, msg: string): void; warn(obj: object, msg: string): void },
  err: unknown,
  what: string,
): void {
  if (!(err instanceof SwitchboardError)) log.error({ err }, what);
  else if (err.status >= 500) log.warn({ err }, what);
}

/** The sender is a customer the team blocked: nothing they send is routed or stored. */
export class BlockedError extends SwitchboardError {
  readonly customerId: string;
  constructor(customerId: string) {
    super('blocked', `customer ${customerId} is blocked`, 403, undefined, 'this conversation is closed');
    this.customerId = customerId;
  }
}

export class NotFoundError extends SwitchboardError {
  constructor(entity: string, id: string) {
    super('not_found', `${entity} ${id} does not exist`, 404);
  }
}

export class ValidationError extends SwitchboardError {
  constructor(message: string, field?: string) {
    super('invalid_input', message, 400, field);
  }
}

export class ConflictError extends SwitchboardError {
  constructor(code: string, message: string) {
    super(code, message, 409);
  }
}

export class NotOwnerError extends SwitchboardError {
  constructor(agentId: string, conversationId: string, operation: string) {
    super(
      'not_owner',
      `agent ${agentId} may not ${operation} conversation ${conversationId}: not its owner`,
      403,
    );
  }
}

export class IdentityTakenError extends SwitchboardError {
  constructor(address: string, customerId: string) {
    super('identity_taken', `identity ${address} already belongs to customer ${customerId}`, 409);
  }
}

export class InvalidStateError extends SwitchboardError {
  constructor(message: string) {
    super('invalid_state', message, 409);
  }
}

export class CapacityError extends SwitchboardError {
  constructor(agentId: string, message: string) {
    super('no_capacity', `agent ${agentId}: ${message}`, 409);
  }
}

export class UnauthorizedError extends SwitchboardError {
  constructor(message = 'a valid token is required') {
    super('unauthorized', message, 401);
  }
}

export class ForbiddenError extends SwitchboardError {
  constructor(message: string) {
    super('forbidden', message, 403);
  }
}

export class RateLimitedError extends SwitchboardError {
  constructor(message: string) {
    super('rate_limited', message, 429);
  }
}

export class CorruptRecordError extends SwitchboardError {
  constructor(key: string, detail: string) {
    super(
      'corrupt_record',
      `stored record ${key} is unreadable: ${detail}`,
      500,
      undefined,
      'a stored record could not be read; the server log names it',
    );
  }
}

/** What clients are told while the store does not answer. */
export const STORE_UNAVAILABLE = 'temporarily unavailable; please try again in a moment';

export class StoreUnavailableError extends SwitchboardError {
  constructor(detail: string) {
    super('store_unavailable', `the store is unavailable: ${detail}`, 503, undefined, STORE_UNAVAILABLE);
  }
}

/** Turns a zod error into a ValidationError naming the first bad field (an unknown one by its own name). */
/** `value` read with `schema`, or the ValidationError that names its first mistake (`what`: what it is). */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw fromZod(result.error, what, value);
  return result.data;
}

/** The value at `path` in `input`, or undefined where there is none. */
function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let at: unknown = input;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

export function fromZod(
  err: {
    issues: ReadonlyArray<{
      path: ReadonlyArray<PropertyKey>;
      message: string;
      code?: string;
      keys?: ReadonlyArray<string>;
    }>;
  },
  what = 'input',
  input?: unknown,
): ValidationError {
  const first = err.issues[0];
  if (!first) return new ValidationError(`${what} is invalid`);
  const unknown = first.code === 'unrecognized_keys' ? first.keys?.[0] : undefined;
  const path = unknown === undefined ? first.path.map(String) : [...first.path.map(String), unknown];
  const field = path.join('.');
  // A field left out is said as such, not as the type it lacks ("expected nonoptional, received undefined"),
  // nor as the values it may take ("Invalid option: expected one of …", when the input is at hand).
  const missing =
    (first.code === 'invalid_type' && / received undefined$/.test(first.message)) ||
    (input !== undefined && first.path.length > 0 && valueAt(input, first.path) === undefined);
  const message = unknown !== undefined ? 'not a known field' : missing ? 'is required' : first.message;
  return new ValidationError(
    field ? `${what}: ${field}: ${message}` : `${what}: ${message}`,
    field || undefined,
  );
}
