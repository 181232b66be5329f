import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A random id with a readable prefix, e.g. `cv_3k9x…`: 16 base-36 characters (~82 bits). */
export function newId(prefix: string): string {
  const bytes = randomBytes(16);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % 36];
  return `${prefix}_${out}`;
}

export const ID_PREFIX = {
  customer: 'cu',
  conversation: 'cv',
  message: 'msg',
  agent: 'ag',
  promise: 'pr',
} as const;

/** Id factory; tests may inject a deterministic one. */
export interface IdSource {
  next(prefix: string): string;
}

export const randomIds: IdSource = { next: newId };

/** Deterministic ids for seeded tests and simulations. */
export function sequentialIds(): IdSource {
  let n = 0;
  return { next: (prefix) => `${prefix}_${(++n).toString(36).padStart(6, '0')}` };
}
