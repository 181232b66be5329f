// What the channels' own HTTP routes share (email's inbound route, the file routes): the bearer token a
// request carries, and an error answer in the admin API's words, `{error: {code, message, field?}}`.
import type { Response } from 'express';

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? null;
}

export const fail = (res: Response, status: number, code: string, message: string, field?: string) =>
  res.status(status).json({ error: { code, message, ...(field ? { field } : {}) } });
