// Every process of one deployment on Redis must share TOKEN_SECRET and ADMIN_TOKEN: a console link or a
// visitor's token signed by one is checked by all, and the admin API answers the same token everywhere. A
// process that differs would start and fail quietly (consoles refused, visitors losing their conversation), so
// each states a fingerprint of both (a hash: the secrets never reach Redis) in the deployment's `secrets`
// hash, renewed every minute and forgotten three minutes after the last process stops, and one that starts
// beside others that differ refuses to start, naming the variable.
import { createHash } from 'node:crypto';
import type { Log, RedisClient } from './redis-client.js';

/** How long the fingerprints outlive the last process that renewed them. */
export const SECRETS_KEEP_SECONDS = 180;
/** How often a running process renews them. */
export const SECRETS_RENEW_MS = 60_000;

export interface SharedSecrets {
  tokenSecret: string;
  adminToken: string;
}

const VARIABLES = { TOKEN_SECRET: 'tokenSecret', ADMIN_TOKEN: 'adminToken' } as const;
type Variable = keyof typeof VARIABLES;

/** One variable's fingerprint: a hash of its value, not the value. */
function fingerprint(variable: Variable, value: string): string {
  return createHash('sha256').update(`switchboard ${variable}\n${value}`).digest('hex').slice(0, 32);
}

/**
 * State this process's fingerprints in `key` where none are, and renew the key's life: the variables whose
 * fingerprint there differs from this process's (none: all shared). Each field is set only where missing, in one
 * step, so of two processes starting at once with different secrets one finds the other's.
 */
export async function stateSecrets(
  client: RedisClient,
  key: string,
  secrets: SharedSecrets,
): Promise<Variable[]> {
  const differ: Variable[] = [];
  for (const [variable, field] of Object.entries(VARIABLES) as Array<[Variable, keyof SharedSecrets]>) {
    const mine = fingerprint(variable, secrets[field]);
    await client.hSetNX(key, variable, mine);
    if ((await client.hGet(key, variable)) !== mine) differ.push(variable);
  }
  if (differ.length === 0) await client.expire(key, SECRETS_KEEP_SECONDS);
  return differ;
}

/** The lines a process that differs stops with (ConfigError), one per variable. */
export function differLines(differ: readonly Variable[], prefix: string): string[] {
  return differ.map(
    (variable) =>
      `${variable}: differs from the one the other processes on this Redis (REDIS_PREFIX=${prefix}) use; every process must share it (to change it, stop them all: the old one is forgotten ${SECRETS_KEEP_SECONDS / 60} minutes after the last one stops)`,
  );
}

/** Renew the fingerprints every SECRETS_RENEW_MS; a difference found then (one started in a gap) is logged once. */
export function renewSecrets(client: RedisClient, key: string, secrets: SharedSecrets, log: Log): () => void {
  let told = false;
  const timer = setInterval(() => {
    stateSecrets(client, key, secrets).then(
      (differ) => {
        if (differ.length > 0 && !told) {
          told = true;
          log.error({ variables: differ }, 'redis: another process on this Redis uses other secrets');
        }
      },
      () => {}, // Redis away: renewed when it is back (the key lives three renewals)
    );
  }, SECRETS_RENEW_MS);
  timer.unref();
  return () => clearInterval(timer);
}
