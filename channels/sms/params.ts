// Zod schemas for the messaging webhooks, in Twilio's parameter names. They run
// after the signature is verified on the raw form, and strip whatever Twilio adds.
import { z } from 'zod';
import { ValidationError } from '../../shared/errors.js';
import { Id } from '../../shared/model.js';

const sid = (prefixes: string, what: string) =>
  z.string().regex(new RegExp(`^(${prefixes})[0-9a-fA-F]{32}$`), `must be a Twilio ${what} SID`);

export const MessageSid = sid('SM|MM', 'message');
const Address = z.string().trim().min(1).max(64);
/** The most media Twilio attaches to one incoming message. */
export const MAX_MEDIA = 10;

/** "A message comes in". */
export const IncomingSms = z
  .object({
    MessageSid,
    AccountSid: sid('AC', 'account'),
    From: Address,
    To: Address,
    Body: z.string().max(10_000).default(''),
    NumMedia: z.coerce.number().int().min(0).max(MAX_MEDIA).default(0),
    ProfileName: z.string().max(200).optional(),
  })
  .catchall(z.unknown());
export type IncomingSms = z.infer<typeof IncomingSms>;

/** The words that opt a number out of texts, or in again, when a text is the word alone (any case). */
const OPT_OUT = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT']);
const OPT_IN = new Set(['START', 'UNSTOP', 'YES']);

/**
 * Whether an incoming text opts its number out of texts (`out`) or in again (`in`), as Twilio itself takes it:
 * its `OptOutType` (STOP, START, HELP; with Advanced Opt-Out and its own keywords), else the text being one
 * of the standard words alone. Null for any other text (HELP included: a person can help).
 */
export function optKeyword(params: IncomingSms): 'out' | 'in' | null {
  const type = typeof params.OptOutType === 'string' ? params.OptOutType.toUpperCase() : '';
  if (type === 'STOP') return 'out';
  if (type === 'START') return 'in';
  if (type === 'HELP') return null;
  const word = params.Body.trim().toUpperCase();
  return OPT_OUT.has(word) ? 'out' : OPT_IN.has(word) ? 'in' : null;
}

const MediaUrl = z.string().url().max(2000);
const MediaType = z.string().max(200).default('application/octet-stream');

/** `MediaUrl0…`, `MediaContentType0…` for each of `NumMedia` items. */
export function mediaOf(params: IncomingSms): Array<{ url: string; type: string }> {
  const media: Array<{ url: string; type: string }> = [];
  for (let i = 0; i < params.NumMedia; i++) {
    const url = MediaUrl.safeParse(params[`MediaUrl${i}`]);
    // Twilio names a link for each item it counts: one missing or malformed is not Twilio's webhook.
    if (!url.success)
      throw new ValidationError(
        `message: MediaUrl${i}: must be a link (NumMedia is ${params.NumMedia})`,
        `MediaUrl${i}`,
      );
    const type = MediaType.safeParse(params[`MediaContentType${i}`]);
    media.push({ url: url.data, type: type.success ? type.data : 'application/octet-stream' });
  }
  return media;
}

export const MESSAGE_STATUSES = [
  'accepted',
  'scheduled',
  'queued',
  'sending',
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'read',
  'receiving',
  'received',
  'canceled',
  'partially_delivered',
] as const;

/** An outbound message's status callback. */
export const MessageStatus = z.object({
  MessageSid,
  AccountSid: sid('AC', 'account'),
  MessageStatus: z.enum(MESSAGE_STATUSES),
  ErrorCode: z.string().max(16).optional(),
  ErrorMessage: z.string().max(500).optional(),
});
export type MessageStatus = z.infer<typeof MessageStatus>;

/** Query parameters Switchboard puts on the status callback URL. */
export const StatusQuery = z.object({
  message: Id,
  attempt: z.coerce.number().int().min(1).max(100),
});
