// Email settings from the environment, parsed with zod: one readable line per bad
// or missing variable. `server/config.ts` folds the lines and the "off" notice
// into its own.
import { z } from 'zod';

export interface EmailSettings {
  /** Bearer token for `POST /email/inbound`; null: that route is off. */
  inboundToken: string | null;
  /** Port of the built-in SMTP listener (0: any free port); null: no listener. */
  smtpListenPort: number | null;
  /** Outbound relay, `smtp://user:pass@host:port` or `smtps://…`. */
  smtpUrl: string;
  /** The From of every reply, as configured (`Support <support@example.com>` or a bare address). */
  from: string;
  /** The bare address of `from`, lower-cased. */
  fromAddress: string;
  /** Domain of the Message-IDs Switchboard writes (threading depends on recognising them). */
  domain: string;
  /** Addresses accepted at RCPT (lower-cased); `local+tag@domain` is accepted for each. */
  addresses: string[];
  /** Largest raw message accepted, on SMTP and HTTP. */
  maxMessageBytes: number;
  /** Largest attachment kept; larger ones are listed but their bytes are dropped. */
  maxAttachmentBytes: number;
  /** Total bytes of raw messages and attachments kept in memory; the oldest go first. */
  storeMaxBytes: number;
}

const MB = 1024 * 1024;
const ADDRESS = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;
const DOMAIN =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;

const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const text = (schema: z.ZodType<string>) => z.preprocess(blank, schema.optional());
const bytes = (fallback: number, min: number) =>
  z.preprocess(
    blank,
    z.coerce
      .number({ message: 'must be a number of bytes' })
      .int('must be a whole number of bytes')
      .min(min, `must be at least ${min} bytes`)
      .max(1024 * MB, 'must be at most 1 GiB')
      .default(fallback),
  );

/** `Support <support@example.com>` or `support@example.com` → the bare address, lower-cased; null if neither. */
export function bareAddress(value: string): string | null {
  const angled = /<([^<>]+)>\s*$/.exec(value.trim());
  const address = (angled ? angled[1]! : value).trim().toLowerCase();
  return ADDRESS.test(address) && address.length <= 320 ? address : null;
}

const EmailEnv = z.object({
  EMAIL_INBOUND_TOKEN: text(z.string().min(16, 'must be at least 16 characters')),
  SMTP_LISTEN_PORT: z.preprocess(
    blank,
    z.coerce
      .number({ message: 'must be a port number' })
      .int('must be a port number')
      .min(0, 'must be a port number (0–65535)')
      .max(65535, 'must be a port number (0–65535)')
      .optional(),
  ),
  SMTP_URL: text(
    z
      .string()
      .regex(/^smtps?:\/\/[^/\s]+/, 'must be a URL such as smtp://user:pass@smtp.example.com:587')
      .refine((v) => URL.canParse(v), 'must be a URL such as smtp://user:pass@smtp.example.com:587'),
  ),
  EMAIL_FROM: text(
    z
      .string()
      .max(400)
      .refine((v) => bareAddress(v) !== null, 'must be an address such as "Support <support@example.com>"'),
  ),
  EMAIL_DOMAIN: text(z.string().regex(DOMAIN, 'must be a domain name such as example.com')),
  EMAIL_ADDRESSES: text(
    z
      .string()
      .refine(
        (v) => v.split(',').every((a) => bareAddress(a) !== null && !a.includes('<')),
        'must be addresses separated by commas, such as support@example.com,help@example.com',
      ),
  ),
  EMAIL_MAX_BYTES: bytes(25 * MB, 1024),
  EMAIL_ATTACHMENT_MAX_BYTES: bytes(10 * MB, 0),
  EMAIL_STORE_MAX_BYTES: bytes(200 * MB, 1024),
});

export interface EmailEnvResult {
  settings: EmailSettings | null;
  /** One readable line per bad or missing variable. */
  errors: string[];
  /** Set when email is off: the start-up notice. */
  off: string | null;
}

export function loadEmailSettings(env: Record<string, string | undefined>): EmailEnvResult {
  const parsed = EmailEnv.safeParse(env);
  if (!parsed.success) {
    return {
      settings: null,
      errors: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      off: null,
    };
  }
  const e = parsed.data;
  const inbound = e.EMAIL_INBOUND_TOKEN !== undefined || e.SMTP_LISTEN_PORT !== undefined;
  const any =
    inbound || e.SMTP_URL !== undefined || e.EMAIL_FROM !== undefined || e.EMAIL_ADDRESSES !== undefined;
  if (!any) {
    return {
      settings: null,
      errors: [],
      off: 'email: off (set EMAIL_INBOUND_TOKEN or SMTP_LISTEN_PORT to receive, SMTP_URL and EMAIL_FROM to reply)',
    };
  }
  const errors: string[] = [];
  if (!inbound)
    errors.push('EMAIL_INBOUND_TOKEN or SMTP_LISTEN_PORT: one is required to receive email (email)');
  if (!e.SMTP_URL) errors.push('SMTP_URL: is required to send replies (email)');
  if (!e.EMAIL_FROM) errors.push('EMAIL_FROM: is required as the From of replies (email)');
  if (e.EMAIL_STORE_MAX_BYTES < e.EMAIL_MAX_BYTES)
    errors.push('EMAIL_STORE_MAX_BYTES: must be at least EMAIL_MAX_BYTES');
  if (errors.length > 0) return { settings: null, errors, off: null };

  const fromAddress = bareAddress(e.EMAIL_FROM!)!;
  const addresses = e.EMAIL_ADDRESSES
    ? [...new Set(e.EMAIL_ADDRESSES.split(',').map((a) => bareAddress(a)!))]
    : [fromAddress];
  return {
    settings: {
      inboundToken: e.EMAIL_INBOUND_TOKEN ?? null,
      smtpListenPort: e.SMTP_LISTEN_PORT ?? null,
      smtpUrl: e.SMTP_URL!,
      from: e.EMAIL_FROM!.trim(),
      fromAddress,
      domain: (e.EMAIL_DOMAIN ?? fromAddress.split('@')[1]!).toLowerCase(),
      addresses,
      maxMessageBytes: e.EMAIL_MAX_BYTES,
      maxAttachmentBytes: e.EMAIL_ATTACHMENT_MAX_BYTES,
      storeMaxBytes: e.EMAIL_STORE_MAX_BYTES,
    },
    errors: [],
    off: null,
  };
}
