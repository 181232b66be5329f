// What the channels share over HTTP: for their own routes (email's inbound route, the file routes) the bearer
// token a request carries and an error answer in the admin API's words, `{error: {code, message, field?}}`;
// for files they fetch (Slack's, Twilio's), a response body read up to a size.
import type { Response } from 'express';

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? null;
}

export const fail = (res: Response, status: number, code: string, message: string, field?: string) =>
  res.status(status).json({ error: { code, message, ...(field ? { field } : {}) } });

/**
 * A fetched response's body, or null once it passes `max` bytes. Leaving the loop then cancels the body (the
 * iterator holds its lock: `cancel()` there would be refused), so the rest is not read.
 */
export async function readAtMost(res: globalThis.Response, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.length;
    if (size > max) return null;
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
