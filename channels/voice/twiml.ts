// TwiML for calls: pure functions from a decision to the XML Twilio runs. No menus,
// no "press 1 for sales", no adverts: a caller is connected to a person, or hears
// one short sentence and quiet hold. Every spoken sentence is held under the cap.
import twilio from 'twilio';
import { normalizePhone } from '../../routing/addresses.js';
import type { Agent } from '../../shared/model.js';
import { capped } from '../twilio/notice.js';

const { VoiceResponse } = twilio.twiml;

/** The Twilio queue calls wait in. Switchboard keeps the real order; Twilio only holds the line. */
export const QUEUE_NAME = 'switchboard';

/**
 * What Switchboard says to agents on their own phone (call backs, phoning a customer, screening). What callers
 * hear is the policy's (`texts`: the wait sentence, the call back's, the closed team's), in its `callerVoice`.
 */
export const SAY = {
  callbackTaken: 'This call back has gone to a colleague; thank you.',
  callbackConnecting: 'Calling the customer back now.',
  callbackCustomerCalling: 'The customer is calling in right now; their call rings through to you instead.',
  callbackRetry: (seconds: number, busy = false) =>
    `${busy ? "The customer's line is busy" : 'The customer did not answer'}; trying again in ${seconds} seconds.`,
  callbackFailed:
    'The customer could not be reached; we sent them a text, and the conversation stays with you.',
  /** To an agent phoning a customer from a conversation (Router `callCustomer`). */
  outConnecting: 'Calling the customer now.',
  outNoAnswer: 'The customer did not answer; it is noted in the conversation.',
  outBusy: "The customer's line is busy; it is noted in the conversation.",
  outNotYours: 'This conversation is no longer yours, so the customer was not called.',
  outClosed: 'This conversation was closed meanwhile, so the customer was not called.',
  /**
   * To an agent rung on a phone number, before the caller is put through (call screening: a voicemail that
   * answers presses nothing, and the next agent is rung).
   */
  screenCall: 'A customer is waiting: press 1 to take the call.',
  screenCallback: 'A customer is due a call back: press 1 to call them now.',
  screenOut: 'You asked to phone a customer: press 1 to call them now.',
  screenTaken: 'This call has gone to a colleague; thank you.',
} as const;

/** How Twilio reads a caller's sentences (the policy's `callerVoice`): `<Say language voice>`. */
export interface CallerVoice {
  language?: string | undefined;
  voice?: string | undefined;
}

/** `<Say>`'s attributes for a caller's sentence (none: Twilio's default). */
function sayAs(voice: CallerVoice | undefined): Parameters<InstanceType<typeof VoiceResponse>['say']>[0] {
  const attrs: Record<string, string> = {};
  if (voice?.language) attrs.language = voice.language;
  if (voice?.voice) attrs.voice = voice.voice;
  return attrs as Parameters<InstanceType<typeof VoiceResponse>['say']>[0];
}

export type DialAddress = { kind: 'client'; identity: string } | { kind: 'number'; number: string };

/** How to ring an agent: their Twilio Client identity (browser or app) first, else their phone. */
export function dialAddress(agent: Pick<Agent, 'clientIdentity' | 'phone'>): DialAddress | null {
  const identity = agent.clientIdentity?.trim();
  if (identity) return { kind: 'client', identity };
  const phone = agent.phone?.trim();
  if (!phone) return null;
  try {
    return { kind: 'number', number: normalizePhone(phone) };
  } catch {
    return null;
  }
}

/** The `To` of a call placed through the REST API to this address. */
export function callTo(address: DialAddress): string {
  return address.kind === 'client' ? `client:${address.identity}` : address.number;
}

export interface DialOptions {
  /** `<Dial action>`: how the agent's leg ended. */
  action: string;
  /** Asked when the agent picks up (status callback `answered`). */
  answered: string;
  timeoutSeconds: number;
  /** A sentence the caller hears first (put through to a colleague), in `voice`. */
  say?: string;
  voice?: CallerVoice;
  /**
   * Call screening for a phone number (ignored for a Twilio Client identity): the `<Number url>` whisper the
   * agent hears on picking up, before the caller is put through; they take the call by pressing 1 there, so
   * no `answered` callback makes them the owner (their voicemail would).
   */
  screen?: string;
}

/** Straight to a person: `<Dial>` the agent, the caller hearing it ring until they answer. */
export function dialTwiml(address: DialAddress, options: DialOptions): string {
  const response = new VoiceResponse();
  if (options.say) response.say(sayAs(options.voice), capped(options.say));
  const dial = response.dial({
    action: options.action,
    method: 'POST',
    timeout: options.timeoutSeconds,
    answerOnBridge: true,
  });
  const attrs = {
    statusCallback: options.answered,
    statusCallbackEvent: ['answered' as const],
    statusCallbackMethod: 'POST',
  };
  if (address.kind === 'client') dial.client(attrs, address.identity);
  else if (options.screen) dial.number({ url: options.screen, method: 'POST' }, address.number);
  else dial.number(attrs, address.number);
  return response.toString();
}

/** How long an agent screening a call has to press 1 after the sentence. */
export const SCREEN_KEY_SECONDS = 5;
/** What screening adds after the agent picks up: the sentence, and the time to press. */
export const SCREEN_SECONDS = 8;

/**
 * Call screening, on the agent's own leg: the sentence, then one key; the `<Gather>` action is asked with the
 * key, or with none (`Digits` empty) when nothing was pressed in time (a voicemail greeting presses nothing).
 */
export function screenTwiml(sentence: string, action: string): string {
  const response = new VoiceResponse();
  const gather = response.gather({
    input: ['dtmf'],
    numDigits: 1,
    action,
    method: 'POST',
    timeout: SCREEN_KEY_SECONDS,
    actionOnEmptyResult: true,
  });
  gather.say(capped(sentence));
  return response.toString();
}

export interface EnqueueOptions {
  /** `<Enqueue action>`: asked when the call leaves the queue. */
  action: string;
  waitUrl: string;
  /** A sentence said first (a call back still owed), on its own. */
  before?: string;
  /** How the caller's sentences are read. */
  voice?: CallerVoice;
}

/** Nobody free: exactly one short sentence (position and the pessimistic wait), then quiet hold. */
export function enqueueTwiml(sentence: string, options: EnqueueOptions): string {
  const response = new VoiceResponse();
  const as = sayAs(options.voice);
  if (options.before) response.say(as, capped(options.before));
  response.say(as, capped(sentence));
  response.enqueue(
    { action: options.action, method: 'POST', waitUrl: options.waitUrl, waitUrlMethod: 'POST' },
    QUEUE_NAME,
  );
  return response.toString();
}

export interface WaitOptions {
  /** Position and wait, when they changed and a minute has passed since the caller last heard them. */
  sentence: string | null;
  /** Offer a call back (said with the sentence, and on the first wait), in these words. */
  offerCallback: boolean;
  offerText: string;
  /** How the caller's sentences are read. */
  voice?: CallerVoice;
  /** `<Gather action>`: a key pressed while holding. */
  gatherAction: string;
  /** A music URL to play, or null for silence. */
  holdMusicUrl: string | null;
  /** How long one round of silence lasts before Twilio asks again. */
  pauseSeconds: number;
}

/**
 * The queue's wait TwiML, asked again each time it has played: the update only when there is one,
 * then quiet hold inside a `<Gather>` so that "1" asks for a call back at any moment.
 */
export function waitTwiml(options: WaitOptions): string {
  const response = new VoiceResponse();
  const gather = response.gather({
    input: ['dtmf'],
    numDigits: 1,
    action: options.gatherAction,
    method: 'POST',
    timeout: 1,
    actionOnEmptyResult: false,
  });
  const as = sayAs(options.voice);
  if (options.sentence) gather.say(as, capped(options.sentence));
  if (options.offerCallback) gather.say(as, capped(options.offerText));
  if (options.holdMusicUrl) gather.play(options.holdMusicUrl);
  else gather.pause({ length: options.pauseSeconds });
  return response.toString();
}

/** Leave the Twilio queue (its `<Enqueue action>` then says what comes next). */
export function leaveTwiml(): string {
  const response = new VoiceResponse();
  response.leave();
  return response.toString();
}

/** Back to the wait loop. */
export function redirectTwiml(url: string): string {
  const response = new VoiceResponse();
  response.redirect({ method: 'POST' }, url);
  return response.toString();
}

/** One sentence, then the end of the call; a caller's in `voice` (an agent's: none, Twilio's default). */
export function sayAndHangUp(sentence: string, voice?: CallerVoice): string {
  const response = new VoiceResponse();
  response.say(sayAs(voice), capped(sentence));
  response.hangup();
  return response.toString();
}

export function hangUpTwiml(): string {
  const response = new VoiceResponse();
  response.hangup();
  return response.toString();
}

/** Refuse the call unanswered (a blocked customer's): the caller hears it ring busy, nothing is billed. */
export function rejectTwiml(): string {
  const response = new VoiceResponse();
  response.reject({ reason: 'busy' });
  return response.toString();
}

export function emptyTwiml(): string {
  return new VoiceResponse().toString();
}

export interface CallbackDialOptions {
  /** The customer's number. */
  customer: string;
  /** The number the customer sees calling. */
  callerId: string;
  /** `<Dial action>` for this attempt. */
  action: string;
  timeoutSeconds: number;
  /** Before dialing: spoken to the agent (and a pause before a retry). */
  say: string;
  pauseSeconds?: number;
  /** Asked when the customer picks up (the number's status callback `answered`). */
  answered?: string;
}

/** On the agent's leg of a call back: tell them, then dial the customer. */
export function callbackDialTwiml(options: CallbackDialOptions): string {
  const response = new VoiceResponse();
  response.say(capped(options.say));
  if (options.pauseSeconds) response.pause({ length: options.pauseSeconds });
  const dial = response.dial({
    action: options.action,
    method: 'POST',
    callerId: options.callerId,
    timeout: options.timeoutSeconds,
  });
  if (options.answered)
    dial.number(
      { statusCallback: options.answered, statusCallbackEvent: ['answered'], statusCallbackMethod: 'POST' },
      options.customer,
    );
  else dial.number(options.customer);
  return response.toString();
}
