// The routing policy: a zod-validated configuration with defaults. Routing code
// receives it as a value; nothing reads settings from globals.
import { readFileSync } from 'node:fs';
import { type CountryCode, isSupportedCountry } from 'libphonenumber-js';
import { z } from 'zod';
import { fromZod, ValidationError } from '../shared/errors.js';
import { CHANNELS, type Channel, NewSavedReplies, Skills } from '../shared/model.js';
import { identityIfAny, identityOf } from './addresses.js';
import { durationParts, humanDuration, isEnglish, type WaitQuote } from './estimate.js';
import { OpeningHours } from './hours.js';

/** Greeting and hold texts are capped so nobody is kept listening or reading. */
export const TEXT_CAP = 200;

const Seconds = z
  .number()
  .nonnegative()
  .max(30 * 24 * 3600);
const perChannelSeconds = (defaults: Record<Channel, number>) =>
  z
    .object({
      voice: Seconds.default(defaults.voice),
      sms: Seconds.default(defaults.sms),
      chat: Seconds.default(defaults.chat),
      email: Seconds.default(defaults.email),
    })
    .default(defaults);

const ShortText = z.string().min(1).max(TEXT_CAP, `must be at most ${TEXT_CAP} characters`);

/** A chat widget's topic (its script tag's `data-topic`): what a page is about, such as `billing`. */
export const Topic = z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'must be 1 to 40 letters, digits, _ or -');

/**
 * Where a contact comes in decides what it needs: the number a caller or texter reached, the address a mail was
 * sent to, or the topic of the page a chat started on gives a new conversation its required skills and priority
 * (the first entry point that fits; one with neither `to` nor `topic` fits every contact on its channel). A
 * conversation keeps what it started with: later contacts on it change nothing, so nobody is bounced.
 */
const EntryPoint = z
  .strictObject({
    channel: z.enum(CHANNELS),
    /** voice, sms: the number called or texted; email: the address written to. */
    to: z.string().trim().min(1).max(320).optional(),
    /** chat: the widget's `data-topic`. */
    topic: Topic.optional(),
    skills: Skills.default({}),
    priority: z.number().int().min(0).max(9).default(0),
  })
  .transform((e, ctx) => {
    if (e.topic !== undefined && e.channel !== 'chat') {
      ctx.addIssue({
        code: 'custom',
        path: ['topic'],
        message: 'is for chat; calls, texts and mail go by `to`',
      });
      return z.NEVER;
    }
    if (e.to === undefined) return e;
    try {
      if (e.channel === 'chat')
        throw new ValidationError('is for calls, texts and mail; chat goes by `topic`', 'to');
      // Read as routing reads the contact's (`entryPointOf`).
      return { ...e, to: identityOf(e.channel, e.to, undefined, 'to').address };
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      ctx.addIssue({ code: 'custom', path: ['to'], message: err.message.replace(/^to: /, '') });
      return z.NEVER;
    }
  });
export type EntryPoint = z.output<typeof EntryPoint>;

/**
 * The service level the team view measures: the share of waits a person has within `targetSeconds` on their
 * channel (80 % within 20 s on calls: "80/20"). `goal` is that share the team aims for; a channel below it is
 * marked. Absent from the policy: SERVICE_LEVEL_DEFAULTS.
 */
export const SERVICE_LEVEL_DEFAULTS = {
  targetSeconds: { voice: 20, sms: 120, chat: 30, email: 3600 },
  goal: 0.8,
} as const satisfies { targetSeconds: Record<Channel, number>; goal: number };

const TargetSeconds = z
  .number()
  .int('must be a whole number of seconds')
  .min(1, 'must be at least 1 second')
  .max(7 * 24 * 3600, 'must be at most 604800 seconds (a week)');

// Strict: a misspelt channel or field would otherwise leave its default in place without a word.
const ServiceLevel = z.strictObject({
  targetSeconds: z
    .strictObject({
      voice: TargetSeconds.default(SERVICE_LEVEL_DEFAULTS.targetSeconds.voice),
      sms: TargetSeconds.default(SERVICE_LEVEL_DEFAULTS.targetSeconds.sms),
      chat: TargetSeconds.default(SERVICE_LEVEL_DEFAULTS.targetSeconds.chat),
      email: TargetSeconds.default(SERVICE_LEVEL_DEFAULTS.targetSeconds.email),
    })
    .prefault({}),
  goal: z
    .number()
    .gt(0, 'must be a share above 0 and at most 1, such as 0.8')
    .max(1, 'must be a share above 0 and at most 1, such as 0.8')
    .default(SERVICE_LEVEL_DEFAULTS.goal),
});
export type ServiceLevel = z.output<typeof ServiceLevel>;

/** A BCP 47 language tag this server can say times in ("es-MX", "de"). */
const Locale = z.string().refine(
  (tag) => {
    try {
      return Intl.NumberFormat.supportedLocalesOf(Intl.getCanonicalLocales(tag)).length > 0;
    } catch {
      return false;
    }
  },
  { message: 'must be a language tag this server knows, such as "en", "es-MX" or "de"' },
);

/**
 * Every word the chat widget shows or says to a visitor (labels, the status line, notices), in the policy's
 * language (policy `widgetTexts`): the server fills them into `widget.js` and sends them with `session` (channels/chat/namespace.ts).
 * `{…}` are filled in: `{wait}` a duration in the policy's `locale`, `{position}` a place in line, `{agent}` and
 * `{owner}` a person's first name, `{name}` a file's or a person's name, `{to}` an address.
 */
export const WidgetTexts = z
  .object({
    /** The chat's heading, and the name of its window. */
    title: ShortText.default('Chat with us'),
    /** The round button that opens the chat, and the same with a reply waiting unread. */
    open: ShortText.default('Open chat'),
    openUnread: ShortText.default('Open chat (new message)'),
    close: ShortText.default('Close chat'),
    /** The envelope in the heading: the conversation by email. */
    emailChat: ShortText.default('Email me this chat'),
    /** The paperclip. */
    attach: ShortText.default('Attach a file'),
    /** The list of messages, as a screen reader names it. */
    messages: ShortText.default('Messages'),
    /** The message box: its name, and what it shows while empty. */
    message: ShortText.default('Message'),
    placeholder: ShortText.default('Write a message…'),
    send: ShortText.default('Send'),
    /** Shown in the middle of a chat with no message yet. */
    empty: ShortText.default('Hi! Write us a message and a person will answer.'),
    reconnecting: ShortText.default('Connection lost. Reconnecting…'),
    /** Who wrote a message, in words: the visitor, and a person of the team without a name. */
    you: ShortText.default('You'),
    support: ShortText.default('Support'),
    /** A file in a message without a name: a picture, another file; `{name}` a file as a screen reader says it. */
    picture: ShortText.default('picture'),
    file: ShortText.default('file'),
    spokenFile: ShortText.default('File: {name}'),
    /** Said before a reply that arrived while the chat was closed. */
    newMessage: ShortText.default('New message.'),
    /** `{name}`: who is typing, else `someone`. */
    typing: ShortText.default('{name} is typing…'),
    someone: ShortText.default('Someone'),
    /** A file on its way (`{name}`), and one that was not sent: `{why}` is one of the next two or the server's. */
    sending: ShortText.default('Sending {name}…'),
    fileNotSent: ShortText.default('{name} was not sent: {why}.'),
    /**
     * The server's reasons for refusing a visitor's file (as `{why}`): `{max}` the largest size ("10 MB", "2048
     * bytes") or the files an hour, written in the policy's `locale`.
     */
    fileTooLarge: ShortText.default('the file is larger than {max}'),
    tooManyFiles: ShortText.default('at most {max} files an hour; try again in a while'),
    noFiles: ShortText.default('this chat does not take files'),
    fileUnavailable: ShortText.default('we are briefly unavailable. Please try again in a moment'),
    notConnected: ShortText.default('Not connected yet. Please try again in a moment.'),
    /** Messages sent faster than the chat takes them (the server's `rate_limited` refusal); `{wait}` until the next. */
    tooFast: ShortText.default('too many messages; wait {wait} and try again'),
    /** The chat could not be set up on the server (its store away); the widget tries again. */
    unavailable: ShortText.default('Chat is unavailable right now; please retry.'),
    /** `{count}` and `{max}`: characters, written in the policy's `locale`. */
    tooLong: ShortText.default(
      'Your message is too long: {count} characters, at most {max}. Please shorten it or send it in parts.',
    ),
    /**
     * A message of the visitor's not yet taken by the server (said with it, in words, not only by its colour), and
     * one it refused: `{why}` the server's reason (`tooFast`, a message too long, …).
     */
    messageSending: ShortText.default('Sending…'),
    notSent: ShortText.default('Your message was not sent: {why}.'),
    notSentClosed: ShortText.default('Your message was not sent: this conversation is closed.'),
    notSentUnavailable: ShortText.default(
      'Your message was not sent: we are briefly unavailable. Please send it again in a moment.',
    ),
    afresh: ShortText.default(
      'This chat could not be continued, so it starts afresh: write again and a person will answer.',
    ),
    /** The conversation by email: sent to `{to}`, or sent there a moment ago already. */
    emailed: ShortText.default('We sent this chat to {to}.'),
    emailedAlready: ShortText.default('This chat went to {to} a moment ago.'),
    emailFirst: ShortText.default('Give us your email address below, then press the envelope again.'),
    failed: ShortText.default('That did not work. Please try again.'),
    checkDetails: ShortText.default('Please check what you entered.'),
    // ---- the questions before a chat (pre-chat)
    prechat: ShortText.default('So we know who we are talking to (optional):'),
    name: ShortText.default('Name'),
    email: ShortText.default('Email'),
    phone: ShortText.default('Phone'),
    continue: ShortText.default('Continue'),
    skip: ShortText.default('Skip'),
    /** The questions folded to one line: `{fields}` the next words, as a list ("name and email"). */
    prechatLater: ShortText.default('Add your {fields} (optional)'),
    nameWord: ShortText.default('name'),
    emailWord: ShortText.default('email'),
    phoneWord: ShortText.default('phone'),
    // ---- the status line
    inLine: ShortText.default('You are in line.'),
    inLineAt: ShortText.default('You are number {position} in line.'),
    /** Back soon after giving up a wait (policy `rejoinSeconds`): said with the place in line (as `texts.placeKept`). */
    placeKept: ShortText.default('You keep the place in line you had before.'),
    answerWithin: ShortText.default('A person will answer within about {wait}.'),
    answerWhenFree: ShortText.default('A person will answer as soon as one is free.'),
    /** No agent available, someone away (as `texts.nobodyFree`): nobody is busy serving others. */
    nobodyFree: ShortText.default(
      'Nobody can answer right now; a person will answer as soon as someone is back.',
    ),
    nobodyWorking: ShortText.default(
      'Nobody is working right now; a person will answer as soon as someone is back.',
    ),
    /** `{opens}`: `opensIn`, or further off the day and time (as in `texts.closed`). */
    closed: ShortText.default('We are closed right now and open again {opens}; a person will answer then.'),
    opensIn: ShortText.default('in about {wait}'),
    chatting: ShortText.default("You're chatting with {agent}"),
    /** Who has the conversation, when no name is known. */
    someoneOfUs: ShortText.default('a member of our team'),
    ownerAway: ShortText.default('{owner} is away right now.'),
    ownerOffline: ShortText.default('{owner} is not available right now.'),
    handOverAway: ShortText.default(
      'If they are not back within {wait}, your message goes to the next free colleague.',
    ),
    handOverOffline: ShortText.default('In about {wait}, your message goes to the next free colleague.'),
    inLineForColleague: ShortText.default('You are number {position} in line for a colleague.'),
    resolved: ShortText.default('This conversation is closed. Write again any time.'),
    resolvedBlocked: ShortText.default('This conversation is closed.'),
  })
  // Each text's own default, so they are spelled once.
  .prefault({});
export type WidgetTexts = z.output<typeof WidgetTexts>;

export const RoutingPolicy = z
  .object({
    /** How long an open conversation waits for its own owner when they are away or offline. */
    stickyWaitSeconds: perChannelSeconds({ voice: 0, sms: 600, chat: 120, email: 4 * 3600 }),
    /**
     * After a call (a live channel's contact) ends, its owner has this long for after-call work (notes, a text to
     * the customer) before the conversation is resolved for them, freeing their place for the next caller; what is
     * written in it meanwhile gives them this long again. 0: never (the owner resolves it).
     */
    wrapUpSeconds: Seconds.default(120),
    /**
     * After-call work never lasts longer than this after the call ended, whatever is written or asked (**More
     * time**); below `wrapUpSeconds`, it counts as `wrapUpSeconds`.
     */
    wrapUpMaxSeconds: Seconds.default(600),
    /** A returning customer is offered to their last owner first for this long after the last conversation. */
    preferLastOwnerForSeconds: Seconds.default(7 * 24 * 3600),
    /** After this long waiting, the whole team (any available agent with capacity) may take it. */
    overflowAfterSeconds: Seconds.default(120),
    /** One priority level is worth this much waiting: a waiting customer gains on higher priorities as they age. */
    agingStepSeconds: Seconds.default(60),
    /** Nobody waits longer than this because others outrank them: past it, arrival order rules. */
    hardCapSeconds: Seconds.default(600),
    /** Channels whose contacts ring an agent who must answer, and how long the ring lasts. */
    offerTimeoutSeconds: z
      .object({
        voice: Seconds.optional(),
        sms: Seconds.optional(),
        chat: Seconds.optional(),
        email: Seconds.optional(),
      })
      .default({ voice: 20 }),
    /** Channels where the customer is live and cannot wait for an away owner. */
    liveChannels: z.array(z.enum(CHANNELS)).default(['voice']),
    /** Quoted waits are this percentile of the predicted wait (pessimistic, not the mean). */
    quotePercentile: z.number().gt(0.5).lt(1).default(0.9),
    /** Handle time assumed per channel until enough real ones are recorded. */
    defaultHandleSeconds: perChannelSeconds({ voice: 300, sms: 600, chat: 480, email: 3600 }),
    /** A quoted wait or call back is checked when this share of its time is left; at risk → the customer is told. */
    atRiskLeadFraction: z.number().gt(0).lt(1).default(0.2),
    /** …but at least this long before it is due (never before half of its time has passed). */
    atRiskMinLeadSeconds: Seconds.default(30),
    /** At most this many delay notices per wait, one per promise (0: none); then quiet. */
    atRiskMaxNotices: z.number().int().min(0).max(10).default(2),
    /** An agent is reminded of their own promise (and follow-up) this long before it is due. */
    promiseReminderSeconds: Seconds.default(15 * 60),
    /** A follow-up is kept when a person has the touchpoint within this long of its due time. */
    followUpGraceSeconds: Seconds.default(3600),
    /** Send the short survey after a resolution. */
    surveys: z.boolean().default(true),
    /** How long after the resolution the survey goes out. */
    surveyDelaySeconds: Seconds.default(600),
    /** The customer's next message within this long, starting with a rating, is the answer. */
    surveyAnswerSeconds: Seconds.default(2 * 24 * 3600),
    /** A rating at or below this opens a follow-up routed to the owner. */
    surveyLowRating: z.number().int().min(0).max(4).default(2),
    /** A new conversation within this long after the previous one was resolved is a repeat contact. */
    repeatWindowSeconds: Seconds.default(7 * 24 * 3600),
    /**
     * A customer who gave up a wait (hung up on hold, closed the chat) and reaches out again within this long keeps
     * their place: the new wait counts from when the one they gave up began. 0: a new wait starts at the back.
     */
    rejoinSeconds: Seconds.default(600),
    /**
     * An available agent whose last web console closed this long ago (and who has no Slack link to work from)
     * is set away, so that nothing more is given to someone who is not there; their next console sets them
     * available again. 0: never.
     */
    consoleAwaySeconds: Seconds.default(60),
    /**
     * A chat visitor who left the page before an agent's reply reached them, and who gave an email address,
     * gets the replies they have not seen by email this long after the first of them (`texts.unseenChat`), so
     * an answer never waits on a closed tab. Needs email on. 0: never.
     */
    unseenChatEmailSeconds: Seconds.default(300),
    /**
     * A customer, and everything kept about them (conversations, messages, files, mail), is erased this many days
     * after they were last active: created, or a message to or from them. One blocked, or with a conversation
     * open or a follow-up still to come, is kept until that ends. Absent: kept until erased on request.
     */
    retentionDays: z.number().int().min(1).max(3650).optional(),
    /**
     * The country whose numbers an agent may write without their country code ("Write to a customer…" by text):
     * ISO 3166 two letters. Numbers from Twilio always come with theirs.
     */
    phoneRegion: z
      .custom<CountryCode>((v) => typeof v === 'string' && isSupportedCountry(v), {
        message: 'must be a country as two capital letters (ISO 3166: US, GB, DE, …)',
      })
      .default('US'),
    /**
     * When the team works (routing/hours.ts). A customer who waits outside them, with no agent available, is
     * told when the team is back (`texts.closed`) instead of "everyone is busy". Absent: no hours known.
     */
    hours: OpeningHours.optional(),
    /**
     * The team's saved replies: an agent picks one by name in the web console (it fills the message box, to
     * change before sending) or in Slack (a form with the text, to change, then Send). At most 100 (what a
     * Slack select holds), names unique.
     */
    savedReplies: NewSavedReplies.default([]),
    /** The team view's service level: a target per channel and the share aimed for (see ServiceLevel). */
    serviceLevel: ServiceLevel.prefault({}),
    /** What a new conversation needs, by where it came in (see EntryPoint). At most 100, tried in order. */
    entryPoints: z.array(EntryPoint).max(100, 'at most 100 entry points').default([]),
    /**
     * The language customers are told times in (a BCP 47 tag: "es-MX", "de"): the durations and days filled
     * into `texts` ("12 minutos", "lunes, 12 de enero, 08:00"). The texts themselves are the team's to write in
     * that language.
     */
    locale: Locale.default('en'),
    /**
     * How Twilio reads what callers hear (`<Say language voice>`): for texts written in another language, its
     * language ("es-MX") and a voice that speaks it ("Polly.Mia", "Google.es-US-Standard-A"). Not set: Twilio's
     * default, American English. What agents hear on their own phone (screening, call backs) keeps the default.
     */
    callerVoice: z
      .object({
        language: z
          .string()
          .regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, 'must be a language tag such as "es-MX"')
          .optional(),
        voice: z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,80}$/, 'must be a Twilio voice name such as "Polly.Mia"')
          .optional(),
      })
      .strict()
      .prefault({}),
    texts: z
      .object({
        greeting: ShortText.default('Thanks for reaching us.'),
        /** `{position}` and `{wait}` are filled in. */
        waitNotice: ShortText.default(
          'You are number {position} in line; a person will be with you within {wait}.',
        ),
        noEstimate: ShortText.default(
          'Everyone is busy right now; a person will answer as soon as one is free.',
        ),
        /**
         * Outside the opening hours with nobody available; `{opens}` is when they open ("in 2 hours", or further
         * off "on Wednesday 7 January at 08:30 (Berlin time)"), `{wait}` how long until then.
         */
        closed: ShortText.default(
          'We are closed right now and open again {opens}; a person will answer then. You keep your place.',
        ),
        /** No agent available or away at all (and no opening hours say when they are back). */
        nobodyWorking: ShortText.default(
          'Nobody is working right now; a person will answer as soon as someone is back. You keep your place.',
        ),
        /**
         * Within the opening hours (or with none set), no agent available and someone away: they are expected
         * back (from a break, or a missed call), but nobody is serving anyone, so not "everyone is busy"; or every
         * agent available declined this customer.
         */
        nobodyFree: ShortText.default(
          'Nobody can answer right now; a person will answer as soon as someone is back. You keep your place.',
        ),
        hold: ShortText.default('Please hold; you keep your place.'),
        /**
         * Said before the wait to a customer back soon after giving up a wait (`rejoinSeconds`: hung up on hold,
         * then texts or calls again), who keeps their place, when the wait sentence does not say so already.
         */
        placeKept: ShortText.default('You keep the place in line you had before.'),
        // ---- what a caller hears besides the wait (the phone channel), and its call back
        /** Offered with the wait sentence: a key that asks for a call back. */
        callbackOffer: ShortText.default('Press 1 for a call back; you keep your place.'),
        /** A call back asked for, when the number's last digits or its time cannot be said. */
        callbackConfirm: ShortText.default(
          'We will call you back at this number when it is your turn; you keep your place.',
        ),
        /**
         * A call back asked for: `{digits}`, the number's last four said one by one ("0 1 8 2"), and `{when}`:
         * `callbackWithin`, `callbackWhenOpen` or `callbackWhenBack`.
         */
        callbackConfirmed: ShortText.default(
          'We will call you back at the number ending in {digits}, {when}; you keep your place.',
        ),
        /** `{wait}`: the call back's honest time. */
        callbackWithin: ShortText.default('within about {wait}'),
        callbackWhenOpen: ShortText.default('when we are open'),
        callbackWhenBack: ShortText.default('when someone is back'),
        /** A caller owed a call back who calls again, before the wait sentence. */
        callbackStands: ShortText.default(
          'We still owe you a call back: stay on the line, or hang up and we will call you back when it is your turn.',
        ),
        /** Texted when every try to call them back failed. */
        callbackFailed: ShortText.default(
          'We tried to call you back but could not reach you. Reply to this text or call us again; your conversation stays open.',
        ),
        /** A call Switchboard cannot take now (its store is away). */
        callUnavailable: ShortText.default(
          'Sorry, we cannot take your call right now; please call again in a few minutes.',
        ),
        /** A caller handed to a colleague during the call; `{agent}` is the colleague's name. */
        puttingThrough: ShortText.default('Putting you through to {agent} now.'),
        /** Closed for longer than a caller holds on for: when they open (`{opens}`, as in `closed`). */
        closedCall: ShortText.default('We are closed right now and open again {opens}.'),
        /** Nobody works now and no hours say when they are back, to a caller who will not hold on for it. */
        nobodyWorkingCall: ShortText.default('Nobody is working right now.'),
        /** Offered then instead of `callbackOffer`: the call ends unless they press 1. */
        closedCallbackOffer: ShortText.default(
          'Press 1 and we will call you back when we are open; otherwise this call will end.',
        ),
        nobodyCallbackOffer: ShortText.default(
          'Press 1 and we will call you back when someone is back; otherwise this call will end.',
        ),
        /** The end of such a call when they did not press 1. */
        closedGoodbye: ShortText.default('Thank you for calling; please call again when we are open.'),
        nobodyGoodbye: ShortText.default('Thank you for calling; please call again a little later.'),
        /**
         * The customer's person stepped away (`{owner}`, their name) and what they write waits for them up to
         * `{wait}` (the sticky wait left), then goes to the next free colleague: no promise of a time beyond it.
         */
        ownerAway: ShortText.default(
          '{owner} is away right now. If they are not back within {wait}, your message goes to the next free colleague.',
        ),
        /** As `ownerAway`, their person has gone offline: in `{wait}` it goes to the next free colleague. */
        ownerOffline: ShortText.default(
          '{owner} is not available right now. In about {wait}, your message goes to the next free colleague.',
        ),
        /** A quoted wait about to break; `{wait}` is the new honest wait. */
        atRisk: ShortText.default(
          'Sorry, this is taking longer than we said. A person will be with you within {wait}.',
        ),
        atRiskNoEstimate: ShortText.default(
          'Sorry, this is taking longer than we said. Everyone is still busy; a person will answer as soon as one is free.',
        ),
        /** As `atRiskNoEstimate`, with no agent available and someone away (see `nobodyFree`): nobody is busy. */
        atRiskNobodyFree: ShortText.default(
          'Sorry, this is taking longer than we said. Nobody can answer right now; a person will answer as soon as someone is back.',
        ),
        /**
         * A customer owed a call back who writes (a text): it still stands, and their place with it; `{wait}` is
         * when it comes, the time they were told or, later than that, the honest wait now.
         */
        callbackOwed: ShortText.default(
          'We still owe you a call back, within {wait}; you keep your place, and the person who calls will have read this.',
        ),
        /** A call back about to be late; `{wait}` is the new honest time. */
        callbackAtRisk: ShortText.default(
          'Sorry, our call back is running late. We will call you within {wait}.',
        ),
        /**
         * A message to our number from another messaging app Twilio carries (WhatsApp, Messenger: `{app}`), which
         * Switchboard does not take: answered in that app, nothing stored.
         */
        otherApp: ShortText.default(
          'Sorry, we cannot answer {app} messages here. Please send us a text message (SMS) or call this number.',
        ),
        survey: ShortText.default('How did we do? Reply with 1-5 (5 is best), then one thing we should fix.'),
        surveyThanks: ShortText.default('Thank you. We read every answer.'),
        /** Heads the email of chat replies a visitor did not see (the replies follow, each with its author). */
        unseenChat: ShortText.default(
          'You left our chat before our answer reached you, so here it is. Reply to this email to carry on, or come back to the chat.',
        ),
        /** Heads the email of a chat a visitor asked for (the conversation follows, each message with its author). */
        transcript: ShortText.default(
          'Here is our conversation, as you asked. Reply to this email to carry on.',
        ),
        /** In those two emails, who wrote a line: the customer, and the team when a message has no author's name. */
        you: ShortText.default('You'),
        ourTeam: ShortText.default('Our team'),
        /** The subject of a mail about a conversation that began in the chat; `{team}`: the name of EMAIL_FROM. */
        chatSubject: ShortText.default('Your chat with {team}'),
      })
      // Each text's own default, so they are spelled once.
      .prefault({}),
    /** What the chat widget shows and says to a visitor, in the policy's language (see WidgetTexts). */
    widgetTexts: WidgetTexts,
  })
  .superRefine((p, ctx) => {
    if (p.hardCapSeconds < p.overflowAfterSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['hardCapSeconds'],
        message: 'must be at least overflowAfterSeconds',
      });
    }
  });
export type RoutingPolicy = z.output<typeof RoutingPolicy>;
export type RoutingPolicyInput = z.input<typeof RoutingPolicy>;

/** The policy from `input`; refused naming every mistake, one line each, the first one's field as the field. */
export function parsePolicy(input: unknown, what = 'routing policy'): RoutingPolicy {
  const result = RoutingPolicy.safeParse(input ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => fromZod({ issues: [issue] }, what).message);
  throw new ValidationError([...new Set(lines)].join('\n'), fromZod(result.error, what).field);
}

export const defaultPolicy = (): RoutingPolicy => parsePolicy({});

/**
 * Policy from `ROUTING_POLICY_FILE` (a JSON file) or `ROUTING_POLICY` (inline JSON), else the defaults.
 */
export function loadPolicy(env: Record<string, string | undefined>): RoutingPolicy {
  const file = env.ROUTING_POLICY_FILE;
  const inline = env.ROUTING_POLICY;
  if (file && inline)
    throw new ValidationError('set ROUTING_POLICY_FILE or ROUTING_POLICY, not both', 'ROUTING_POLICY');
  let raw: string | undefined;
  let what = 'ROUTING_POLICY';
  if (file) {
    what = `ROUTING_POLICY_FILE (${file})`;
    try {
      raw = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ValidationError(`${what}: cannot read: ${(err as Error).message}`, 'ROUTING_POLICY_FILE');
    }
  } else raw = inline;
  if (raw === undefined || raw.trim() === '') return defaultPolicy();
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new ValidationError(`${what}: not valid JSON: ${(err as Error).message}`, what.split(' ')[0]);
  }
  // Every mistake at once, one line each, so that a start refused names them all.
  return parsePolicy(json, what);
}

/**
 * A wait quote as a customer is told it: `nobodyFree` when there is no wait to quote and no agent is available,
 * though someone is away (within the hours), or every agent available declined this wait (they are not offered it
 * again): nobody is busy serving them, so "everyone is busy" would not be true.
 */
export type HoldQuote = WaitQuote & { nobodyFree?: true; keptPlace?: true };

/**
 * `texts.placeKept` for a customer whose wait kept the place of one they gave up (`keptPlace`: the contact that
 * began it, `rejoinSeconds`), when the wait sentence says nothing of their place; else null.
 */
export function placeKeptSentence(policy: RoutingPolicy, quote: HoldQuote): string | null {
  if (!quote.keptPlace) return null;
  // The texts said with no estimate when nobody can answer, or the team is closed, say it already.
  const says = quote.etaSeconds !== null || (!quote.closed && !quote.nobodyFree);
  return says ? fillText(policy.texts.placeKept, {}) : null;
}

/**
 * The one honest sentence a waiting customer is told: their place and the pessimistic wait; with no wait to
 * quote, that everyone is busy (or, nobody being available, that nobody can answer now), or, when nobody works
 * now, when the team is back. Held under the cap. A customer owed a call back (`callbackInSeconds`: when it is
 * due) is told it stands.
 */
export function waitSentence(
  policy: RoutingPolicy,
  quote: HoldQuote,
  callbackInSeconds: number | null = null,
): string {
  const texts = policy.texts;
  // Owed a call back: that, by the time they were told or the honest wait now, whichever is later.
  if (callbackInSeconds !== null)
    return fillText(texts.callbackOwed, {
      wait: humanDuration(Math.max(callbackInSeconds, quote.etaSeconds ?? 0, 60), policy.locale),
    });
  if (quote.etaSeconds !== null)
    return fillText(texts.waitNotice, {
      position: quote.position,
      wait: humanDuration(quote.etaSeconds, policy.locale),
    });
  if (!quote.closed) return fillText(quote.nobodyFree ? texts.nobodyFree : texts.noEstimate, {});
  const opens = quote.closed.opensInSeconds;
  return opens === null
    ? fillText(texts.nobodyWorking, {})
    : fillText(texts.closed, {
        wait: humanDuration(opens, policy.locale),
        opens: opensPhrase(quote.closed, policy.locale),
      });
}

/**
 * What a customer whose person is away or offline is told (`ownerAway`, `ownerOffline`): who, and how long what
 * they write waits for them before the next free colleague takes it, never a time a colleague will answer by.
 */
export function ownerWaitSentence(
  policy: RoutingPolicy,
  owner: { name: string; status: string } | null,
  seconds: number,
): string {
  const text = owner?.status === 'offline' ? policy.texts.ownerOffline : policy.texts.ownerAway;
  return fillText(text, {
    owner: owner?.name ?? 'The person looking after your conversation',
    wait: humanDuration(Math.max(1, seconds), policy.locale),
  });
}

/** Closed this long or longer: when they open is said as a day and time, not as hours to count. */
export const OPENS_AS_DAY_SECONDS = 12 * 3600;

/**
 * When a closed team opens, as a customer reads it: "in 2 hours"; from OPENS_AS_DAY_SECONDS on, "on Wednesday
 * 7 January at 08:30 (Berlin time)" (in the opening hours' time zone, named by its city). In another language
 * (`locale`), as the platform says it there: "dentro de 2 horas", "lunes, 12 de enero, 08:00 (hora de México)".
 */
export function opensPhrase(closed: NonNullable<WaitQuote['closed']>, locale = 'en'): string {
  const seconds = closed.opensInSeconds ?? 0;
  if (seconds < OPENS_AS_DAY_SECONDS || !closed.opensAt) {
    if (isEnglish(locale)) return `in ${humanDuration(seconds)}`;
    const [count, unit] = durationParts(seconds);
    return new Intl.RelativeTimeFormat(locale, { numeric: 'always' }).format(count, unit);
  }
  const { at, timeZone } = closed.opensAt;
  const shape = {
    timeZone,
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  } as const;
  if (!isEnglish(locale)) {
    const zone = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'longGeneric' })
      .formatToParts(at)
      .find((p) => p.type === 'timeZoneName')?.value;
    const when = new Intl.DateTimeFormat(locale, shape).format(at);
    return zone ? `${when} (${zone})` : when;
  }
  const parts = new Intl.DateTimeFormat('en-GB', shape).formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const city = timeZone === 'UTC' ? 'UTC' : `${timeZone.split('/').at(-1)!.replaceAll('_', ' ')} time`;
  return `on ${part('weekday')} ${part('day')} ${part('month')} at ${part('hour')}:${part('minute')} (${city})`;
}

/** Fill `{position}` and `{wait}` into a notice, keeping it under the cap. */
export function fillText(template: string, values: Record<string, string | number>): string {
  const text = template.replace(/\{(\w+)\}/g, (m, k: string) => (k in values ? String(values[k]) : m));
  return text.length > TEXT_CAP ? `${text.slice(0, TEXT_CAP - 1)}…` : text;
}

/**
 * The entry point a contact came in by: the first of `entryPoints` on its channel whose `to` (its number or
 * address, normalized as the policy's) or `topic` is the contact's `to`, or that names neither; undefined when
 * none fits.
 */
export function entryPointOf(
  entryPoints: readonly EntryPoint[],
  channel: Channel,
  to: string | undefined,
): EntryPoint | undefined {
  // Not an address we can read: only a catch-all fits.
  const reached = to === undefined ? null : (identityIfAny(channel, to)?.address ?? null);
  return entryPoints.find(
    (e) =>
      e.channel === channel &&
      (e.to === undefined && e.topic === undefined
        ? true
        : reached !== null && (e.to ?? e.topic) === reached),
  );
}
