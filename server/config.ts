// Configuration from the environment, parsed with zod. One readable line per bad
// or missing variable; the caller prints them and exits with code 1.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { type EmailSettings, loadEmailSettings } from '../channels/email/settings.js';
import type { TwilioSettings } from '../channels/twilio/index.js';
import { loadPolicy, type RoutingPolicy } from '../routing/policy.js';
import { SwitchboardError } from '../shared/errors.js';

/** An empty (or blank) variable counts as unset (`docker run -e VAR=`, compose's `VAR=${VAR}`). */
const blankIsUnset = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const optional = (schema: z.ZodString) => z.preprocess(blankIsUnset, schema.optional());

/** REDIS_URL's nodes: one URL, or (REDIS_CLUSTER=on) several separated by commas. */
const redisNodesOf = (value: string) => value.split(',').map((u) => u.trim());

const MB = 1024 * 1024;
const byteCount = (fallback: number, min: number, max: number) =>
  z.preprocess(
    blankIsUnset,
    z.coerce
      .number({ message: 'must be a number of bytes' })
      .int('must be a whole number of bytes')
      .min(min, `must be at least ${min} bytes`)
      .max(max, `must be at most ${max / MB} MB`)
      .default(fallback),
  );

/** A whole number from `min` to `max` (`unit`: what it counts), `fallback` when unset or blank. */
const wholeNumber = (fallback: number, min: number, max: number, unit: string) =>
  z.preprocess(
    blankIsUnset,
    z.coerce
      .number({ message: `must be a whole number of ${unit} from ${min} to ${max}` })
      .int(`must be a whole number of ${unit} from ${min} to ${max}`)
      .min(min, `must be a whole number of ${unit} from ${min} to ${max}`)
      .max(max, `must be a whole number of ${unit} from ${min} to ${max}`)
      .default(fallback),
  );

const Env = z.object({
  PORT: z.preprocess(
    blankIsUnset,
    z.coerce
      .number({ message: 'must be a port number from 0 to 65535' })
      .int('must be a port number from 0 to 65535')
      .min(0, 'must be a port number from 0 to 65535')
      .max(65535, 'must be a port number from 0 to 65535')
      .default(3000),
  ),
  HOST: optional(z.string()),
  PUBLIC_URL: optional(
    z
      .string()
      .url('must be a URL such as https://support.example.com')
      // (Each check passes what is no URL at all: `url` says that one.)
      .refine(
        (u) => !URL.canParse(u) || /^https?:$/.test(new URL(u).protocol),
        'must start with https:// (or http://)',
      )
      .refine(
        (u) => !URL.canParse(u) || (!u.includes('?') && !u.includes('#')),
        'must have no ?query or #fragment: links and webhook addresses are built on it',
      )
      .refine(
        (u) => !URL.canParse(u) || (new URL(u).username === '' && new URL(u).password === ''),
        'must have no user name or password in it',
      ),
  ),
  REDIS_URL: optional(
    z
      .string()
      .refine(
        (v) => redisNodesOf(v).every((u) => /^rediss?:\/\/\S+$/.test(u)),
        'must start with redis:// or rediss:// (with REDIS_CLUSTER=on, several nodes may be given, separated by commas)',
      ),
  ),
  REDIS_CLUSTER: z.enum(['on', 'off'], { error: 'must be on or off' }).default('off'),
  REDIS_PREFIX: optional(
    z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1 to 64 letters, digits, or _ . : -'),
  ),
  ADMIN_TOKEN: optional(z.string().min(16, 'must be at least 16 characters')),
  TOKEN_SECRET: optional(z.string().min(32, 'must be at least 32 characters')),
  TWILIO_ACCOUNT_SID: optional(
    z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be AC followed by 32 hex digits'),
  ),
  TWILIO_AUTH_TOKEN: optional(z.string().min(16, 'must be at least 16 characters')),
  TWILIO_FROM_NUMBER: optional(
    z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +14155550100'),
  ),
  TWILIO_API_URL: optional(z.string().url('must be a URL (where Twilio REST requests go instead)')),
  HOLD_MUSIC_URL: optional(z.string().url('must be the URL of an audio file (MP3 or WAV)')),
  CALLBACK_RETRIES: wholeNumber(2, 0, 5, 'retries'),
  CALLBACK_RETRY_SECONDS: wholeNumber(20, 0, 120, 'seconds'),
  /** Agents rung on a phone number press 1 to take a call (their voicemail cannot). */
  TWILIO_SCREEN_AGENT_PHONES: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  SLACK_BOT_TOKEN: optional(z.string().regex(/^xoxb-/, 'must start with xoxb-')),
  SLACK_SIGNING_SECRET: optional(z.string().min(16, 'must be at least 16 characters')),
  SLACK_API_URL: optional(
    z
      .string()
      .refine(
        (u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol) && u.endsWith('/api/'),
        'must be an http(s) URL ending in /api/, such as https://slack-gov.com/api/',
      ),
  ),
  SLACK_TAKEOVER_SECONDS: wholeNumber(60, 1, 3600, 'seconds'),
  SLACK_TEAM_CHANNEL: optional(
    z.string().regex(/^[CG][A-Z0-9]{8,}$/, "must be a Slack channel's ID (C0123ABCD), not its name"),
  ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DEMO_AGENTS: z.enum(['auto', 'on', 'off']).default('auto'),
  /** `production` (the Docker image's): `DEMO_AGENTS=auto` creates no demo agents. */
  NODE_ENV: optional(z.string().max(100)),
  TICK_MS: wholeNumber(250, 10, 60_000, 'milliseconds'),
  CHAT_FILE_MAX_BYTES: byteCount(10 * MB, 0, 100 * MB),
  CHAT_FILES_STORE_MAX_BYTES: byteCount(200 * MB, 1024, 1024 * MB),
});

export interface Config {
  port: number;
  host: string | undefined;
  publicUrl: string;
  /** PUBLIC_URL was given: what customers reach, not necessarily this process's own address. */
  publicUrlGiven: boolean;
  /** The Redis to use; with REDIS_CLUSTER=on, the first node of `redisNodes`. */
  redisUrl: string | undefined;
  /** REDIS_URL's nodes (one, or with REDIS_CLUSTER=on several, asked in turn for the cluster's layout). */
  redisNodes: string[];
  /** Every Redis key, stream and channel starts with it (one deployment per prefix). */
  redisPrefix: string;
  /** REDIS_URL is a node of a Redis Cluster (server/redis-cluster.ts). */
  redisCluster: boolean;
  adminToken: string;
  adminTokenGenerated: boolean;
  tokenSecret: string;
  twilio: TwilioSettings | null;
  slack: {
    botToken: string;
    signingSecret: string;
    apiUrl: string | null;
    takeoverMs: number;
    teamChannel: string | null;
  } | null;
  logLevel: z.infer<typeof Env>['LOG_LEVEL'];
  demoAgents: boolean;
  tickMs: number;
  policy: RoutingPolicy;
  /** Email in (SMTP listener, POST /email/inbound) and out (SMTP relay); null when off. */
  email: EmailSettings | null;
  /** Files chat visitors send: the largest taken, the bytes kept in all; null when off (CHAT_FILE_MAX_BYTES=0). */
  chatFiles: { maxBytes: number; storeMaxBytes: number } | null;
  /** Channels that are off, each with the reason (printed at start). */
  off: string[];
}

export class ConfigError extends Error {
  readonly lines: string[];
  constructor(lines: string[]) {
    super(`invalid configuration:\n${lines.join('\n')}`);
    this.lines = lines;
  }
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = Env.safeParse(env);
  const lines: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) lines.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  // On a bad variable keep checking the raw values, so every bad variable is listed at once.
  const e = parsed.success
    ? parsed.data
    : (Object.fromEntries(Object.entries(env).map(([k, v]) => [k, blankIsUnset(v)])) as unknown as z.output<
        typeof Env
      >);
  let policy: RoutingPolicy | undefined;
  try {
    policy = loadPolicy(env);
  } catch (err) {
    lines.push(...(err instanceof SwitchboardError ? err.message : String(err)).split('\n'));
  }
  const off: string[] = [];
  const email = loadEmailSettings(env);
  lines.push(...email.errors);
  if (email.off) off.push(email.off);
  const pair = (a: string | undefined, b: string | undefined, an: string, bn: string, channel: string) => {
    if (a && b) return true;
    if (a || b) lines.push(`${a ? bn : an}: is required when ${a ? an : bn} is set (${channel})`);
    else off.push(`${channel}: off (set ${an} and ${bn} to turn it on)`);
    return false;
  };
  const twilioOn = pair(
    e.TWILIO_ACCOUNT_SID,
    e.TWILIO_AUTH_TOKEN,
    'TWILIO_ACCOUNT_SID',
    'TWILIO_AUTH_TOKEN',
    'Twilio voice and SMS',
  );
  const slackOn = pair(
    e.SLACK_BOT_TOKEN,
    e.SLACK_SIGNING_SECRET,
    'SLACK_BOT_TOKEN',
    'SLACK_SIGNING_SECRET',
    'Slack console',
  );
  if (e.SLACK_TEAM_CHANNEL && !slackOn) {
    lines.push('SLACK_TEAM_CHANNEL: needs the Slack console (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET)');
  }
  const redisNodes = e.REDIS_URL ? redisNodesOf(e.REDIS_URL) : [];
  if (redisNodes.length > 1 && e.REDIS_CLUSTER !== 'on') {
    lines.push('REDIS_URL: several nodes are for a Redis Cluster: set REDIS_CLUSTER=on, or give one URL');
  }
  if (e.REDIS_CLUSTER === 'on' && !e.REDIS_URL) {
    lines.push('REDIS_URL: is required with REDIS_CLUSTER=on (any node of the cluster)');
  }
  if (e.REDIS_URL && !e.TOKEN_SECRET) {
    lines.push(
      'TOKEN_SECRET: is required with REDIS_URL (every process must sign and verify the same tokens)',
    );
  }
  if (e.REDIS_URL && !e.ADMIN_TOKEN) {
    lines.push('ADMIN_TOKEN: is required with REDIS_URL (every process must accept the same admin token)');
  }
  if (e.REDIS_URL && twilioOn && !e.TWILIO_FROM_NUMBER) {
    lines.push(
      'TWILIO_FROM_NUMBER: is required with REDIS_URL and Twilio (a text or a call back may go out from any process, which cannot know the number a customer reached on another)',
    );
  }
  // (Compared only when both parsed: the raw values are text.)
  if (parsed.success && e.CHAT_FILE_MAX_BYTES > e.CHAT_FILES_STORE_MAX_BYTES) {
    lines.push('CHAT_FILES_STORE_MAX_BYTES: must be at least CHAT_FILE_MAX_BYTES');
  }
  if (lines.length > 0 || !policy) throw new ConfigError(lines);
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    publicUrlGiven: e.PUBLIC_URL !== undefined,
    redisUrl: redisNodes[0],
    redisNodes,
    redisPrefix: e.REDIS_PREFIX ?? 'switchboard',
    redisCluster: e.REDIS_CLUSTER === 'on',
    adminToken: e.ADMIN_TOKEN ?? randomBytes(24).toString('base64url'),
    adminTokenGenerated: !e.ADMIN_TOKEN,
    tokenSecret: e.TOKEN_SECRET ?? randomBytes(32).toString('base64url'),
    twilio: twilioOn
      ? {
          accountSid: e.TWILIO_ACCOUNT_SID!,
          authToken: e.TWILIO_AUTH_TOKEN!,
          fromNumber: e.TWILIO_FROM_NUMBER ?? null,
          apiUrl: e.TWILIO_API_URL ?? null,
          holdMusicUrl: e.HOLD_MUSIC_URL ?? null,
          callbackRetries: e.CALLBACK_RETRIES,
          callbackRetrySeconds: e.CALLBACK_RETRY_SECONDS,
          screenAgentPhones: e.TWILIO_SCREEN_AGENT_PHONES === 'on',
        }
      : null,
    slack: slackOn
      ? {
          botToken: e.SLACK_BOT_TOKEN!,
          signingSecret: e.SLACK_SIGNING_SECRET!,
          apiUrl: e.SLACK_API_URL ?? null,
          takeoverMs: e.SLACK_TAKEOVER_SECONDS * 1000,
          teamChannel: e.SLACK_TEAM_CHANNEL ?? null,
        }
      : null,
    logLevel: e.LOG_LEVEL,
    // `auto`: a first try (memory store, nothing set up); never where real customers may come in.
    demoAgents:
      e.DEMO_AGENTS === 'on' ||
      (e.DEMO_AGENTS === 'auto' && !e.REDIS_URL && !e.ADMIN_TOKEN && e.NODE_ENV !== 'production'),
    tickMs: e.TICK_MS,
    policy,
    email: email.settings,
    chatFiles:
      e.CHAT_FILE_MAX_BYTES > 0
        ? { maxBytes: e.CHAT_FILE_MAX_BYTES, storeMaxBytes: e.CHAT_FILES_STORE_MAX_BYTES }
        : null,
    off,
  };
}
