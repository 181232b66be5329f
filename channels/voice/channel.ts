// Phone calls through Twilio: a thin edge. Each webhook is verified (by the /twilio
// router), parsed with zod, turned into one router call, and answered with TwiML
// rendered from where the conversation stands. When routing moves a waiting call
// on its own (an agent frees up, an offer expires), the live call gets new TwiML
// through the REST API. The call's state on the wire (which TwiML it was given,
// what the caller last heard) lives here; who gets the call is the router's.
//
// Across processes (Redis mode): the process that answered a call's latest webhook
// holds it and alone moves it, whichever process routed (holders.ts); a process
// meeting a call for the first time starts it where its webhook shows it is; a call
// whose process stopped is taken over by the process that routes it; a call back is
// placed by the process whose routing gives it to an agent, and its legs' URLs say
// all that any process needs to answer them.
import express, { type Request, type Response } from 'express';
import type { z } from 'zod';
import { lastAddress, PHONE_CHANNELS, phoneOf } from '../../routing/addresses.js';
import { humanDuration } from '../../routing/estimate.js';
import {
  fillText,
  opensPhrase,
  placeKeptSentence,
  type RoutingPolicy,
  waitSentence,
} from '../../routing/policy.js';
import type { ContactOutcome, Router, WaitQuote } from '../../routing/router.js';
import {
  BlockedError,
  ConflictError,
  parseInput,
  SwitchboardError,
  ValidationError,
} from '../../shared/errors.js';
import type { DomainEvent, EventOrigin } from '../../shared/events.js';
import type { Conversation, Message } from '../../shared/model.js';
import { restFailure, type TwilioClient } from '../twilio/client.js';
import { sendTwiml, webhookParams } from '../twilio/signature.js';
import { type CallHolders, LocalCallHolders } from './holders.js';
import {
  AgentQuery,
  CallbackAttemptQuery,
  CallbackQuery,
  CallParams,
  ConversationQuery,
  callerNumber,
  DialParams,
  DialQuery,
  FINAL_CALL_STATUSES,
  GatherParams,
  OutboundQuery,
  QueueResultParams,
  StatusParams,
  WaitParams,
} from './params.js';
import {
  type CallerVoice,
  callbackDialTwiml,
  callTo,
  type DialAddress,
  dialAddress,
  dialTwiml,
  emptyTwiml,
  enqueueTwiml,
  hangUpTwiml,
  leaveTwiml,
  redirectTwiml,
  rejectTwiml,
  SAY,
  SCREEN_SECONDS,
  sayAndHangUp,
  screenTwiml,
  waitTwiml,
} from './twiml.js';

export interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface VoiceOptions {
  router: Router;
  client: TwilioClient;
  /** Where Twilio reaches the /twilio routes: PUBLIC_URL + '/twilio'. */
  base: string;
  /** Our number for calls we place (call backs) when the caller's own `To` is not known. */
  fromNumber: string | null;
  /** Quiet hold: this music, or silence when null. Never an advert. */
  holdMusicUrl: string | null;
  /** Further attempts to reach a customer who missed their call back. */
  callbackRetries: number;
  /** Pause between those attempts (the agent stays on the line). */
  callbackRetrySeconds: number;
  /**
   * Call screening for agents rung on a phone number (default on): they press 1 to take a call, call back or
   * call out, so that their voicemail answering is not taken for them (Twilio Client identities have none).
   */
  screenAgentPhones?: boolean;
  log: Log;
  /** Told the number each caller reached us on (texts to them go out from it). */
  onCaller?: (caller: string, ourNumber: string) => void;
  /** Which process moves each live call (Redis mode: shared); this process alone by default. */
  holders?: CallHolders;
}

/** Where a live call's TwiML points it: an agent, the hold queue, a call back, or nowhere any more. */
type Target = `agent:${string}` | 'queue' | 'callback' | 'closing' | 'done' | 'ended';

interface LiveCall {
  callSid: string;
  conversationId: string;
  /** The caller's number as Twilio gave it. */
  caller: string;
  /** The number they called. */
  ourNumber: string | null;
  target: Target | null;
  /** The last TwiML this call was given (answers a redirected or canceled action the same way). */
  twiml: string;
  /** What the caller last heard about their place, and when. */
  told: { key: string; at: number } | null;
  offeredCallback: boolean;
  /** An agent picked up: routing no longer moves this call (a hand-off changes the owner, not the call). */
  connected: boolean;
  /** What routing has to tell the caller (a wait that runs late, said with its new time) at the next round. */
  notice?: string;
  /** Closed for a while: offered a call back instead of holding (with the hours, or nobody working), once. */
  closedOffer?: 'hours' | 'nobody';
  /** The colleague a hand-off went to whom the call could not be put through (said once, not tried again). */
  notPutThrough?: string;
}

interface Callback {
  conversationId: string;
  /** The customer's E.164 number. */
  customer: string;
  ourNumber: string | null;
  /** The agent being rung for it, that leg's CallSid, and what routing did that it was placed for. */
  agentId: string | null;
  agentCallSid: string | null;
  placed?: string | null;
  /** The agent picked that leg up (it dials the customer): ended, not canceled, when the customer calls in. */
  answered?: boolean;
}

/** Position and wait are repeated only when they changed, at most this often. */
export const NOTICE_EVERY_MS = 60_000;

/**
 * What a caller on hold was last told, to tell them again only when it changed: their place and wait; with
 * nobody working, the time until the team is back as spoken ("9 hours"), not to the second.
 */
function holdKey(quote: WaitQuote): string {
  const opens = quote.closed?.opensInSeconds;
  const closed = quote.closed
    ? `:${opens === null || opens === undefined ? 'nobody' : humanDuration(opens)}`
    : '';
  return `${quote.position}:${quote.etaSeconds}${closed}`;
}
/** The leases of an agent's call to a customer: the conversation's, and the agent's. */
function outLeases(q: { conversation: string; agent: string }): [string, string] {
  return [`out:conversation:${q.conversation}`, `out:agent:${q.agent}`];
}

/** How long a call lasted, as a note says it: seconds under a minute, else whole minutes to the nearest. */
function talkedFor(seconds: number): string {
  if (seconds < 60) return seconds === 1 ? '1 second' : `${seconds} seconds`;
  const minutes = Math.round(seconds / 60);
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

/** One round of silent hold before Twilio asks the wait URL again. */
const HOLD_PAUSE_SECONDS = 20;
/**
 * A team that opens again within this long is waited for on hold; later than that (or with nobody working and
 * no hours to say when), nobody holds on for it: the caller is offered a call back for one round, then the call
 * ends with a goodbye.
 */
const CLOSED_HOLD_SECONDS = 15 * 60;
/** How long the customer's phone rings on a call back. */
const CUSTOMER_RING_SECONDS = 30;
/**
 * A call an agent places to a customer holds two leases (one call at a time for the conversation, and for the
 * agent): while it rings (the agent, then the customer, and a margin), then, once the customer picks up, while
 * they talk (at most this long); given up when it ends.
 */
const OUT_RING_MARGIN_SECONDS = 30;
const OUT_TALK_SECONDS = 4 * 60 * 60;
/** Live calls remembered at most (a call whose status callback never comes is forgotten). */
const MAX_CALLS = 20_000;
const NO_ADDRESS = 'no phone or Twilio Client identity to ring';
/** The status reason of an agent on a call they placed to a customer (away until it ends). */
export const PHONING_OUT = 'on a call to a customer';

export class VoiceChannel {
  readonly #router: Router;
  readonly #client: TwilioClient;
  readonly #holders: CallHolders;
  readonly #o: VoiceOptions;
  readonly #calls = new Map<string, LiveCall>();
  readonly #callOf = new Map<string, string>();
  readonly #callbacks = new Map<string, Callback>();
  readonly #chains = new Map<string, Promise<void>>();
  readonly #unsubscribe: () => void;
  readonly #unregisterCaller: () => void;

  constructor(options: VoiceOptions) {
    this.#o = options;
    this.#router = options.router;
    this.#client = options.client;
    this.#holders = options.holders ?? new LocalCallHolders(() => this.#router.clock.now());
    // Routing decided in another process (an agent freed up there) moves the calls this process holds too.
    this.#unsubscribe = this.#router.events.subscribe((event, origin) => this.#onEvent(event, origin), {
      remote: true,
    });
    // Agents phone customers from a conversation (Router `callCustomer`).
    this.#unregisterCaller = this.#router.registerCaller({
      cannotCall: () => (this.#o.fromNumber ? null : 'no number to call from: set TWILIO_FROM_NUMBER'),
      call: (request) => this.#callOut(request),
    });
  }

  close(): void {
    this.#unsubscribe();
    this.#unregisterCaller();
  }

  /** Pending work (pushes to live calls) is done: for tests and shutdown. */
  async idle(): Promise<void> {
    while (this.#chains.size > 0) await Promise.all([...this.#chains.values()]);
  }

  routes(): express.Router {
    const r = express.Router();
    // Path, what it is (for the log), its handler, and what a failure answers (a caller hears a sentence;
    // a status callback gets empty TwiML).
    const routes: Array<[string, string, (req: Request) => Promise<string>, (() => string)?]> = [
      ['/voice', 'incoming call', (req) => this.#incoming(req)],
      ['/voice/wait', 'queue wait', (req) => this.#wait(req)],
      ['/voice/gather', 'gather', (req) => this.#gather(req)],
      ['/voice/queue', 'queue result', (req) => this.#queueResult(req)],
      ['/voice/dial', 'dial result', (req) => this.#dialResult(req)],
      ['/voice/answered', 'answered', (req) => this.#answered(req), emptyTwiml],
      ['/voice/screen', 'screening', (req) => this.#screen(req), hangUpTwiml],
      ['/voice/screen/key', 'screening: key', (req) => this.#screenKey(req), hangUpTwiml],
      ['/voice/callback/screen', 'call back: screening key', (req) => this.#callbackScreen(req)],
      ['/voice/out/screen', 'phoning a customer: screening key', (req) => this.#outScreen(req)],
      ['/voice/status', 'call status', (req) => this.#status(req), emptyTwiml],
      ['/voice/callback/agent', 'call back: agent', (req) => this.#callbackAgent(req)],
      [
        '/voice/callback/agent-status',
        'call back: agent status',
        (req) => this.#callbackAgentStatus(req),
        emptyTwiml,
      ],
      ['/voice/callback/customer', 'call back: customer', (req) => this.#callbackCustomer(req)],
      ['/voice/out/agent', 'phoning a customer: agent', (req) => this.#outAgent(req)],
      [
        '/voice/out/agent-status',
        'phoning a customer: agent status',
        (req) => this.#outAgentStatus(req),
        emptyTwiml,
      ],
      ['/voice/out/customer', 'phoning a customer: customer', (req) => this.#outCustomer(req)],
      ['/voice/out/answered', 'phoning a customer: answered', (req) => this.#outAnswered(req), emptyTwiml],
    ];
    for (const [path, what, fn, fallback] of routes) r.post(path, this.#handle(what, fn, fallback));
    return r;
  }

  // ---------------------------------------------------------------- webhooks

  /** A call comes in: the caller is resolved by `From`, and the TwiML connects them to a person or holds them. */
  async #incoming(req: Request): Promise<string> {
    const p = parseInput(CallParams, webhookParams(req), 'call');
    // A withheld number (or a caller id that is no number): answered all the same, as a customer of this call
    // alone, with no call back to offer.
    const withheld = callerNumber(p.From) === null;
    let result: Awaited<ReturnType<Router['contact']>>;
    try {
      result = await this.#router.contact({
        channel: 'voice',
        ...(withheld ? { from: p.CallSid, withheld: true } : { from: p.From }),
        ...(p.To ? { to: p.To } : {}),
        text: 'Phone call',
        externalId: p.CallSid,
      });
    } catch (err) {
      // A blocked customer: not answered, nothing stored.
      if (err instanceof BlockedError) return rejectTwiml();
      throw err;
    }
    const conversationId = result.conversation.id;
    if (p.To && !this.#o.fromNumber && !withheld) this.#o.onCaller?.(p.From, p.To);
    return this.#serial(conversationId, async () => {
      // Twilio asking again after the team closed on the customer (blocked or erased meanwhile): not rung again.
      if (result.outcome.type === 'duplicate' && result.conversation.status === 'abandoned')
        return rejectTwiml();
      const call = await this.#remember(p.CallSid, conversationId, p.From, p.To ?? null);
      if (result.outcome.type === 'duplicate' && call.target !== null && call.twiml) return call.twiml;
      // Calling again while a call back is owed (whichever process owes it): it stands until a person answers
      // this call (`#answered`), so a caller who only rang to check, and hangs up, is still called back. Their
      // place is the call back's: this call is put through instead of ringing the agent for a call back.
      const pending = this.#callbacks.get(conversationId);
      const owed = await this.#owesCallback(conversationId);
      if (pending?.agentCallSid) {
        const leg = pending.agentCallSid;
        const answered = pending.answered === true;
        pending.agentCallSid = null;
        pending.agentId = null;
        pending.answered = false;
        // Ringing: canceled. Picked up (it is dialling the customer, whose line is busy calling us): the agent
        // is told, and their leg ends so that this call can ring them.
        if (answered) await this.#endLeg(leg, SAY.callbackCustomerCalling);
        else await this.#cancel(leg);
      }
      const now = await this.#router.outcome(conversationId);
      // Back soon after giving up a wait, in the place they had (`contact()` said so): told first.
      const kept = result.outcome.type === 'queued' && result.outcome.keptPlace === true;
      return this.#render(call, kept && now.type === 'queued' ? { ...now, keptPlace: true } : now, owed);
    });
  }

  /** The queue's wait URL: quiet hold, the place in line only when it changed (at most once a minute). */
  async #wait(req: Request): Promise<string> {
    const p = parseInput(WaitParams, webhookParams(req), 'queue wait');
    const q = parseInput(ConversationQuery, req.query, 'query');
    return this.#serial(q.conversation, async () => {
      const call = await this.#remember(p.CallSid, q.conversation, p.From, p.To ?? null, 'queue');
      // No longer waiting for anyone (its customer was blocked or erased while on hold): the call ends.
      const conv = await this.#router.store.getConversation(q.conversation);
      if (!conv || conv.status === 'abandoned') return hangUpTwiml();
      const outcome = await this.#router.outcome(q.conversation);
      if (call.target === 'queue' && agentOf(outcome) !== null) {
        // Someone can take it and the REST update did not reach the call: leave the queue; the
        // Enqueue action then dials them.
        call.target = `agent:${agentOf(outcome)}`;
        return leaveTwiml();
      }
      const now = this.#router.clock.now();
      let sentence: string | null = null;
      const quote = await this.#router.quote(q.conversation);
      if (call.notice) {
        // A wait running late: the apology and its new time, once; the place is said again only when it moves.
        sentence = call.notice;
        call.notice = undefined;
        if (quote) call.told = { key: holdKey(quote), at: now };
      } else if (quote) {
        const key = holdKey(quote);
        if (!call.told) call.told = { key, at: now };
        else if (key !== call.told.key && now - call.told.at >= NOTICE_EVERY_MS) {
          sentence = waitSentence(this.#router.policy, quote);
          call.told = { key, at: now };
        }
      }
      // A withheld number: no call back to offer.
      const withheld = callerNumber(call.caller) === null;
      const closed = quote && closedLong(quote);
      if (closed) {
        // Owed a call back already (they called again): it stands; the call ends with it said (`#queueResult`).
        if (await this.#owesCallback(q.conversation)) {
          call.target = 'callback';
          return leaveTwiml();
        }
        // The round after the offer (no call back asked for), or a withheld number (none to offer): the call
        // ends (`#queueResult`).
        if (call.closedOffer || withheld) {
          call.closedOffer ??= closed.opensInSeconds === null ? 'nobody' : 'hours';
          call.target = 'closing';
          return leaveTwiml();
        }
        call.closedOffer = closed.opensInSeconds === null ? 'nobody' : 'hours';
        call.offeredCallback = true;
        return waitTwiml({
          // Nobody holds on for it: said without "you keep your place".
          sentence: sentence === null ? null : this.#closedSentence(closed),
          offerCallback: true,
          offerText:
            call.closedOffer === 'hours' ? this.#texts.closedCallbackOffer : this.#texts.nobodyCallbackOffer,
          voice: this.#voice,
          gatherAction: this.#url('/voice/gather', { conversation: q.conversation }),
          holdMusicUrl: this.#o.holdMusicUrl,
          pauseSeconds: HOLD_PAUSE_SECONDS,
        });
      }
      call.closedOffer = undefined;
      const offerCallback = (!call.offeredCallback || sentence !== null) && !withheld;
      call.offeredCallback = true;
      return waitTwiml({
        sentence,
        offerCallback,
        offerText: this.#texts.callbackOffer,
        voice: this.#voice,
        gatherAction: this.#url('/voice/gather', { conversation: q.conversation }),
        holdMusicUrl: this.#o.holdMusicUrl,
        pauseSeconds: HOLD_PAUSE_SECONDS,
      });
    });
  }

  /** A key pressed while holding: "1" asks for a call back and keeps the place; anything else holds on. */
  async #gather(req: Request): Promise<string> {
    const p = parseInput(GatherParams, webhookParams(req), 'gather');
    const q = parseInput(ConversationQuery, req.query, 'query');
    const waitUrl = this.#url('/voice/wait', { conversation: q.conversation });
    // A withheld number has no call back to ask for (none was offered): holding on.
    if (p.Digits.trim() !== '1' || callerNumber(p.From) === null) return redirectTwiml(waitUrl);
    return this.#serial(q.conversation, async () => {
      const call = await this.#remember(p.CallSid, q.conversation, p.From, p.To ?? null, 'queue');
      // Either way the call leaves the Twilio queue: its Enqueue action confirms the call back, or
      // (no longer waiting) connects the caller to the agent who has it now.
      await this.#askCallback(call);
      return leaveTwiml();
    });
  }

  /** The call left the Twilio queue. */
  async #queueResult(req: Request): Promise<string> {
    const p = parseInput(QueueResultParams, webhookParams(req), 'queue result');
    const q = parseInput(ConversationQuery, req.query, 'query');
    return this.#serial(q.conversation, async () => {
      const call = await this.#remember(p.CallSid, q.conversation, p.From, p.To ?? null, 'queue');
      switch (p.QueueResult) {
        case 'leave':
          if (call.target === 'callback')
            return this.#give(
              call,
              'callback',
              sayAndHangUp(await this.#callbackConfirmed(call), this.#voice),
            );
          if (call.target === 'closing') {
            // Switchboard ends this call itself: its conversation leaves the line now, as when a caller hangs up,
            // not when (or if) the status callback comes; that one, later, changes nothing (`#ended`).
            const goodbye = this.#give(
              call,
              'done',
              sayAndHangUp(
                call.closedOffer === 'nobody' ? this.#texts.nobodyGoodbye : this.#texts.closedGoodbye,
                this.#voice,
              ),
            );
            await this.#ended(call.callSid, q.conversation);
            return goodbye;
          }
          return this.#render(call, await this.#router.outcome(q.conversation));
        case 'hangup':
          await this.#ended(call.callSid, q.conversation);
          return emptyTwiml();
        case 'redirected':
        case 'redirected-from-bridged':
          // Sent somewhere by a REST update: that TwiML runs; answer the same.
          return call.twiml || emptyTwiml();
        case 'bridged':
        case 'bridging-in-process':
          return emptyTwiml();
        case 'queue-full':
        case 'system-error':
        case 'error': {
          // Twilio could not hold the call: keep the place with a call back instead.
          if (await this.#askCallback(call))
            return this.#give(
              call,
              'callback',
              sayAndHangUp(await this.#callbackConfirmed(call), this.#voice),
            );
          const outcome = await this.#router.outcome(q.conversation);
          if (agentOf(outcome) !== null) return this.#render(call, outcome);
          return sayAndHangUp(this.#texts.callUnavailable, this.#voice);
        }
      }
    });
  }

  /** How the `<Dial>` to an agent ended. */
  async #dialResult(req: Request): Promise<string> {
    const p = parseInput(DialParams, webhookParams(req), 'dial result');
    const q = parseInput(DialQuery, req.query, 'query');
    return this.#serial(q.conversation, async () => {
      const call = await this.#remember(p.CallSid, q.conversation, p.From, p.To ?? null, `agent:${q.agent}`);
      if (FINAL_CALL_STATUSES.includes(p.CallStatus)) return emptyTwiml(); // the caller is gone
      switch (p.DialCallStatus) {
        case 'completed':
        case 'answered': {
          // Put through to a colleague meanwhile (a hand-off): Twilio asks this action when the call is moved
          // to new TwiML, and the call goes on with the colleague.
          if (call.target !== `agent:${q.agent}`) return call.twiml || emptyTwiml();
          // Screened: their phone was picked up (perhaps by its voicemail) and nobody pressed 1, so the whisper
          // hung up before the caller was put through. Not answered: the next agent is tried.
          if (q.screen && !call.connected && (p.DialBridged === 'false' || (await this.#offeredTo(q)))) {
            this.#o.log.info(
              { conversationId: q.conversation, agentId: q.agent },
              'voice: agent did not take a screened call; trying the next',
            );
            return this.#render(call, await this.#missed(q.agent, q.conversation, 'no-answer'));
          }
          // They talked. Ownership holds even if the `answered` callback was lost.
          await this.#accept(q.agent, q.conversation);
          return this.#give(call, 'done', hangUpTwiml());
        }
        case 'canceled':
          return call.twiml || emptyTwiml();
        case 'busy':
        case 'no-answer':
        case 'failed': {
          if (call.target !== `agent:${q.agent}`) return call.twiml || emptyTwiml(); // moved on already
          this.#o.log.info(
            { conversationId: q.conversation, agentId: q.agent, result: p.DialCallStatus },
            'voice: agent did not answer; trying the next',
          );
          const outcome = await this.#missed(q.agent, q.conversation, p.DialCallStatus);
          return this.#render(call, outcome);
        }
      }
    });
  }

  /** The agent picked up: the offer becomes ownership. */
  async #answered(req: Request): Promise<string> {
    parseInput(StatusParams, webhookParams(req), 'answered');
    const q = parseInput(AgentQuery, req.query, 'query');
    return this.#serial(q.conversation, async () => {
      await this.#pickedUp(q);
      return emptyTwiml();
    });
  }

  /** Whether the conversation's offer is still `agent`'s (never taken). */
  async #offeredTo(q: { conversation: string; agent: string }): Promise<boolean> {
    return (await this.#router.store.getConversation(q.conversation))?.offer?.agentId === q.agent;
  }

  /**
   * Call screening: the agent rung on a phone number picked up (or their voicemail did). They hear who waits
   * and press 1 to take the call; the caller hears it ring meanwhile (`answerOnBridge`).
   */
  async #screen(req: Request): Promise<string> {
    parseInput(CallParams, webhookParams(req), 'screening');
    const q = parseInput(AgentQuery, req.query, 'query');
    return screenTwiml(SAY.screenCall, this.#url('/voice/screen/key', q));
  }

  /**
   * The key the screening agent pressed: 1 takes the call (the whisper ends and Twilio puts the caller through);
   * anything else, or nothing (a voicemail), hangs their leg up, and the caller's `<Dial>` action tries the next.
   */
  async #screenKey(req: Request): Promise<string> {
    const p = parseInput(GatherParams, webhookParams(req), 'screening key');
    const q = parseInput(AgentQuery, req.query, 'query');
    if (p.Digits.trim() !== '1') return hangUpTwiml();
    return this.#serial(q.conversation, async () =>
      (await this.#pickedUp(q, true)) ? emptyTwiml() : sayAndHangUp(SAY.screenTaken),
    );
  }

  /** A person took the customer's call: theirs now; false when it went elsewhere meanwhile. */
  async #pickedUp(q: { conversation: string; agent: string }, screened = false): Promise<boolean> {
    const callSid = this.#callOf.get(q.conversation);
    const call = callSid ? this.#calls.get(callSid) : undefined;
    if (call?.target === `agent:${q.agent}`) call.connected = true;
    const accepted = await this.#accept(q.agent, q.conversation);
    if (!accepted) {
      this.#o.log.warn(
        { conversationId: q.conversation, agentId: q.agent },
        'voice: an agent answered a call no longer offered to them',
      );
      // A screened leg is hung up then: the caller is not put through to them.
      if (screened && call) call.connected = false;
    }
    // A person answered the customer's own call: a call back still owed them is no longer needed.
    if (call?.connected && (await this.#owesCallback(q.conversation))) {
      this.#callbacks.delete(q.conversation);
      await this.#router.settleCallback(q.conversation, 'void');
    }
    return accepted;
  }

  /**
   * The number's call status callback: a caller who hung up while waiting abandoned; a finished call stays open for
   * its owner's after-call work (Router `#wrapUpDue`).
   */
  async #status(req: Request): Promise<string> {
    const p = parseInput(StatusParams, webhookParams(req), 'call status');
    if (!FINAL_CALL_STATUSES.includes(p.CallStatus)) return emptyTwiml();
    const known = this.#calls.get(p.CallSid)?.conversationId;
    const conversationId =
      known ?? (await this.#router.store.findMessageByExternalId('voice', p.CallSid))?.conversationId;
    if (!conversationId) return emptyTwiml();
    await this.#serial(conversationId, () => this.#ended(p.CallSid, conversationId));
    return emptyTwiml();
  }

  // ---------------------------------------------------------------- call backs

  /** The agent answered the call back: tell them, then dial the customer (screened: once they press 1). */
  async #callbackAgent(req: Request): Promise<string> {
    const p = parseInput(CallParams, webhookParams(req), 'call back');
    const q = parseInput(CallbackQuery, req.query, 'query');
    return this.#serial(q.conversation, () => this.#callbackLeg(p.CallSid, q, q.screen === '1'));
  }

  /**
   * A screened call back leg's key: 1 dials the customer; anything else, or nothing (their voicemail answered),
   * ends the leg and the next agent is tried, the customer keeping their place.
   */
  async #callbackScreen(req: Request): Promise<string> {
    const p = parseInput(GatherParams, webhookParams(req), 'call back screening');
    const q = parseInput(CallbackQuery, req.query, 'query');
    return this.#serial(q.conversation, async () => {
      if (p.Digits.trim() === '1') return this.#callbackLeg(p.CallSid, q, false);
      const cb = this.#callbacks.get(q.conversation);
      const conv = await this.#router.store.getConversation(q.conversation);
      if (conv && this.#legs(q, p.CallSid, conv, cb).current) {
        if (cb?.agentCallSid === p.CallSid) {
          cb.agentCallSid = null;
          cb.agentId = null;
        }
        this.#o.log.info(
          { conversationId: q.conversation, agentId: q.agent },
          'voice: agent did not take a screened call back; trying the next',
        );
        await this.#missed(q.agent, q.conversation, 'no-answer');
      }
      return hangUpTwiml();
    });
  }

  /** The call back leg the agent picked up: screening first, else the customer dialled from it. */
  async #callbackLeg(callSid: string, q: z.output<typeof CallbackQuery>, screen: boolean): Promise<string> {
    const conv = await this.#router.store.getConversation(q.conversation);
    const legs = conv ? this.#legs(q, callSid, conv) : null;
    if (!legs?.current || !(await this.#router.openCallback(q.conversation)))
      return sayAndHangUp(SAY.callbackTaken);
    const { customer, from } = legs;
    if (screen && customer && from)
      return screenTwiml(
        SAY.screenCallback,
        this.#callbackUrl('/voice/callback/screen', q, { customer, from }),
      );
    if (!customer || !from || !(await this.#accept(q.agent, q.conversation)))
      return sayAndHangUp(SAY.callbackTaken);
    const cb = this.#callbacks.get(q.conversation);
    if (cb?.agentCallSid === callSid) cb.answered = true;
    return callbackDialTwiml({
      customer,
      callerId: from,
      action: this.#callbackUrl('/voice/callback/customer', q, { customer, from }, 1),
      timeoutSeconds: CUSTOMER_RING_SECONDS,
      say: SAY.callbackConnecting,
    });
  }

  /** How the dial to the customer ended: connected, retried, or given up with a text to the customer. */
  async #callbackCustomer(req: Request): Promise<string> {
    const p = parseInput(DialParams, webhookParams(req), 'call back dial');
    const q = parseInput(CallbackAttemptQuery, req.query, 'query');
    return this.#serial(q.conversation, async () => {
      if (p.DialCallStatus === 'completed' || p.DialCallStatus === 'answered') {
        const connectedAt = this.#router.clock.now() - (p.DialCallDuration ?? 0) * 1000;
        await this.#router.settleCallback(q.conversation, 'connected', connectedAt);
        this.#callbacks.delete(q.conversation);
        return hangUpTwiml();
      }
      // Not reached because they are calling us at this moment: their call rings the agent instead.
      if (this.#callOf.has(q.conversation)) return sayAndHangUp(SAY.callbackCustomerCalling);
      const { customer, from } = this.#numbers(q, this.#callbacks.get(q.conversation));
      const agentStillThere = !FINAL_CALL_STATUSES.includes(p.CallStatus);
      if (customer && from && agentStillThere && q.attempt <= this.#o.callbackRetries) {
        const seconds = this.#o.callbackRetrySeconds;
        return callbackDialTwiml({
          customer,
          callerId: from,
          action: this.#callbackUrl('/voice/callback/customer', q, { customer, from }, q.attempt + 1),
          timeoutSeconds: CUSTOMER_RING_SECONDS,
          say: SAY.callbackRetry(seconds, p.DialCallStatus === 'busy'),
          pauseSeconds: seconds,
        });
      }
      await this.#callbackFailed(q.conversation);
      return agentStillThere ? sayAndHangUp(SAY.callbackFailed) : emptyTwiml();
    });
  }

  /** The agent's leg of a call back ended; unanswered, the next agent is tried and the customer keeps their place. */
  async #callbackAgentStatus(req: Request): Promise<string> {
    const p = parseInput(StatusParams, webhookParams(req), 'call back status');
    const q = parseInput(CallbackQuery, req.query, 'query');
    if (!FINAL_CALL_STATUSES.includes(p.CallStatus)) return emptyTwiml();
    await this.#serial(q.conversation, async () => {
      const cb = this.#callbacks.get(q.conversation);
      if (cb?.agentCallSid === p.CallSid) {
        cb.agentCallSid = null;
        cb.agentId = null;
      }
      if (p.CallStatus === 'completed') {
        if (cb && !(await this.#router.openCallback(q.conversation))) this.#callbacks.delete(q.conversation);
        return;
      }
      // Only the REST API cancels an outbound call: this process (or another) stopped ringing the agent itself
      // (routing moved on, the customer called in). Not a ring the agent missed.
      if (p.CallStatus === 'canceled') return;
      const conv = await this.#router.store.getConversation(q.conversation);
      if (!conv || !this.#legs(q, p.CallSid, conv, cb).current) return;
      this.#o.log.info(
        { conversationId: q.conversation, agentId: q.agent, result: p.CallStatus },
        'voice: agent did not answer a call back; trying the next',
      );
      await this.#missed(
        q.agent,
        q.conversation,
        p.CallStatus === 'busy' ? 'busy' : p.CallStatus === 'failed' ? 'failed' : 'no-answer',
      );
    });
    return emptyTwiml();
  }

  /**
   * What a call back leg's URL and this process know of it: whether it is the leg routing waits on (placed
   * for what routing still has the conversation doing with its agent; for a leg whose URL does not say, the
   * one this process placed), the customer's number and the number to call them from.
   */
  #legs(
    q: z.output<typeof CallbackQuery>,
    callSid: string,
    conv: Conversation,
    cb = this.#callbacks.get(q.conversation),
  ): { current: boolean; customer: string | null; from: string | null } {
    const current =
      q.placed !== undefined
        ? this.#placement(conv, q.agent) === q.placed || acceptedOffer(conv, q.agent, q.placed)
        : cb !== undefined && cb.agentCallSid === callSid;
    return { current, ...this.#numbers(q, cb) };
  }

  /** A call back leg's customer number and the number to call them from: its URL's, else this process's. */
  #numbers(
    q: z.output<typeof CallbackQuery>,
    cb: Callback | undefined,
  ): { customer: string | null; from: string | null } {
    return {
      customer: q.customer ?? cb?.customer ?? null,
      from: q.from ?? (cb ? this.#callerIdOf(cb) : null),
    };
  }

  // ---------------------------------------------------------------- an agent phones a customer

  /**
   * Ring the agent for a call to the customer (Router `callCustomer`); whichever process Twilio reaches
   * answers its webhooks from what their URLs say.
   */
  async #callOut(request: { conversationId: string; agentId: string; to: string }): Promise<void> {
    const agent = await this.#router.store.getAgent(request.agentId);
    const address = agent ? dialAddress(agent) : null;
    if (!address) {
      throw new ConflictError(
        'agent_unreachable',
        `${agent?.name ?? request.agentId} has ${NO_ADDRESS}: set their Twilio Client identity or phone`,
      );
    }
    const from = this.#o.fromNumber;
    if (!from) throw new ConflictError('channel_off', 'no number to call from: set TWILIO_FROM_NUMBER');
    const screened = this.#screens(address);
    const query = {
      conversation: request.conversationId,
      agent: request.agentId,
      customer: request.to,
      from,
    };
    const legQuery = screened ? { ...query, screen: '1' } : query;
    // One at a time: a second press (or a second device) while a call to this customer, or one of this agent's,
    // rings or is under way is refused (until it ends, or the agent makes themselves available: `#onEvent`).
    const [forCustomer, forAgent] = outLeases(query);
    const ringing = this.#ringSeconds() + CUSTOMER_RING_SECONDS + OUT_RING_MARGIN_SECONDS;
    if (!(await this.#holders.lease(forCustomer, ringing)))
      throw new ConflictError('call_under_way', 'a call to this customer is under way already');
    if (!(await this.#holders.lease(forAgent, ringing))) {
      await this.#holders.free(forCustomer);
      throw new ConflictError(
        'call_under_way',
        'you are on a call to a customer already: one call at a time (make yourself available once it has ended)',
      );
    }
    try {
      await this.#client.calls.create({
        to: callTo(address),
        from,
        url: this.#url('/voice/out/agent', legQuery),
        method: 'POST',
        statusCallback: this.#url('/voice/out/agent-status', query),
        statusCallbackMethod: 'POST',
        statusCallbackEvent: ['completed'],
        timeout: this.#ringSeconds(),
      });
    } catch (err) {
      const failure = restFailure(err);
      this.#o.log.warn(
        { conversationId: request.conversationId, reason: failure.reason },
        'voice: could not place a call',
      );
      await this.#endOut(query);
      const said = `the call could not be placed: ${failure.reason}`;
      throw new SwitchboardError('call_failed', said, 502, undefined, said);
    }
    // The team view shows the call, with whom and since when, while it rings or goes on.
    try {
      await this.#router.callingOut(
        {
          agentId: request.agentId,
          conversationId: request.conversationId,
          to: request.to,
          since: this.#router.clock.now(),
        },
        ringing,
      );
    } catch (err) {
      this.#o.log.warn(
        { err, agentId: request.agentId },
        'voice: could not keep a call out for the team view',
      );
    }
    // On the phone from now until the call ends: not offered anything meanwhile (their own customers wait for
    // them, or a colleague covers a caller), and the team sees why.
    if (agent!.status === 'available') {
      try {
        await this.#router.setAgentStatus(request.agentId, 'away', PHONING_OUT);
      } catch (err) {
        this.#o.log.warn({ err, agentId: request.agentId }, 'voice: could not set an agent on a call away');
      }
    }
  }

  /** The leases of an agent's calls to customers: theirs, and those of the open conversations they are on. */
  async #releaseOut(agentId: string): Promise<void> {
    const [, forAgent] = outLeases({ conversation: '', agent: agentId });
    if (!(await this.#holders.leased(forAgent))) return;
    await this.#holders.free(forAgent);
    await this.#router.callOutEnded(agentId);
    for (const conv of await this.#router.store.listAgentConversations(agentId)) {
      if (conv.ownerId === agentId || conv.cover?.agentId === agentId)
        await this.#holders.free(outLeases({ conversation: conv.id, agent: agentId })[0]);
    }
  }

  /**
   * The agent's call to the customer is over (or never went out): its leases go, and an agent Switchboard set
   * away for it is available again (one who changed their status meanwhile keeps it).
   */
  async #endOut(q: { conversation: string; agent: string }): Promise<void> {
    for (const name of outLeases(q)) {
      try {
        await this.#holders.free(name);
      } catch (err) {
        this.#o.log.warn({ err, lease: name }, 'voice: could not give a call lease up; it lapses by itself');
      }
    }
    try {
      await this.#router.callOutEnded(q.agent);
    } catch (err) {
      this.#o.log.warn(
        { err, agentId: q.agent },
        'voice: could not end a call out for the team view; it lapses',
      );
    }
    try {
      const agent = await this.#router.store.getAgent(q.agent);
      if (agent?.status === 'away' && agent.statusReason === PHONING_OUT)
        await this.#router.setAgentStatus(q.agent, 'available');
    } catch (err) {
      this.#o.log.warn(
        { err, agentId: q.agent },
        'voice: could not make an agent available after their call',
      );
    }
  }

  /**
   * The agent picked up: the customer is dialled from their call, if the conversation is still theirs; a leg
   * rung on their phone number is screened first (press 1), so that their voicemail never calls the customer.
   */
  async #outAgent(req: Request): Promise<string> {
    parseInput(CallParams, webhookParams(req), 'phoning a customer');
    const q = parseInput(OutboundQuery, req.query, 'query');
    if (q.screen === '1') {
      const { screen: _, ...rest } = q;
      return screenTwiml(SAY.screenOut, this.#url('/voice/out/screen', rest));
    }
    return this.#outDial(q);
  }

  /** The key of a screened call out: 1 dials the customer; nothing (their voicemail) ends it, noted. */
  async #outScreen(req: Request): Promise<string> {
    const p = parseInput(GatherParams, webhookParams(req), 'phoning a customer: screening');
    const q = parseInput(OutboundQuery, req.query, 'query');
    if (p.Digits.trim() === '1') return this.#outDial(q);
    await this.#endOut(q);
    await this.#router.callNote(
      q.conversation,
      `The call to the customer at ${q.customer} did not go out: nobody pressed 1 on the agent's phone (its voicemail may have answered).`,
    );
    return hangUpTwiml();
  }

  async #outDial(q: z.output<typeof OutboundQuery>): Promise<string> {
    const conv = await this.#router.store.getConversation(q.conversation);
    const theirs =
      conv?.status === 'assigned' && (conv.ownerId === q.agent || conv.cover?.agentId === q.agent);
    if (!theirs) {
      await this.#endOut(q);
      const why = !conv
        ? 'the conversation is gone'
        : conv.status !== 'assigned'
          ? `the conversation was ${conv.status === 'resolved' ? 'resolved' : 'closed'} meanwhile`
          : `the conversation is no longer ${await this.#agentName(q.agent)}'s`;
      await this.#router.callNote(
        q.conversation,
        `The call to the customer at ${q.customer} did not go out: ${why}.`,
      );
      return sayAndHangUp(conv?.status === 'assigned' ? SAY.outNotYours : SAY.outClosed);
    }
    return callbackDialTwiml({
      customer: q.customer,
      callerId: q.from,
      action: this.#url('/voice/out/customer', q),
      answered: this.#url('/voice/out/answered', q),
      timeoutSeconds: CUSTOMER_RING_SECONDS,
      say: SAY.outConnecting,
    });
  }

  /** The customer picked up: the call's leases last while they talk. */
  async #outAnswered(req: Request): Promise<string> {
    parseInput(StatusParams, webhookParams(req), 'phoning a customer: answered');
    const q = parseInput(OutboundQuery, req.query, 'query');
    for (const name of outLeases(q)) await this.#holders.renew(name, OUT_TALK_SECONDS);
    try {
      await this.#router.callingOut(
        { agentId: q.agent, conversationId: q.conversation, to: q.customer },
        OUT_TALK_SECONDS,
      );
    } catch (err) {
      this.#o.log.warn({ err, agentId: q.agent }, 'voice: could not keep a call out for the team view');
    }
    return emptyTwiml();
  }

  /** How the dial to the customer ended: said to the agent, and noted on the conversation. */
  async #outCustomer(req: Request): Promise<string> {
    const p = parseInput(DialParams, webhookParams(req), 'phoning a customer: dial');
    const q = parseInput(OutboundQuery, req.query, 'query');
    const agentStillThere = !FINAL_CALL_STATUSES.includes(p.CallStatus);
    await this.#endOut(q);
    if (p.DialCallStatus === 'completed' || p.DialCallStatus === 'answered') {
      const seconds = p.DialCallDuration ?? 0;
      await this.#router.callNote(
        q.conversation,
        `Phoned the customer at ${q.customer}: they talked for ${talkedFor(seconds)}.`,
      );
      return hangUpTwiml();
    }
    const busy = p.DialCallStatus === 'busy';
    const how = busy
      ? 'their line was busy'
      : p.DialCallStatus === 'failed'
        ? 'the call did not go through'
        : p.DialCallStatus === 'canceled' || !agentStillThere
          ? 'the agent hung up before they answered'
          : 'no answer';
    await this.#router.callNote(q.conversation, `Phoned the customer at ${q.customer}: ${how}.`);
    return agentStillThere ? sayAndHangUp(busy ? SAY.outBusy : SAY.outNoAnswer) : emptyTwiml();
  }

  /** The agent's own phone did not pick up: the customer was not called, and the agent's notes say so. */
  async #outAgentStatus(req: Request): Promise<string> {
    const p = parseInput(StatusParams, webhookParams(req), 'phoning a customer: status');
    const q = parseInput(OutboundQuery, req.query, 'query');
    if (!FINAL_CALL_STATUSES.includes(p.CallStatus)) return emptyTwiml();
    await this.#endOut(q);
    if (p.CallStatus === 'completed') return emptyTwiml();
    const reason =
      p.CallStatus === 'busy'
        ? 'was busy'
        : p.CallStatus === 'failed'
          ? 'could not be rung'
          : 'was not picked up';
    await this.#router.callNote(
      q.conversation,
      `The call to the customer at ${q.customer} did not go out: the agent's phone ${reason}.`,
    );
    return emptyTwiml();
  }

  // ---------------------------------------------------------------- routing moved a call

  /**
   * A live call is moved by the process that holds it, whichever process routed it. A call back is placed
   * by the process whose routing gave it to an agent (it hears that decision once), from what the store
   * holds when it did not take the request itself.
   */
  #onEvent(event: DomainEvent, origin: EventOrigin): void {
    switch (event.type) {
      case 'promise.at_risk': {
        // Said on the line, by the process holding the call (routing stored it as said: router.ts `#atRiskCheck`).
        const { message } = event;
        if (message.channel !== 'voice' || message.delivery.state !== 'sent') return;
        const callSid = this.#callOf.get(message.conversationId);
        const call = callSid ? this.#calls.get(callSid) : undefined;
        if (call && !call.connected) call.notice = message.text;
        return;
      }
      case 'conversation.offered':
      case 'conversation.assigned':
      case 'conversation.covered':
      case 'conversation.queued':
      case 'conversation.updated': {
        const conv = event.conversation;
        // Only routing giving it to someone can call for a call back this process does not know of, or a
        // take-over: other changes (a note, a wait) do not send it to the store to look.
        const decided = event.type !== 'conversation.queued' && event.type !== 'conversation.updated';
        const callBack =
          origin === 'local' &&
          (this.#callbacks.has(conv.id) || (decided && conv.lastChannel === 'voice' && isWithAgent(conv)));
        if (!this.#callOf.has(conv.id) && !callBack) return;
        this.#serial(conv.id, () => this.#sync(conv.id, callBack)).catch((err) =>
          this.#o.log.warn({ err, conversationId: conv.id }, 'voice: could not move the call'),
        );
        return;
      }
      case 'conversation.handoff': {
        // Offered while its caller talks to the agent: the colleague learns that accepting puts the caller
        // through to them now (said by the process that holds the call).
        if (event.action !== 'offered') return;
        const callSid = this.#callOf.get(event.conversation.id);
        const call = callSid ? this.#calls.get(callSid) : undefined;
        if (!call?.connected || call.target !== `agent:${event.from}`) return;
        void this.#serial(event.conversation.id, async () => {
          const [from, to] = await Promise.all([this.#agentName(event.from), this.#agentName(event.to)]);
          await this.#router.callNote(
            event.conversation.id,
            `The caller is on the line with ${from}: if ${to} accepts, their phone rings for the caller at once.`,
          );
        }).catch((err) =>
          this.#o.log.warn(
            { err, conversationId: event.conversation.id },
            'voice: could not note the caller',
          ),
        );
        return;
      }
      case 'agent.status': {
        // An agent available again (by their own hand, or their call's end): a call of theirs whose end went
        // unheard no longer holds them, nor the conversations they are on.
        if (event.status !== 'available' || origin !== 'local') return;
        void this.#serial(`agent:${event.agentId}`, () => this.#releaseOut(event.agentId)).catch((err) =>
          this.#o.log.warn({ err, agentId: event.agentId }, 'voice: could not release a call lease'),
        );
        return;
      }
      case 'conversation.abandoned': {
        // A caller on hold whose customer the team blocked or erased: the call ends (their hold would never end).
        const id = event.conversation.id;
        const callSid = event.blocked || event.erased ? this.#callOf.get(id) : undefined;
        if (callSid) void this.#serial(id, () => this.#hangUp(callSid));
        return;
      }
      default:
        return;
    }
  }

  async #hangUp(callSid: string): Promise<void> {
    try {
      await this.#client.calls(callSid).update({ status: 'completed' });
    } catch (err) {
      this.#o.log.warn({ err, callSid }, 'voice: could not end the call of a customer the team closed on');
    }
  }

  /**
   * Bring the live call this process holds in line with where routing put the conversation; else, with
   * `callBack`, place the call back it owes, if it does.
   */
  async #sync(conversationId: string, callBack: boolean, takeOver = true): Promise<void> {
    const conv = await this.#router.store.getConversation(conversationId);
    if (!conv || conv.status === 'resolved' || conv.status === 'abandoned') return;
    const callSid = this.#callOf.get(conversationId);
    const call = callSid ? this.#calls.get(callSid) : undefined;
    if (call?.connected) {
      await this.#putThrough(call, conv);
      return;
    }
    if (call && !(await this.#stillHolds(call))) return;
    if (call) {
      await this.#move(call);
      return;
    }
    if (!callBack) return;
    // The take-over and a call back rebuilt from the store both look in its messages: read once, when needed.
    let read: Promise<Message[]> | null = null;
    const messages = () => (read ??= this.#router.store.listMessages(conversationId));
    // A caller on hold whose process stopped, just offered to an agent by this process's routing.
    if (takeOver && conv.status === 'queued' && conv.offer && (await this.#takeOver(conv, messages))) return;
    const cb = this.#callbacks.get(conversationId) ?? (await this.#storedCallback(conv, messages));
    if (cb) await this.#callBack(cb, conv);
  }

  /**
   * A call in progress whose agent handed the conversation to a colleague, who accepted: the caller is put
   * through to the colleague (their call gets new TwiML over the REST API, which ends the agent's leg). Any other
   * change of a connected call (a consult, a cover of another channel) leaves it where it is.
   */
  async #putThrough(call: LiveCall, conv: Conversation): Promise<void> {
    const on = call.target?.startsWith('agent:') ? call.target.slice('agent:'.length) : null;
    const last = conv.ownership.at(-1);
    const to = conv.status === 'assigned' ? conv.ownerId : null;
    if (!on || !to || to === on || last?.reason !== 'handoff' || last.to !== to || last.from !== on) return;
    if (call.notPutThrough === to || !(await this.#stillHolds(call))) return;
    const agent = await this.#router.store.getAgent(to);
    const address = agent ? dialAddress(agent) : null;
    if (!address) {
      call.notPutThrough = to;
      await this.#router.callNote(
        conv.id,
        `The caller stays on the line with ${await this.#agentName(on)}: ${agent?.name ?? to} has ${NO_ADDRESS}.`,
      );
      return;
    }
    const twiml = this.#dialAgent(
      address,
      conv.id,
      to,
      fillText(this.#texts.puttingThrough, { agent: agent!.name }),
    );
    try {
      await this.#client.calls(call.callSid).update({ twiml });
    } catch (err) {
      this.#o.log.warn(
        { err, conversationId: conv.id },
        'voice: could not put the call through to the colleague',
      );
      call.notPutThrough = to;
      // Twilio's 21220: the call is no longer in progress (they hung up just now).
      const ended = (err as { code?: unknown }).code === 21220;
      await this.#router.callNote(
        conv.id,
        ended
          ? `The caller hung up before they could be put through to ${agent!.name}.`
          : `The caller could not be put through to ${agent!.name}; they are still on the line with ${await this.#agentName(on)}.`,
      );
      return;
    }
    call.target = `agent:${to}`;
    call.twiml = twiml;
    call.connected = false;
    await this.#router.callNote(conv.id, `The caller is put through to ${agent!.name}.`);
  }

  async #agentName(agentId: string): Promise<string> {
    return (await this.#router.store.getAgent(agentId))?.name ?? agentId;
  }

  /**
   * Give a waiting (or ringing) live call the TwiML for where routing put it now, over the REST API; false
   * when the update did not reach the call (it may have ended; if not, its wait loop picks the agent up).
   */
  async #move(call: LiveCall): Promise<boolean> {
    if (!(call.target === null || call.target === 'queue' || call.target.startsWith('agent:'))) return true;
    const before = { target: call.target, twiml: call.twiml };
    const outcome = await this.#router.outcome(call.conversationId);
    if (targetOf(outcome) === call.target) return true;
    const twiml = await this.#render(call, outcome);
    if (call.target === before.target) return true;
    try {
      await this.#client.calls(call.callSid).update({ twiml });
      return true;
    } catch (err) {
      call.target = before.target;
      call.twiml = before.twiml;
      this.#o.log.warn({ err, conversationId: call.conversationId }, 'voice: call update failed');
      return false;
    }
  }

  /**
   * Take over the conversation's live call when the process holding it has stopped, and move it now (instead
   * of at the caller's next round of hold music); false when there is none to take (a running process holds
   * it, or the call ended) or it could not be moved.
   */
  async #takeOver(conv: Conversation, messages: () => Promise<Message[]>): Promise<boolean> {
    const lastCall = (await messages()).findLast(
      (m) => m.channel === 'voice' && m.direction === 'in' && m.externalId !== undefined,
    );
    const callSid = lastCall?.externalId;
    if (!callSid) return false;
    try {
      if (!(await this.#holders.adopt(callSid))) return false;
    } catch (err) {
      this.#o.log.warn({ err, callSid }, 'voice: could not read who holds the call');
      return false;
    }
    const caller = lastCall?.from ?? phoneOf(await this.#router.store.getCustomer(conv.customerId)) ?? '';
    const call = await this.#remember(callSid, conv.id, caller, null, 'queue');
    this.#o.log.info({ callSid, conversationId: conv.id }, 'voice: took over a call whose process stopped');
    if (await this.#move(call)) return true;
    this.#forget(callSid);
    await this.#release(callSid);
    return false;
  }

  /**
   * The call back the conversation is owed when another process took the request (its customer's phone
   * number, called from ours), kept here from now on; null when none is owed.
   */
  async #storedCallback(conv: Conversation, messages: () => Promise<Message[]>): Promise<Callback | null> {
    if (!(await this.#router.openCallback(conv.id))) return null;
    // The number they called or texted from on this conversation, else the number we know for them.
    const phone =
      lastAddress(await messages(), PHONE_CHANNELS) ??
      phoneOf(await this.#router.store.getCustomer(conv.customerId));
    if (!phone) {
      this.#o.log.warn(
        { conversationId: conv.id },
        'voice: a call back is owed to a customer with no phone number',
      );
      return null;
    }
    const cb: Callback = {
      conversationId: conv.id,
      customer: phone,
      ourNumber: null,
      agentId: null,
      agentCallSid: null,
    };
    this.#callbacks.set(conv.id, cb);
    return cb;
  }

  /** Their turn came: ring the agent first; the customer is dialed from the agent's leg. */
  async #callBack(cb: Callback, conv: Conversation): Promise<void> {
    const agentId = agentOf(await this.#router.outcome(conv.id));
    if (agentId === null) return;
    // One leg for each thing routing does (whichever process placed it); an accepted offer needs none.
    const placed = this.#placement(conv, agentId);
    if (placed === null || (cb.agentCallSid && cb.agentId === agentId && cb.placed === placed)) return;
    if (cb.agentCallSid) {
      // Routing moved on from the agent being rung (their offer expired): stop ringing them.
      const stale = cb.agentCallSid;
      cb.agentCallSid = null;
      await this.#cancel(stale);
    }
    const agent = await this.#router.store.getAgent(agentId);
    const address = agent ? dialAddress(agent) : null;
    if (!address) {
      await this.#router.missedLiveContact(agentId, conv.id, NO_ADDRESS);
      return;
    }
    try {
      const from = this.#callerId(cb);
      // Whichever process Twilio reaches answers the legs from what their URLs say.
      const leg = { conversation: conv.id, agent: agentId, placed };
      const screened = this.#screens(address);
      const created = await this.#client.calls.create({
        to: callTo(address),
        from,
        url: this.#callbackUrl(
          '/voice/callback/agent',
          leg,
          { customer: cb.customer, from },
          undefined,
          screened,
        ),
        method: 'POST',
        statusCallback: this.#callbackUrl('/voice/callback/agent-status', leg, {
          customer: cb.customer,
          from,
        }),
        statusCallbackMethod: 'POST',
        statusCallbackEvent: ['completed'],
        timeout: this.#ringSeconds(screened),
      });
      cb.agentId = agentId;
      cb.agentCallSid = created.sid;
      cb.placed = placed;
    } catch (err) {
      this.#o.log.warn({ err, conversationId: conv.id, agentId }, 'voice: could not place the call back');
      if (conv.offer?.agentId === agentId) await this.#router.declineOffer(agentId, conv.id);
    }
  }

  async #callbackFailed(conversationId: string): Promise<void> {
    this.#callbacks.delete(conversationId);
    const settled = await this.#router.settleCallback(conversationId, 'failed');
    if (settled) await this.#router.notify(conversationId, this.#texts.callbackFailed);
  }

  // ---------------------------------------------------------------- helpers

  /**
   * An agent's leg rang out unanswered (`no-answer`), answered busy (`busy`: they declined it on their phone) or
   * could not be rung (`failed`): routing tries the next agent. A decline is no absence: the agent stays
   * available (passed over for this caller). The others are set away, the reason saying what happened and when
   * (the team's time), so that they and the team view know why.
   */
  #missed(
    agentId: string,
    conversationId: string,
    how: 'busy' | 'no-answer' | 'failed',
  ): Promise<ContactOutcome> {
    const at = clockTime(this.#router.clock.now(), this.#router.policy.hours?.timeZone ?? 'UTC');
    const reason =
      how === 'busy'
        ? `declined a call at ${at}`
        : how === 'failed'
          ? `phone could not be rung at ${at}`
          : `missed a call at ${at}`;
    return this.#router.missedLiveContact(agentId, conversationId, reason, { declined: how === 'busy' });
  }

  /** TwiML for where the conversation stands: straight to a person, or one sentence and quiet hold. */
  async #render(call: LiveCall, first: ContactOutcome, callbackOwed = false): Promise<string> {
    let outcome = first;
    for (let tries = 0; tries < 50; tries++) {
      if (outcome.type === 'duplicate') {
        outcome = await this.#router.outcome(call.conversationId);
        continue;
      }
      const agentId = agentOf(outcome);
      if (agentId === null) break;
      const agent = await this.#router.store.getAgent(agentId);
      const address = agent ? dialAddress(agent) : null;
      if (!address) {
        this.#o.log.warn({ agentId }, `voice: agent has ${NO_ADDRESS}`);
        outcome = await this.#router.missedLiveContact(agentId, call.conversationId, NO_ADDRESS);
        continue;
      }
      return this.#give(call, `agent:${agentId}`, this.#dialAgent(address, call.conversationId, agentId));
    }
    const quote = (await this.#router.quote(call.conversationId)) ?? { position: 1, etaSeconds: null };
    call.told = { key: holdKey(quote), at: this.#router.clock.now() };
    const query = { conversation: call.conversationId };
    const closed = closedLong(quote);
    // Back soon after giving up a wait (`contact()` said so): they keep their place, and hear it first.
    const kept =
      first.type === 'queued' && first.keptPlace && !callbackOwed && !closed
        ? placeKeptSentence(this.#router.policy, { ...quote, keptPlace: true })
        : null;
    const before = callbackOwed ? this.#texts.callbackStands : kept;
    return this.#give(
      call,
      'queue',
      enqueueTwiml(closed ? this.#closedSentence(closed) : waitSentence(this.#router.policy, quote), {
        ...(before ? { before } : {}),
        voice: this.#voice,
        action: this.#url('/voice/queue', query),
        waitUrl: this.#url('/voice/wait', query),
      }),
    );
  }

  /** The agent has the conversation now (an offer they answered becomes theirs); false when it went elsewhere. */
  async #accept(agentId: string, conversationId: string): Promise<boolean> {
    const conv = await this.#router.store.getConversation(conversationId);
    if (!conv) return false;
    if (conv.offer?.agentId === agentId) {
      try {
        await this.#router.acceptOffer(agentId, conversationId);
        return true;
      } catch (err) {
        if (err instanceof SwitchboardError && err.status < 500) return false; // expired meanwhile
        throw err;
      }
    }
    return conv.status === 'assigned' && (conv.ownerId === agentId || conv.cover?.agentId === agentId);
  }

  /** Whether the conversation is owed a call back: one this process keeps, else an open promise in the store. */
  async #owesCallback(conversationId: string): Promise<boolean> {
    return this.#callbacks.has(conversationId) || (await this.#router.openCallback(conversationId)) !== null;
  }

  /** End a call back leg the agent picked up, telling them why. */
  async #endLeg(callSid: string, say: string): Promise<void> {
    try {
      await this.#client.calls(callSid).update({ twiml: sayAndHangUp(say) });
    } catch (err) {
      this.#o.log.warn({ err }, 'voice: could not end a call back the customer called in on');
    }
  }

  async #cancel(callSid: string): Promise<void> {
    try {
      await this.#client.calls(callSid).update({ status: 'canceled' });
    } catch (err) {
      this.#o.log.warn({ err }, 'voice: could not cancel a ringing call back');
    }
  }

  #give(call: LiveCall, target: Target, twiml: string): string {
    if (target !== call.target) call.connected = false;
    call.target = target;
    call.twiml = twiml;
    return twiml;
  }

  /** Ask for a call back for a waiting caller; false when they are no longer waiting. */
  async #askCallback(call: LiveCall): Promise<boolean> {
    const customer = callerNumber(call.caller);
    if (customer === null) return false; // withheld: nothing to call
    try {
      await this.#router.requestCallback(call.conversationId);
    } catch (err) {
      if (err instanceof SwitchboardError && err.status < 500) return false;
      throw err;
    }
    this.#callbacks.set(call.conversationId, {
      conversationId: call.conversationId,
      customer,
      ourNumber: call.ourNumber,
      agentId: null,
      agentCallSid: null,
    });
    call.target = 'callback';
    return true;
  }

  /**
   * What a caller hears when their call back is taken: the number it goes to (its last four digits, the one
   * they call from) and when, so that one calling from a switchboard's line knows to call again from their own.
   */
  async #callbackConfirmed(call: LiveCall): Promise<string> {
    const digits = (this.#callbacks.get(call.conversationId)?.customer ?? call.caller)
      .replace(/\D/g, '')
      .slice(-4);
    const [promise, quote] = await Promise.all([
      this.#router.openCallback(call.conversationId),
      this.#router.quote(call.conversationId),
    ]);
    const texts = this.#texts;
    if (!promise || digits.length < 4) return texts.callbackConfirm;
    const when = quote?.closed
      ? quote.closed.opensInSeconds === null
        ? texts.callbackWhenBack
        : texts.callbackWhenOpen
      : fillText(texts.callbackWithin, {
          wait: humanDuration(
            Math.max(60, (promise.dueAt - this.#router.clock.now()) / 1000),
            this.#router.policy.locale,
          ),
        });
    return fillText(texts.callbackConfirmed, { digits: digits.split('').join(' '), when });
  }

  /** The call is over: routing hears it once. */
  async #ended(callSid: string, conversationId: string): Promise<void> {
    const call = this.#calls.get(callSid);
    if (call?.target === 'ended') return;
    if (call) call.target = 'ended';
    this.#forget(callSid);
    await this.#release(callSid);
    const after = await this.#router.liveContactEnded(conversationId);
    // A customer owed a call back hung up (while their call rang an agent, say): the call back is placed now
    // for whoever routing has for it, rather than their ring timing out unheard.
    if (after.status === 'queued' || after.status === 'assigned') {
      if (await this.#owesCallback(conversationId)) await this.#sync(conversationId, true, false);
    }
  }

  /**
   * The call as this process knows it. A call it has not seen yet (another process answered its earlier
   * webhooks and then died, or the load balancer moved it here) starts where the webhook shows it is:
   * `implied` (holding in the queue, or being put through to the agent the URL names).
   */
  async #remember(
    callSid: string,
    conversationId: string,
    caller: string,
    ourNumber: string | null,
    implied: Target | null = null,
  ): Promise<LiveCall> {
    await this.#hold(callSid);
    let call = this.#calls.get(callSid);
    if (!call) {
      call = {
        callSid,
        conversationId,
        caller,
        ourNumber,
        target: implied,
        twiml: '',
        told: null,
        offeredCallback: false,
        connected: false,
      };
      this.#calls.set(callSid, call);
      this.#callOf.set(conversationId, callSid);
      if (this.#calls.size > MAX_CALLS) this.#forget(this.#calls.keys().next().value!);
    }
    return call;
  }

  /** This process answers the call's webhooks now. A failure to record it is logged: answering comes first. */
  async #hold(callSid: string): Promise<void> {
    try {
      await this.#holders.hold(callSid);
    } catch (err) {
      this.#o.log.warn({ err, callSid }, "voice: could not record this process as the call's holder");
    }
  }

  /** Nobody holds an ended call. A failure is logged: the holder lapses by itself. */
  async #release(callSid: string): Promise<void> {
    try {
      await this.#holders.release(callSid);
    } catch (err) {
      this.#o.log.warn({ err, callSid }, "voice: could not release the call's holder");
    }
  }

  /**
   * Whether this process still answers the call's webhooks; a call another process answers now is forgotten
   * here (that one moves it). When that cannot be read, it is moved here: better twice than never.
   */
  async #stillHolds(call: LiveCall): Promise<boolean> {
    let holds = true;
    try {
      holds = await this.#holders.holds(call.callSid);
    } catch (err) {
      this.#o.log.warn({ err, callSid: call.callSid }, 'voice: could not read who holds the call');
    }
    if (!holds) {
      this.#forget(call.callSid);
      this.#o.log.info(
        { callSid: call.callSid, conversationId: call.conversationId },
        'voice: another process answers this call now',
      );
    }
    return holds;
  }

  #forget(callSid: string): void {
    const call = this.#calls.get(callSid);
    this.#calls.delete(callSid);
    if (call && this.#callOf.get(call.conversationId) === callSid) this.#callOf.delete(call.conversationId);
  }

  #callerId(cb: Callback): string {
    const from = this.#callerIdOf(cb);
    if (!from)
      throw new ValidationError('no number to call from: set TWILIO_FROM_NUMBER', 'TWILIO_FROM_NUMBER');
    return from;
  }

  /** The number a call back is made from: the one the customer called, else ours. */
  #callerIdOf(cb: Callback): string | null {
    return cb.ourNumber ?? this.#o.fromNumber;
  }

  /**
   * What routing did that gives the conversation to `agentId` and calls for a call back leg: an offer to
   * them, their cover of it, or (with no voice offers) its assignment to them; null for none (an offer
   * they accepted: its leg is the one they answered).
   */
  #placement(conv: Conversation, agentId: string): string | null {
    if (conv.offer?.agentId === agentId) return `offer-${conv.offer.at}`;
    if (conv.status !== 'assigned') return null;
    if (conv.cover?.agentId === agentId) return `cover-${conv.cover.since}`;
    const offers = this.#router.policy.offerTimeoutSeconds.voice !== undefined;
    if (!offers && conv.cover === null && conv.ownerId === agentId) return `owner-${conv.assignedAt ?? 0}`;
    return null;
  }

  /** A call back leg's URL: the conversation, agent and what it was placed for, numbers, and the attempt. */
  #callbackUrl(
    path: string,
    leg: { conversation: string; agent: string; placed?: string | undefined },
    numbers: { customer: string; from: string },
    attempt?: number,
    screen = false,
  ): string {
    return this.#url(path, {
      conversation: leg.conversation,
      agent: leg.agent,
      ...(screen ? { screen: '1' } : {}),
      ...(leg.placed !== undefined ? { placed: leg.placed } : {}),
      customer: numbers.customer,
      from: numbers.from,
      ...(attempt !== undefined ? { attempt: String(attempt) } : {}),
    });
  }

  /**
   * How long an agent's phone rings. A screened one rings shorter by what screening takes once they pick up, so
   * that pressing 1 still falls within the offer's time (at least 10 s of ringing all the same).
   */
  #ringSeconds(screened = false): number {
    const offer = this.#router.policy.offerTimeoutSeconds.voice;
    const ring = offer ?? 20;
    return screened && offer !== undefined ? Math.max(10, ring - SCREEN_SECONDS) : ring;
  }

  /** Whether an agent rung at `address` is screened: a phone number (a voicemail can answer it), unless turned off. */
  #screens(address: DialAddress): boolean {
    return address.kind === 'number' && this.#o.screenAgentPhones !== false;
  }

  /** The `<Dial>` ringing an agent for a live call (screened on a phone number), with a sentence first. */
  #dialAgent(address: DialAddress, conversation: string, agentId: string, say?: string): string {
    const query = { conversation, agent: agentId };
    const screened = this.#screens(address);
    return dialTwiml(address, {
      action: this.#url('/voice/dial', screened ? { ...query, screen: '1' } : query),
      answered: this.#url('/voice/answered', query),
      timeoutSeconds: this.#ringSeconds(screened),
      ...(say ? { say, voice: this.#voice } : {}),
      ...(screened ? { screen: this.#url('/voice/screen', query) } : {}),
    });
  }

  /** What callers hear, as the policy words it (read when said: a policy change applies at once). */
  get #texts(): RoutingPolicy['texts'] {
    return this.#router.policy.texts;
  }

  /** How Twilio reads what callers hear (the policy's `callerVoice`). */
  get #voice(): CallerVoice {
    return this.#router.policy.callerVoice;
  }

  /** The closed team said to a caller who will not hold on for it: when it opens, with no place to keep. */
  #closedSentence(closed: NonNullable<WaitQuote['closed']>): string {
    const policy = this.#router.policy;
    return closed.opensInSeconds === null
      ? policy.texts.nobodyWorkingCall
      : fillText(policy.texts.closedCall, { opens: opensPhrase(closed, policy.locale) });
  }

  #url(path: string, query: Record<string, string>): string {
    return `${this.#o.base}${path}?${new URLSearchParams(query).toString()}`;
  }

  /** One conversation's call work at a time, in order: webhooks and pushes never interleave. */
  #serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const run = previous.then(fn);
    const done = run.then(
      () => {},
      () => {},
    );
    this.#chains.set(key, done);
    void done.then(() => {
      if (this.#chains.get(key) === done) this.#chains.delete(key);
    });
    return run;
  }

  /**
   * Run a webhook: TwiML on success; 400 naming the field for a malformed request; anything else is
   * logged and answered with `fallback` so the caller still hears something sensible.
   */
  #handle(
    what: string,
    fn: (req: Request) => Promise<string>,
    fallback = () => sayAndHangUp(this.#texts.callUnavailable, this.#voice),
  ) {
    return async (req: Request, res: Response): Promise<void> => {
      try {
        sendTwiml(res, await fn(req));
      } catch (err) {
        if (err instanceof ValidationError) {
          this.#o.log.warn({ path: req.path, field: err.field }, `voice: ${what}: ${err.message}`);
          res.status(400).type('text/plain').send(err.message);
          return;
        }
        this.#o.log.error({ err, path: req.path }, `voice: ${what} failed`);
        sendTwiml(res, fallback());
      }
    };
  }
}

/** A time of day as the team reads it (`09:14`), in `timeZone`. */
export function clockTime(at: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone,
  }).format(at);
}

/** The agent an outcome connects the caller to, or null when it waits. */
function agentOf(outcome: ContactOutcome): string | null {
  switch (outcome.type) {
    case 'assigned':
    case 'offered':
    case 'owner':
    case 'covered':
      return outcome.agentId;
    default:
      return null;
  }
}

/** Routing has given it to someone: offered, or assigned. */
function isWithAgent(conv: Conversation): boolean {
  return conv.offer !== null || conv.status === 'assigned';
}

function targetOf(outcome: ContactOutcome): Target {
  const agentId = agentOf(outcome);
  return agentId === null ? 'queue' : `agent:${agentId}`;
}

/**
 * Whether a call back leg placed for an offer (`placed`: `offer-<its time>`) was for the offer the agent then
 * accepted elsewhere (the web console's Accept before they picked the leg up): the conversation is theirs since.
 */
function acceptedOffer(conv: Conversation, agentId: string, placed: string): boolean {
  const at = /^offer-(\d+)$/.exec(placed);
  if (!at || conv.status !== 'assigned' || conv.ownerId !== agentId || conv.cover !== null) return false;
  const taken = conv.ownership.at(-1);
  return taken?.to === agentId && taken.at >= Number(at[1]);
}

/** Closed for longer than a caller holds on for (see CLOSED_HOLD_SECONDS): what the quote says of it, else null. */
function closedLong(quote: WaitQuote): NonNullable<WaitQuote['closed']> | null {
  const closed = quote.closed;
  if (!closed) return null;
  return closed.opensInSeconds === null || closed.opensInSeconds > CLOSED_HOLD_SECONDS ? closed : null;
}
