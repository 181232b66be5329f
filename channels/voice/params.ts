// Zod schemas for the voice webhooks, in Twilio's parameter names. They run after
// the signature is verified on the raw form, and strip whatever Twilio adds later.
import { z } from 'zod';
import { normalizePhone } from '../../routing/addresses.js';
import { Id } from '../../shared/model.js';

const sid = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}[0-9a-fA-F]{32}$`), `must be ${prefix} followed by 32 hex digits`);

export const CallSid = sid('CA');
export const CALL_STATUSES = [
  'queued',
  'initiated',
  'ringing',
  'in-progress',
  'completed',
  'busy',
  'failed',
  'no-answer',
  'canceled',
] as const;
export const CallStatus = z.enum(CALL_STATUSES);
export type CallStatus = z.infer<typeof CallStatus>;
/** Statuses after which the call is over. */
export const FINAL_CALL_STATUSES: readonly CallStatus[] = [
  'completed',
  'busy',
  'failed',
  'no-answer',
  'canceled',
];

const Address = z.string().trim().min(1).max(64);

/** The parameters every voice request carries (Twilio's "standard request parameters"). */
export const CallParams = z.object({
  CallSid,
  AccountSid: sid('AC'),
  From: Address,
  To: Address.optional(),
  CallStatus,
  Direction: z.string().max(32).optional(),
  CallerName: z.string().max(200).optional(),
});
export type CallParams = z.infer<typeof CallParams>;

/** `<Dial action>`: how the dialed leg ended. */
export const DialParams = CallParams.extend({
  DialCallStatus: z.enum(['completed', 'answered', 'busy', 'no-answer', 'failed', 'canceled']),
  DialCallSid: sid('CA').optional(),
  DialCallDuration: z.coerce.number().int().nonnegative().max(86_400).optional(),
  /** Whether the two legs were put through to each other (false: a screened leg hung up before). */
  DialBridged: z.enum(['true', 'false']).optional(),
});
export type DialParams = z.infer<typeof DialParams>;

/** `<Enqueue action>`: why the call left the queue. */
export const QueueResultParams = CallParams.extend({
  QueueResult: z.enum([
    'bridged',
    'bridging-in-process',
    'queue-full',
    'system-error',
    'error',
    'hangup',
    'redirected',
    'redirected-from-bridged',
    'leave',
  ]),
  QueueSid: sid('QU').optional(),
  QueueTime: z.coerce.number().int().nonnegative().optional(),
});
export type QueueResultParams = z.infer<typeof QueueResultParams>;

/** `<Enqueue waitUrl>`: asked again each time the wait TwiML has played. */
export const WaitParams = CallParams.extend({
  QueueSid: sid('QU').optional(),
  QueuePosition: z.coerce.number().int().nonnegative().optional(),
  QueueTime: z.coerce.number().int().nonnegative().optional(),
  AvgQueueTime: z.coerce.number().int().nonnegative().optional(),
  CurrentQueueSize: z.coerce.number().int().nonnegative().optional(),
});

/** `<Gather action>`: the keys pressed. */
export const GatherParams = CallParams.extend({
  Digits: z.string().max(32).default(''),
});

/** Call status callbacks (the number's, and those of calls we place). */
export const StatusParams = CallParams.extend({
  CallDuration: z.coerce.number().int().nonnegative().optional(),
  ParentCallSid: sid('CA').optional(),
});

/** Query parameters Switchboard puts on the callback URLs it hands to Twilio. */
export const ConversationQuery = z.object({ conversation: Id });
export const AgentQuery = z.object({ conversation: Id, agent: Id });
/** `screen=1`: a leg rung on a phone number, screened (the agent presses 1 to take it). */
const Screen = z.literal('1', { error: 'must be 1' }).optional();
export const DialQuery = AgentQuery.extend({ screen: Screen });

const E164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be a phone number in E.164 form');
/**
 * A call back's legs carry what they need in their URLs (which Twilio signs), so whichever process
 * Twilio reaches can answer them: the customer's number, the number we call from, and what routing did
 * that the leg was placed for (`offer-<at>`, `cover-<since>`, `owner-<assignedAt>`). Optional for legs
 * placed before the URLs carried them.
 */
export const CallbackQuery = AgentQuery.extend({
  screen: Screen,
  customer: E164.optional(),
  from: E164.optional(),
  placed: z
    .string()
    .regex(/^(offer|cover|owner)-\d{1,16}$/, 'must be offer-, cover- or owner- and a time')
    .optional(),
});
/** A call an agent places to a customer (Router `callCustomer`): its legs' URLs carry the numbers, as a call back's. */
export const OutboundQuery = AgentQuery.extend({ customer: E164, from: E164, screen: Screen });
export const CallbackAttemptQuery = CallbackQuery.extend({
  attempt: z.coerce.number().int().min(1).max(20),
});

/**
 * What Twilio passes as `From` for a caller whose number is withheld: `anonymous`, or the words the network
 * sent spelled on a keypad (ANONYMOUS, UNAVAILABLE, RESTRICTED, BLOCKED, UNKNOWN). Some pass as real numbers
 * (+86282452253 could be Chinese): taken for one, every such caller would be one customer sharing a history.
 */
const HIDDEN_CALLER_IDS = new Set(['+266696687', '+86282452253', '+7378742833', '+2562533', '+8656696']);

/** Whether `from` is a withheld number rather than the caller's own. */
export function hiddenCaller(from: string): boolean {
  const trimmed = from.trim();
  return (
    HIDDEN_CALLER_IDS.has(trimmed) ||
    /^(anonymous|restricted|unavailable|unknown|blocked|private)$/i.test(trimmed)
  );
}

/**
 * The caller's number (E.164), or null when there is none to call or text back: a withheld number, or a caller
 * id that is no phone number (a SIP or Twilio Client caller).
 */
export function callerNumber(from: string): string | null {
  if (hiddenCaller(from)) return null;
  try {
    return normalizePhone(from, undefined, 'From');
  } catch {
    return null;
  }
}
