// Signed tokens: `<id>.<HMAC-SHA256(secret, purpose:id)>` in base64url. Stateless, so
// every process that shares the secret can verify them, and an id cannot be forged.
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * `attachment`: the link to a file a customer emailed (id: `<message id>:<index>`); `file`: the link to a file
 * a chat visitor or an agent sent (id: `<upload id>:0`); `upload`: the sender's own handle on their upload,
 * which only they may attach to a message (id: `visitor:<visitor id>:<upload id>` or `agent:<agent id>:<upload id>`);
 * `original`: the link to an inbound email as received (id: `<message id>.<expiry in ms>`, channels/email/original.ts).
 */
export type TokenPurpose = 'visitor' | 'agent' | 'attachment' | 'file' | 'upload' | 'original';

/** An agent's web console token: their id, and once their links were renewed, `<id>:<version>` (Agent.tokenVersion). */
export function agentToken(
  tokens: TokenSigner,
  agent: { id: string; tokenVersion?: number | undefined },
): string {
  return tokens.sign('agent', agent.tokenVersion ? `${agent.id}:${agent.tokenVersion}` : agent.id);
}

/**
 * The agent and version a valid console token names, or null. The caller checks the version against the
 * agent's record: a token from before the links were last renewed no longer opens the console.
 */
export function readAgentToken(
  tokens: TokenSigner,
  token: unknown,
): { agentId: string; version: number } | null {
  const signed = tokens.verify('agent', token);
  if (!signed) return null;
  const versioned = /^(.+):([1-9]\d{0,8})$/.exec(signed);
  return versioned
    ? { agentId: versioned[1]!, version: Number(versioned[2]) }
    : { agentId: signed, version: 0 };
}

export class TokenSigner {
  readonly #secret: string;
  constructor(secret: string) {
    if (secret.length < 32) throw new RangeError('token secret must be at least 32 characters');
    this.#secret = secret;
  }

  sign(purpose: TokenPurpose, id: string): string {
    return `${id}.${this.#mac(purpose, id)}`;
  }

  /** The id inside a valid token, or null for anything else (never throws on input). */
  verify(purpose: TokenPurpose, token: unknown): string | null {
    if (typeof token !== 'string' || token.length > 300) return null;
    const dot = token.lastIndexOf('.');
    if (dot <= 0) return null;
    const id = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.#mac(purpose, id));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    return id;
  }

  #mac(purpose: TokenPurpose, id: string): string {
    return createHmac('sha256', this.#secret).update(`${purpose}:${id}`).digest('base64url');
  }
}
