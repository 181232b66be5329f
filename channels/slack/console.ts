// The Slack agent console: a Bolt app in HTTP mode whose ExpressReceiver router
// the server mounts at `/slack/events` (events, interactivity and the slash
// command all arrive there, signed; Bolt verifies the signature over the raw
// body). Agents are linked by `slackUserId`. Each conversation an agent works on
// is a context card in their DM with the app, and everything about it lives in
// that card's thread: customer messages come in there, what the agent writes
// there goes to the customer (or stays internal with `note:`).
//
// This file is the Slack → Switchboard half: Slack is answered once what the
// agent did is stored (or after STORED_WITHIN_MS), and the Slack work after it
// (ephemeral messages, modals) goes on. The Switchboard → Slack half (cards,
// thread lines, delivery marks, home tabs) is threads.ts; every Web API call of
// either goes through the paced outbox (outbox.ts).
import {
  App,
  AuthorizationError,
  type AuthorizeResult,
  type Logger as BoltLogger,
  ExpressReceiver,
  LogLevel,
  type RespondFn,
  webApi,
} from '@slack/bolt';
import express from 'express';
import type { Logger } from 'pino';
import { normalizeEmail, normalizePhone } from '../../routing/addresses.js';
import type { Router } from '../../routing/router.js';
import { withTimeout } from '../../shared/clock.js';
import { logFailure, NotFoundError, StoreUnavailableError, SwitchboardError } from '../../shared/errors.js';
import {
  type Agent,
  type Attachment,
  type Conversation,
  fillSavedReply,
  knownName,
} from '../../shared/model.js';
import { OneRunAtATime } from '../../shared/runs.js';
import { CHAT_FILES_PER_MESSAGE, type ChatFiles } from '../chat/files.js';
import type { FileBytes } from '../content.js';
import { ORIGINAL_LINK_DAYS, type OriginalLinks } from '../email/original.js';
import type { LiveView } from '../team.js';
import { conversationView, participants, readConversation } from '../views.js';
import { TeamAlerts } from './alerts.js';
import {
  ACTION,
  blockModal,
  type Colleague,
  colleagueOptions,
  consultPicker,
  customerLabel,
  detailsModal,
  FIELD,
  followUpModal,
  handoffModal,
  promiseModal,
  queueMessage,
  savedReplyModal,
  statsMessage,
  summaryText,
  teamMessage,
  transcript,
  USAGE,
  VIEW,
  writeModal,
} from './blocks.js';
import { agentFigures, waitingFor } from './figures.js';
import { readSlackFile, type SharedFile, sharedFileName } from './files.js';
import { followUpAt, followUpChoices } from './followup.js';
import { SlackOutbox, type Wait } from './outbox.js';
import {
  AppHomeOpened,
  AuthTest,
  BlockActions,
  BlockSuggestion,
  EventEnvelope,
  MessageEvent,
  Posted,
  SlashCommand,
  ViewSubmission,
} from './payloads.js';
import { slackRequestGuard } from './requests.js';
import { MemorySlackState, type SlackState } from './state.js';
import { CHANNEL_NAMES, escapeSlack, mentionedUsers, noteText, slackDate, slackToPlain } from './text.js';
import { SlackThreads } from './threads.js';

export interface SlackSettings {
  botToken: string;
  signingSecret: string;
  /** Web API base URL ending in `/api/` (`SLACK_API_URL`: GovSlack, a proxy, a stand-in); null: Slack's. */
  apiUrl?: string | null;
  /**
   * How long a process's Slack updates of a conversation may go unrenewed before another process takes
   * them over (`SLACK_TAKEOVER_SECONDS`, in ms here). Default threads.ts TAKEOVER_MS.
   */
  takeoverMs?: number;
  /** The team's channel (`SLACK_TEAM_CHANNEL`): told when a customer will wait past the time they were told. */
  teamChannel?: string | null;
}

/** What tests (or a deployment) may change; the defaults talk to Slack itself. */
export interface SlackConsoleOverrides {
  /** Web API base URL, ending in `/api/` (tests: the local stand-in). Default: the settings' (`SLACK_API_URL`), else Slack's. */
  apiUrl?: string;
  /** Minimum spacing of messages to one channel. Default 1000 ms (Slack's posting limit). */
  paceMs?: number;
  /** How the outbox waits for pacing and `Retry-After` (tests shorten it). */
  wait?: Wait;
  /** Where cards, DM channels and processed event ids are kept. Default: this process's memory. */
  state?: SlackState;
  /** How often the console renews its holds and takes over another process's unfinished work (ms; default 1000). */
  sweepMs?: number;
}

export interface SlackConsoleOptions extends SlackConsoleOverrides {
  router: Router;
  settings: SlackSettings;
  log: Logger;
  /** Where files agents share in a thread are kept for the customer; without, they stay in Slack. */
  files?: ChatFiles;
  /** The bytes of a customer's file Switchboard keeps (a chat upload, an email attachment): pictures shown in threads. */
  pictures?: FileBytes;
  /** The team's live view (`/switchboard team`); without, the command says it is not available. */
  team?: () => Promise<LiveView>;
  /** Links to inbound mail as received: a "Show original" link on each inbound email line. */
  originals?: OriginalLinks;
}

/** The most ephemeral messages an earlier conversation is read in (its newest part; ~3,500 characters each). */
const READ_CHUNKS = 8;
/**
 * How long an event is held as being processed (its id claimed) before another process may take Slack's
 * retry of it: under the minute Slack waits before its second retry.
 */
const EVENT_LEASE_MS = 30_000;
/**
 * How long Slack's answer waits for what the agent did (a reply or note, a button, a form, the slash command)
 * to be stored: Slack allows 3 s. A process that dies before then leaves the agent told by Slack that it did
 * not go through (a message event is sent again; a button, form or command shows an error to press again).
 */
const STORED_WITHIN_MS = 2_000;
/**
 * How long an options request (a searchable colleague select) may take before it is answered with nothing:
 * Slack waits 3 s for the options, then says none could be loaded.
 */
const OPTIONS_WITHIN_MS = 2_500;

export class SlackConsole {
  /** Mount at `/slack/events`; it reads the raw body itself (no body parser in front of it). */
  readonly router: express.Router;
  readonly #bolt: App;
  readonly #r: Router;
  readonly #log: Logger;
  readonly #outbox: SlackOutbox;
  readonly #state: SlackState;
  readonly #token: string;
  readonly #threads: SlackThreads;
  readonly #inflight = new Set<Promise<void>>();
  readonly #sweeper: NodeJS.Timeout;
  readonly #sweeps: OneRunAtATime<string[]>;
  #identity: Promise<AuthTest> | null = null;
  #closed = false;
  readonly #files: ChatFiles | null;
  readonly #apiUrl: string | null;
  readonly #team: (() => Promise<LiveView>) | null;
  readonly #alerts: TeamAlerts | null;

  constructor(options: SlackConsoleOptions) {
    this.#r = options.router;
    this.#log = options.log.child({ component: 'slack' });
    this.#sweeps = new OneRunAtATime({
      log: this.#log,
      failed: 'Slack: could not look for unfinished updates',
      works: 'Slack: taking over unfinished updates works again',
      stopped: () => this.#closed,
    });
    this.#state = options.state ?? new MemorySlackState();
    this.#token = options.settings.botToken;
    const logger = boltLogger(this.#log);
    const apiUrl = options.apiUrl ?? options.settings.apiUrl;
    this.#apiUrl = apiUrl ?? null;
    this.#files = options.files ?? null;
    const clientOptions = {
      ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
      // The outbox retries (after Retry-After, with backoff): the client itself never waits.
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
      timeout: 15_000,
      logger,
    };
    const client = new webApi.WebClient(this.#token, clientOptions);
    this.#outbox = new SlackOutbox({
      client,
      ...(options.paceMs !== undefined ? { paceMs: options.paceMs } : {}),
      ...(options.wait ? { wait: options.wait } : {}),
      log: this.#log,
    });
    this.#threads = new SlackThreads({
      router: this.#r,
      outbox: this.#outbox,
      state: this.#state,
      log: this.#log,
      me: () => this.#me(),
      ...(options.settings.takeoverMs !== undefined ? { takeoverMs: options.settings.takeoverMs } : {}),
      ...(options.pictures ? { pictures: options.pictures } : {}),
      ...(options.originals ? { originals: options.originals } : {}),
      apiUrl,
    });
    this.#team = options.team ?? null;
    this.#alerts = options.settings.teamChannel
      ? new TeamAlerts({
          router: this.#r,
          outbox: this.#outbox,
          state: this.#state,
          channel: options.settings.teamChannel,
          team: this.#team,
          log: this.#log,
        })
      : null;
    this.#sweeper = setInterval(() => {
      if (!this.#sweeps.busy) void this.sweep();
    }, options.sweepMs ?? 1000);
    this.#sweeper.unref();
    // The signature and the body's shape are checked before Bolt's route (requests.ts): Bolt verifies the
    // signature again over the same bytes.
    const router = express.Router();
    router.post('/', slackRequestGuard({ signingSecret: options.settings.signingSecret, log: this.#log }));
    const receiver = new ExpressReceiver({
      signingSecret: options.settings.signingSecret,
      endpoints: '/',
      router,
      logger,
      // The answer goes once the listeners return: once what the agent did is stored, or after
      // STORED_WITHIN_MS (`#storedBeforeAnswer`); an opened home tab at once.
      processBeforeResponse: true,
      // A payload Bolt cannot process is acknowledged (Slack would only send it again) and logged;
      // when the app cannot tell who it is (auth.test failed) or cannot reach Redis to claim an event,
      // 503 so that Slack retries later.
      processEventErrorHandler: async ({ error, response }) => {
        if (response.headersSent) return false;
        const original = (error as { original?: unknown }).original ?? error;
        const temporary = error instanceof AuthorizationError || original instanceof StoreUnavailableError;
        this.#log.warn(
          { err: String(error) },
          error instanceof AuthorizationError
            ? 'Slack: not ready (auth.test failed)'
            : temporary
              ? 'Slack: not ready (the store is unavailable)'
              : 'Slack: request dropped',
        );
        response.writeHead(temporary ? 503 : 200);
        response.end();
        return true;
      },
    });
    this.router = receiver.router as express.Router;
    this.#bolt = new App({
      receiver,
      authorize: () => this.#authorize(),
      logger,
      clientOptions,
      ignoreSelf: true,
    });
    this.#listen();
    this.#log.info('Slack console: on at /slack/events');
  }

  /** Resolves when every event and request so far has been handled and its Slack calls made. */
  async idle(): Promise<void> {
    for (let round = 0; round < 1000; round++) {
      const requests = [...this.#inflight];
      await Promise.allSettled(requests);
      const events = await this.#threads.settle();
      const alerts = (await this.#alerts?.idle()) ?? false;
      await this.#outbox.idle();
      if (requests.length === 0 && !events && !alerts && this.#inflight.size === 0) return;
    }
  }

  /**
   * Renew this process's holds on the Slack updates it has under way, and take over (and bring up to date)
   * the conversations of a process that stopped with updates unfinished. Runs every `sweepMs` (skipped
   * while one runs); one run at a time, a call meanwhile waits for it; a failure is logged once until a run
   * works again. Resolves with the conversations taken over. `now`: the time it goes by (ms; tests look ahead).
   */
  async sweep(now = Date.now()): Promise<string[]> {
    return this.#sweeps.run(() => this.#threads.sweep(now), []);
  }

  /** Stop listening to events; give queued Slack calls up to `drainMs` to go out. */
  async close(drainMs = 2000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    await this.#sweeps.idle();
    this.#threads.close();
    this.#alerts?.close();
    await Promise.race([this.idle(), new Promise((r) => setTimeout(r, drainMs).unref())]);
    this.#outbox.close();
  }

  // ================================================================ Slack → Switchboard

  #listen(): void {
    const bolt = this.#bolt;
    // Failures go on to the receiver's processEventErrorHandler, which logs them and answers Slack.
    bolt.error(async (err) => {
      throw err;
    });
    // A retried event (x-slack-retry-num) whose id was seen is acknowledged and dropped. The first is
    // claimed while it is processed and marked done after: a process that dies before it is done leaves
    // it to Slack's next retry (a minute later), which any process then takes.
    bolt.use(async ({ body, context, next }) => {
      const envelope = EventEnvelope.safeParse(body);
      if (!envelope.success) return next();
      const eventId = envelope.data.event_id;
      if (!(await this.#state.claimEvent(eventId, Date.now(), EVENT_LEASE_MS))) {
        this.#log.info({ eventId, retry: context.retryNum }, 'Slack event already processed');
        return;
      }
      await next();
      // Done either way: should this fail, the claim lapses, and Slack, answered, sends no retry.
      await this.#state.completeEvent(eventId, Date.now()).catch((err: unknown) => this.#failed(err));
    });
    // What an agent does is stored before Slack is answered (`#storedBeforeAnswer`): what Slack was told
    // went through is not lost with this process.
    bolt.event('message', async ({ event }) => {
      await this.#storedBeforeAnswer(() => this.#onMessage(event));
    });
    bolt.event('app_home_opened', async ({ event }) => {
      const parsed = AppHomeOpened.safeParse(event);
      if (parsed.success && (parsed.data.tab ?? 'home') === 'home') {
        void this.#track(() => this.#threads.publishHome(parsed.data.user));
      }
    });
    bolt.action(/^sb_/, async ({ ack, body }) => {
      await ack();
      await this.#storedBeforeAnswer(() => this.#onAction(body));
    });
    bolt.action(/^(?!sb_)/, async ({ ack }) => {
      await ack();
    });
    // What an agent types in a searchable select (a colleague picker of a team over 100): the colleagues it
    // matches, within Slack's three seconds. Any other select's request gets no options.
    bolt.options(/.*/, async ({ ack, body }) => {
      const parsed = BlockSuggestion.safeParse(body);
      const options = parsed.success
        ? await withTimeout(this.#suggest(parsed.data), OPTIONS_WITHIN_MS).catch((err: unknown) => {
            this.#log.warn({ err: String(err) }, 'Slack: a colleague picker got no options in time');
            return { options: [] as [] };
          })
        : { options: [] as [] };
      await ack(options);
    });
    bolt.view(/^(?!sb_)/, async ({ ack }) => {
      await ack();
    });
    bolt.view(VIEW.handoff, async ({ ack, body }) => {
      const parsed = ViewSubmission.safeParse(body);
      if (!parsed.success) return void (await ack());
      const errors = await this.#checkHandoff(parsed.data);
      if (errors) return void (await ack({ response_action: 'errors', errors }));
      await ack();
      await this.#storedBeforeAnswer(() => this.#submitHandoff(parsed.data));
    });
    bolt.view(VIEW.promise, async ({ ack, body }) => {
      const parsed = ViewSubmission.safeParse(body);
      if (!parsed.success) return void (await ack());
      const errors = promiseErrors(parsed.data, this.#now());
      if (errors) return void (await ack({ response_action: 'errors', errors }));
      await ack();
      await this.#storedBeforeAnswer(() => this.#submitPromise(parsed.data));
    });
    bolt.view(VIEW.followUp, async ({ ack, body }) => {
      const parsed = ViewSubmission.safeParse(body);
      if (!parsed.success) return void (await ack());
      const chosen = followUpAt(followUpForm(parsed.data), this.#now());
      if ('error' in chosen) {
        const block = chosen.field === 'at' ? FIELD.followUpAt.block : FIELD.followUpWhen.block;
        return void (await ack({ response_action: 'errors', errors: { [block]: chosen.error } }));
      }
      await ack();
      await this.#storedBeforeAnswer(() => this.#submitFollowUp(parsed.data, chosen.at));
    });
    bolt.view(VIEW.block, async ({ ack, body }) => {
      const parsed = ViewSubmission.safeParse(body);
      await ack();
      if (parsed.success) await this.#storedBeforeAnswer(() => this.#submitBlock(parsed.data));
    });
    bolt.view(VIEW.details, async ({ ack, body }) => {
      const parsed = ViewSubmission.safeParse(body);
      if (!parsed.success) return void (await ack());
      const errors = detailsErrors(parsed.data);
      if (errors) return void (await ack({ response_action: 'errors', errors }));
      await ack();
      await this.#storedBeforeAnswer(() => this.#submitDetails(parsed.data));
    });
    bolt.view(VIEW.write, async ({ ack, body }) => {
      const parsed = ViewSubmission.safeParse(body);
      if (!parsed.success) return void (await ack());
      const errors = writeErrors(parsed.data, this.#r.writesOn, (channel, to) =>
        this.#r.writeAddress(channel, to),
      );
      if (errors) return void (await ack({ response_action: 'errors', errors }));
      await ack();
      await this.#storedBeforeAnswer(() => this.#submitWrite(parsed.data));
    });
    bolt.view(VIEW.savedReply, async ({ ack, body }) => {
      const parsed = ViewSubmission.safeParse(body);
      if (!parsed.success) return void (await ack());
      const text = fieldText(parsed.data, FIELD.replyText);
      if (text.trim() === '')
        return void (await ack({
          response_action: 'errors',
          errors: { [FIELD.replyText.block]: 'Write what the customer should read.' },
        }));
      await ack();
      await this.#storedBeforeAnswer(() => this.#submitSavedReply(parsed.data));
    });
    bolt.command(/.*/, async ({ ack, body, respond }) => {
      await ack();
      await this.#storedBeforeAnswer(() => this.#onCommand(body, respond));
    });
  }

  async #onMessage(event: unknown): Promise<void> {
    const parsed = MessageEvent.safeParse(event);
    if (!parsed.success) return;
    const m = parsed.data;
    // An agent's edit or deletion in a conversation's thread does not reach the customer: they are told so.
    if (m.subtype === 'message_changed' || m.subtype === 'message_deleted') return this.#changedInThread(m);
    // Only people's plain messages: no joins or other bots (and never our own).
    if (m.subtype !== undefined && m.subtype !== 'file_share' && m.subtype !== 'thread_broadcast') return;
    if (m.bot_id !== undefined || m.user === undefined) return;
    const me = await this.#me();
    if (m.user === me.user_id) return;
    if (m.thread_ts === undefined || m.thread_ts === m.ts) {
      if (m.channel_type === 'im') {
        await this.#ephemeral(
          m.channel,
          m.user,
          undefined,
          'To answer a customer, write in the thread under their card (`note:` keeps it internal). `/switchboard` sets your status and shows your queue and figures.',
        );
      }
      return;
    }
    const thread = await this.#state.threadOwner(m.channel, m.thread_ts);
    if (!thread) return;
    const agent = await this.#threads.agentBySlackUser(m.user);
    if (!agent) {
      await this.#ephemeral(m.channel, m.user, m.thread_ts, await this.#notLinkedWhy(m.user, thread.agentId));
      return;
    }
    const conversationId = thread.conversationId;
    const text = await this.#plain(m.text ?? '');
    const note = noteText(text);
    try {
      if (note !== null) {
        const stored = this.#threads.writtenInSlack(agent.id, conversationId, note, {
          channel: m.channel,
          ts: m.ts,
        });
        try {
          await this.#r.note(agent.id, conversationId, note);
        } finally {
          stored();
        }
        return;
      }
      // Files shared in the thread go to the customer with the text; one that cannot stays in Slack, and the
      // agent is told why.
      const conversation = await this.#r.store.getConversation(conversationId);
      const { attachments, unsent } = await this.#sharedFiles(
        agent.id,
        m.files ?? [],
        conversation?.lastChannel === 'voice',
      );
      // Nothing but files that could not go: nothing is sent (an empty message is refused, and said so).
      const sends = text.trim() !== '' || attachments.length > 0 || unsent.length === 0;
      if (sends) {
        if (conversation?.invited.includes(agent.id)) await this.#r.joinConsult(agent.id, conversationId);
        await this.#r.reply(agent.id, conversationId, text, `slack:${m.channel}:${m.ts}`, attachments);
      }
      if (unsent.length > 0) {
        const lines = unsent.map((u) => `“${escapeSlack(u.name)}” was not sent to the customer: ${u.why}.`);
        if (sends) lines.push(attachments.length > 0 ? 'The rest was sent.' : 'Your text was sent.');
        await this.#ephemeral(m.channel, m.user, m.thread_ts, lines.join('\n'));
      }
    } catch (err) {
      await this.#explain(err, m.channel, m.user, m.thread_ts, agent, conversationId);
    }
  }

  /** The files shared with an agent's thread message, kept for the customer; those that cannot be, and why. */
  async #sharedFiles(
    agentId: string,
    files: SharedFile[],
    onCall: boolean,
  ): Promise<{ attachments: Attachment[]; unsent: Array<{ name: string; why: string }> }> {
    const attachments: Attachment[] = [];
    const unsent: Array<{ name: string; why: string }> = [];
    for (const file of files) {
      const name = sharedFileName(file);
      if (onCall) {
        unsent.push({ name, why: 'a call cannot carry files; send them by text or email' });
      } else if (!this.#files) {
        unsent.push({ name, why: 'files are off here (CHAT_FILE_MAX_BYTES is 0); paste a link instead' });
      } else if (attachments.length >= CHAT_FILES_PER_MESSAGE) {
        unsent.push({ name, why: `at most ${CHAT_FILES_PER_MESSAGE} files go with one message` });
      } else {
        const read = await readSlackFile(file, {
          token: this.#token,
          apiUrl: this.#apiUrl,
          maxBytes: this.#files.maxBytes,
        });
        if ('error' in read) unsent.push({ name, why: read.error });
        else {
          try {
            attachments.push(await this.#files.keep({ agent: agentId }, read));
          } catch (err) {
            if (!(err instanceof SwitchboardError) || err.status >= 500) throw err;
            unsent.push({ name, why: err.toJSON().message });
          }
        }
      }
    }
    return { attachments, unsent };
  }

  async #onAction(body: unknown): Promise<void> {
    const parsed = BlockActions.safeParse(body);
    if (!parsed.success) return;
    const payload = parsed.data;
    const action = payload.actions[0]!;
    const userId = payload.user.id;
    const channel = payload.container?.channel_id ?? payload.channel?.id;
    const threadTs =
      payload.container?.thread_ts ?? payload.message?.thread_ts ?? payload.container?.message_ts;
    const agent = await this.#threads.agentBySlackUser(userId);
    if (!agent) {
      const card = channel && threadTs ? await this.#state.threadOwner(channel, threadTs) : null;
      if (channel)
        await this.#ephemeral(channel, userId, threadTs, await this.#notLinkedWhy(userId, card?.agentId));
      else await this.#threads.publishHome(userId);
      return;
    }
    const conversationId = action.value ?? '';
    try {
      switch (action.action_id) {
        case ACTION.wrapUpMore:
          // The card is drawn again with the new time (threads.ts, `conversation.wrapup`).
          await this.#r.extendWrapUp(agent.id, conversationId);
          return;
        // Done with after-call work: resolved now, as Resolve does.
        case ACTION.wrapUpDone:
        case ACTION.resolve:
          try {
            await this.#r.resolve(agent.id, conversationId);
          } catch (err) {
            // Pressed again (or by a second device): done already, which is what the agent wanted.
            const conversation = await this.#r.store.getConversation(conversationId);
            if (conversation?.status !== 'resolved' || !(err instanceof SwitchboardError)) throw err;
            if (channel)
              await this.#ephemeral(channel, userId, threadTs, 'This conversation is already resolved.');
          }
          return;
        case ACTION.consult: {
          const ref = await this.#state.thread(conversationId, agent.id);
          const conversation = await this.#r.store.getConversation(conversationId);
          if (!ref || !conversation) return;
          if (!(await this.#mayStill(agent, conversation, 'owner', channel, userId, threadTs))) return;
          const view = await conversationView(this.#r.store, conversation, agent.id);
          const picker = consultPicker(conversationId, customerLabel(view), await this.#colleagues(agent.id));
          const posted = await this.#outbox.post('chat.postMessage', {
            channel: ref.channel,
            thread_ts: ref.ts,
            ...picker,
          });
          // Kept, so that the picker closes when the conversation ends or leaves the agent (threads.ts).
          const at = Posted.safeParse(posted);
          if (at.success && picker.blocks.some((b) => b.type === 'section' && b.accessory))
            await this.#threads.pickerPosted(conversationId, agent.id, at.data.ts);
          return;
        }
        case ACTION.consultPick: {
          const id = (action.block_id ?? '').replace(/^consult:/, '');
          const conversation = await this.#r.store.getConversation(id);
          if (!conversation) throw new NotFoundError('conversation', id);
          if (!(await this.#mayStill(agent, conversation, 'owner', channel, userId, threadTs))) return;
          // A colleague of the team by agent id; on a picker posted before the team was offered, a Slack user.
          const picked = action.selected_option?.value;
          const colleague = picked
            ? await this.#r.store.getAgent(picked)
            : action.selected_user
              ? await this.#threads.agentBySlackUser(action.selected_user)
              : null;
          if (!colleague || colleague.leftAt !== undefined || colleague.id === agent.id) {
            const why =
              colleague?.id === agent.id
                ? 'Pick a colleague, not yourself.'
                : colleague
                  ? 'That colleague is no longer on the team: pick another.'
                  : 'That person is not linked to a Switchboard agent.';
            if (channel) await this.#ephemeral(channel, userId, threadTs, why);
            return;
          }
          await this.#r.consult(agent.id, id, colleague.id);
          if (channel && payload.container?.message_ts) {
            await this.#threads.pickerUsed(id, agent.id, payload.container.message_ts);
            const text = `Invited *${escapeSlack(colleague.name)}* to help.`;
            await this.#outbox.post('chat.update', {
              channel,
              ts: payload.container.message_ts,
              text,
              blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
            });
          }
          return;
        }
        case ACTION.leave:
          await this.#r.leaveConsult(agent.id, conversationId);
          return;
        case ACTION.withdraw:
          await this.#r.withdrawHandoff(agent.id, conversationId);
          return;
        case ACTION.call: {
          // The agent's own phone rings first; the thread gets the notes of how it went.
          const { to } = await this.#r.callCustomer(agent.id, conversationId);
          if (channel)
            await this.#ephemeral(
              channel,
              userId,
              threadTs,
              `Your phone rings now: pick it up and Switchboard dials the customer at ${escapeSlack(to)}.`,
            );
          return;
        }
        case ACTION.handoff:
        case ACTION.block:
        case ACTION.followUp:
        case ACTION.details:
        case ACTION.promise: {
          if (!payload.trigger_id) return;
          const conversation = await this.#r.store.getConversation(conversationId);
          if (!conversation) return;
          // A form is opened only for what can still be done (a stale card's button says why not instead).
          const needs =
            action.action_id === ACTION.details || action.action_id === ACTION.promise ? 'on it' : 'owner';
          if (!(await this.#mayStill(agent, conversation, needs, channel, userId, threadTs))) return;
          const view = await conversationView(this.#r.store, conversation, agent.id);
          const now = this.#now();
          const modal =
            action.action_id === ACTION.handoff
              ? handoffModal(conversationId, customerLabel(view), await this.#colleagues(agent.id))
              : action.action_id === ACTION.block
                ? blockModal(conversationId, customerLabel(view))
                : action.action_id === ACTION.followUp
                  ? followUpModal(
                      conversationId,
                      customerLabel(view),
                      CHANNEL_NAMES[
                        conversation.lastChannel === 'voice' ? 'sms' : conversation.lastChannel
                      ] ?? conversation.lastChannel,
                      followUpChoices(now, this.#r.policy.hours?.timeZone ?? 'UTC'),
                      now,
                    )
                  : action.action_id === ACTION.details
                    ? detailsModal(conversationId, customerLabel(view))
                    : promiseModal(conversationId, now);
          await this.#outbox.call('views.open', { trigger_id: payload.trigger_id, view: modal });
          return;
        }
        case ACTION.read: {
          // An earlier conversation of the customer, to this agent alone, in the thread they picked it from.
          const picked = action.selected_option?.value;
          if (!picked || !channel) return;
          const read = await readConversation(this.#r.store, agent.id, picked);
          const heading = `*Earlier conversation* · ${escapeSlack(summaryText(read.conversation))}`;
          const chunks = transcript(await this.#threads.shown(read.messages), customerLabel(read), heading);
          const shown = chunks.slice(-READ_CHUNKS);
          if (shown.length < chunks.length)
            shown[0] = `${heading}\n_The first ${chunks.length - shown.length} part(s) are not shown: too long for Slack._\n\n${shown[0]!}`;
          for (const text of shown.length > 0 ? shown : [`${heading}\nNothing was said in it.`])
            await this.#ephemeral(channel, userId, threadTs, text);
          return;
        }
        case ACTION.saved: {
          // "<conversation id>#<name>": the form opens with the reply's text, to change and send.
          const picked = action.selected_option?.value ?? '';
          const cut = picked.indexOf('#');
          if (cut < 1 || !payload.trigger_id) return;
          const reply = (await this.#r.savedReplies()).find((r) => r.name === picked.slice(cut + 1));
          if (!reply) {
            const why =
              'That saved reply is no longer there: the team changed them. Write your reply in the thread.';
            if (channel) await this.#ephemeral(channel, userId, threadTs, why);
            return;
          }
          // Its placeholders filled for this customer and agent, as the web console fills them.
          const conversation = await this.#r.store.getConversation(picked.slice(0, cut));
          const customer = conversation ? await this.#r.store.getCustomer(conversation.customerId) : null;
          const text = fillSavedReply(reply.text, {
            customer: knownName(customer),
            agent: agent.name,
          });
          const modal = savedReplyModal(picked.slice(0, cut), { ...reply, text });
          await this.#outbox.call('views.open', { trigger_id: payload.trigger_id, view: modal });
          return;
        }
        case ACTION.write:
          if (!payload.trigger_id) return;
          await this.#outbox.call('views.open', {
            trigger_id: payload.trigger_id,
            view: writeModal(this.#r.writesOn),
          });
          return;
        case ACTION.keep: {
          // The button's value is the promise's id; the router checks the agent may mark it (made it, or owns
          // the conversation) and that it is still open. Kept is said in the threads (`promise.settled`).
          const kept = await this.#r.keepPromise(agent.id, action.value ?? '');
          if (kept.state !== 'kept' && channel)
            await this.#ephemeral(
              channel,
              userId,
              threadTs,
              'It was already past its due time, so it counts as broken.',
            );
          return;
        }
        case ACTION.accept:
          await this.#r.acceptHandoff(agent.id, conversationId);
          return;
        case ACTION.original:
          // The button's value is the message's id: its original, to this agent alone, by a fresh link.
          if (channel)
            await this.#ephemeral(channel, userId, threadTs, await this.#original(agent, action.value ?? ''));
          return;
        case ACTION.decline:
          await this.#r.declineHandoff(agent.id, conversationId);
          return;
        default:
          if (action.action_id.startsWith(`${ACTION.status}_`)) {
            const status = action.value;
            if (status !== 'available' && status !== 'away' && status !== 'offline') return;
            const before = agent.status;
            await this.#r.setAgentStatus(agent.id, status);
            if (before === status) this.#threads.home(agent.id);
          }
          return;
      }
    } catch (err) {
      // About the conversation pressed on (a stale card's button says what became of it); a promise's Mark kept
      // names the promise, whose own refusals say it.
      const about =
        action.action_id === ACTION.consultPick
          ? (action.block_id ?? '').replace(/^consult:/, '')
          : action.action_id === ACTION.keep ||
              action.action_id === ACTION.original ||
              action.action_id.startsWith(`${ACTION.status}_`)
            ? null
            : conversationId;
      if (channel) await this.#explain(err, channel, userId, threadTs, agent, about);
      else await this.#explainInDm(err, agent);
    }
  }

  /**
   * What an agent who pressed a line's Show original is told: a link to the mail as received, signed now (it opens
   * it for ORIGINAL_LINK_DAYS: a link posted in a thread would stop working), or why there is none. Whoever was
   * shown the message in their thread, or is on its conversation, may open it.
   */
  async #original(agent: Agent, messageId: string): Promise<string> {
    const message = messageId ? await this.#r.store.getMessage(messageId) : null;
    const conversation = message ? await this.#r.store.getConversation(message.conversationId) : null;
    if (!message || !conversation || message.direction !== 'in' || message.channel !== 'email')
      return 'This email is no longer kept: its customer’s data may have been erased.';
    const shownToThem =
      participants(conversation).includes(agent.id) ||
      (await this.#state.shown(conversation.id, agent.id)).has(message.id);
    if (!shownToThem) return 'You are not on this conversation, so its mail is not yours to open.';
    switch (await this.#threads.originalState(message.id)) {
      case 'too_large':
        return 'This email was too large to keep as received (EMAIL_STORE_MAX_BYTES): the thread shows what is left of it.';
      case 'dropped':
        return 'This email as received is no longer kept: the oldest go first once EMAIL_STORE_MAX_BYTES is reached. The thread shows what is left of it.';
      case 'kept': {
        const link = this.#threads.originalLink(message.id);
        if (!link) return 'Email is off here, so its original cannot be opened.';
        return `:envelope: <${link}|Open the original email> — as received, quoted history and signature too. The link works for ${ORIGINAL_LINK_DAYS} days; press *Show original* again for a new one.`;
      }
    }
  }

  /** The options a colleague picker's request is answered with: the colleagues whose name holds what was typed. */
  async #suggest(request: BlockSuggestion): Promise<ReturnType<typeof colleagueOptions>> {
    const picker =
      request.action_id === ACTION.consultPick ||
      (request.action_id === FIELD.handoffTarget.action && request.view?.callback_id === VIEW.handoff);
    if (!picker) return { options: [] };
    const agent = await this.#threads.agentBySlackUser(request.user.id);
    if (!agent) return { options: [] };
    return colleagueOptions(await this.#colleagues(agent.id), request.value);
  }

  /**
   * The colleague the hand-off form names: picked from the team by agent id; on a form opened before the team
   * was offered, a Slack user.
   */
  async #handoffTarget(submission: ViewSubmission): Promise<Agent | null> {
    const state = fieldState(submission, FIELD.handoffTarget);
    const picked = state?.selected_option?.value;
    if (picked) return this.#r.store.getAgent(picked);
    return state?.selected_user ? this.#threads.agentBySlackUser(state.selected_user) : null;
  }

  async #checkHandoff(submission: ViewSubmission): Promise<Record<string, string> | null> {
    const note = fieldText(submission, FIELD.handoffNote);
    const errors: Record<string, string> = {};
    const colleague = await this.#handoffTarget(submission);
    if (!colleague || colleague.leftAt !== undefined)
      errors[FIELD.handoffTarget.block] = colleague
        ? 'That colleague is no longer on the team: pick another.'
        : 'Pick a colleague of the team.';
    else if (colleague.slackUserId === submission.user.id)
      errors[FIELD.handoffTarget.block] = 'Pick a colleague, not yourself.';
    else if (colleague.status === 'offline')
      errors[FIELD.handoffTarget.block] =
        `${colleague.name} is offline now and cannot take a hand-off: pick another colleague.`;
    if (note.trim() === '') errors[FIELD.handoffNote.block] = 'Tell them what they need to know.';
    return Object.keys(errors).length > 0 ? errors : null;
  }

  async #submitHandoff(submission: ViewSubmission): Promise<void> {
    const agent = await this.#threads.agentBySlackUser(submission.user.id);
    const note = fieldText(submission, FIELD.handoffNote);
    const colleague = await this.#handoffTarget(submission);
    if (!agent || !colleague) return;
    const conversationId = submission.view.private_metadata;
    try {
      await this.#r.handoff(agent.id, conversationId, colleague.id, note);
    } catch (err) {
      await this.#explainInThread(err, agent, conversationId);
    }
  }

  /** Resolve with a follow-up at `at` (the form, checked by followup.ts `followUpAt`). */
  async #submitFollowUp(submission: ViewSubmission, at: number): Promise<void> {
    const agent = await this.#threads.agentBySlackUser(submission.user.id);
    if (!agent) return;
    const conversationId = submission.view.private_metadata;
    try {
      await this.#r.resolve(agent.id, conversationId, at);
    } catch (err) {
      await this.#explainInThread(err, agent, conversationId);
    }
  }

  async #submitPromise(submission: ViewSubmission): Promise<void> {
    const agent = await this.#threads.agentBySlackUser(submission.user.id);
    if (!agent) return;
    const text = fieldText(submission, FIELD.promiseText);
    const at = fieldState(submission, FIELD.promiseDue)?.selected_date_time ?? 0;
    const conversationId = submission.view.private_metadata;
    try {
      await this.#r.promise(agent.id, conversationId, at * 1000, text);
    } catch (err) {
      await this.#explainInThread(err, agent, conversationId);
    }
  }

  /** The agent writes to a customer first (the home tab's form, checked by `writeErrors`). */
  async #submitWrite(submission: ViewSubmission): Promise<void> {
    const agent = await this.#threads.agentBySlackUser(submission.user.id);
    if (!agent) return;
    const form = writeForm(submission);
    try {
      await this.#r.writeTo(agent.id, {
        channel: form.channel as 'sms' | 'email',
        to: form.to,
        text: form.text,
        ...(form.channel === 'email' && form.subject ? { subject: form.subject } : {}),
      });
    } catch (err) {
      await this.#explainInDm(err, agent);
    }
  }

  /** The agent blocks the customer of a conversation they own (the form's reason, maybe empty). */
  async #submitBlock(submission: ViewSubmission): Promise<void> {
    const agent = await this.#threads.agentBySlackUser(submission.user.id);
    if (!agent) return;
    const reason = fieldText(submission, FIELD.blockReason);
    const conversationId = submission.view.private_metadata;
    try {
      await this.#r.blockFromConversation(agent.id, conversationId, reason);
    } catch (err) {
      await this.#explainInThread(err, agent, conversationId);
    }
  }

  /**
   * What the customer told the agent (the form, checked by `detailsErrors`): kept on the customer, the card
   * follows (`customer.facts`); an address another customer has is said in the thread, for an admin to merge.
   */
  async #submitDetails(submission: ViewSubmission): Promise<void> {
    const agent = await this.#threads.agentBySlackUser(submission.user.id);
    if (!agent) return;
    const conversationId = submission.view.private_metadata;
    const given = (field: { block: string; action: string }) =>
      fieldText(submission, field).trim() || undefined;
    try {
      const { conflicts } = await this.#r.recordDetails(agent.id, conversationId, {
        name: given(FIELD.detailsName),
        email: given(FIELD.detailsEmail),
        phone: given(FIELD.detailsPhone),
      });
      const ref = await this.#state.thread(conversationId, agent.id);
      for (const c of conflicts) {
        const said = `${escapeSlack(c.identity.address)} is also another customer's${c.name ? ` (${escapeSlack(c.name)})` : ''}: it is not linked here; an admin can merge the two if they are the same person.`;
        if (ref && agent.slackUserId) await this.#ephemeral(ref.channel, agent.slackUserId, ref.ts, said);
      }
    } catch (err) {
      await this.#explainInThread(err, agent, conversationId);
    }
  }

  /** A saved reply, as the agent changed it in the form: to the customer, as a reply in the thread goes. */
  async #submitSavedReply(submission: ViewSubmission): Promise<void> {
    const agent = await this.#threads.agentBySlackUser(submission.user.id);
    if (!agent) return;
    const conversationId = submission.view.private_metadata;
    try {
      await this.#r.reply(agent.id, conversationId, fieldText(submission, FIELD.replyText));
    } catch (err) {
      await this.#explainInThread(err, agent, conversationId);
    }
  }

  async #onCommand(body: unknown, respond: RespondFn): Promise<void> {
    const parsed = SlashCommand.safeParse(body);
    if (!parsed.success) return;
    const command = parsed.data;
    const say = async (message: { text: string; blocks?: unknown[] }) => {
      try {
        await respond({
          response_type: 'ephemeral',
          replace_original: false,
          ...message,
        } as Parameters<RespondFn>[0]);
      } catch (err) {
        this.#log.warn({ err: String(err) }, 'Slack: could not answer the slash command');
      }
    };
    const agent = await this.#threads.agentBySlackUser(command.user_id);
    if (!agent) return say({ text: notLinked(command.user_id) });
    const word = command.text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
    try {
      switch (word) {
        case 'available':
        case 'away':
        case 'offline': {
          const updated = await this.#r.setAgentStatus(agent.id, word);
          return say({ text: `You are now *${updated.status}*.` });
        }
        case 'queue':
          return say(queueMessage(await waitingFor(this.#r, agent, this.#now())));
        case 'stats':
          return say(statsMessage(agent, await agentFigures(this.#r, agent.id, this.#now())));
        case 'team':
          if (!this.#team) return say({ text: 'The team view is not available here.' });
          return say(teamMessage(await this.#team()));
        case 'write': {
          // `/switchboard write <number or address> <message>`: by email to an address, else by text.
          const m = /^\s*\S+\s+(\S+)\s+([\s\S]+)$/.exec(command.text);
          if (!m) return say({ text: USAGE });
          // As Slack sends them: `&`, `<`, `>` escaped, an address or number as a link, emoji by name.
          const [to, text] = [slackToPlain(m[1]!), await this.#plain(m[2]!)];
          const wrote = await this.#r.writeTo(agent.id, {
            channel: to.includes('@') ? 'email' : 'sms',
            to,
            text,
          });
          const by = wrote.conversation.lastChannel === 'email' ? 'Emailed' : 'Texted';
          return say({
            text: `${by} ${wrote.message.to ?? to}. The conversation is yours: its thread is in your DMs.`,
          });
        }
        default:
          return say({ text: USAGE });
      }
    } catch (err) {
      this.#logFailure(err);
      return say({ text: explanation(err) });
    }
  }

  // ================================================================ answering the agent

  /**
   * An agent edited or deleted their message in a conversation's thread: what they first wrote went to the customer
   * (or stays a note) as it was, and a customer's copy cannot be changed: said to them in the thread.
   */
  async #changedInThread(m: MessageEvent): Promise<void> {
    const edited = m.subtype === 'message_changed';
    const which = edited ? m.message : m.previous_message;
    if (!which?.user || which.bot_id !== undefined || !which.thread_ts || which.thread_ts === which.ts)
      return;
    // Slack reports a reply's thread growing as an edit of its parent too: only the agent's own messages count.
    const me = await this.#me();
    if (which.user === me.user_id) return;
    if (!(await this.#state.threadOwner(m.channel, which.thread_ts))) return;
    await this.#ephemeral(
      m.channel,
      which.user,
      which.thread_ts,
      edited
        ? 'Edits made here do not reach Switchboard: what you first wrote stands (sent to the customer, or kept as a note). To correct it, write again in the thread.'
        : 'Deleting a message here does not take it back: what you wrote stands (sent to the customer, or kept as a note). To correct it, write again in the thread.',
    );
  }

  /** What an agent wrote in Slack as plain text for the customer (`slackToPlain`), colleagues mentioned by name. */
  async #plain(text: string): Promise<string> {
    const names = new Map<string, string>();
    for (const id of mentionedUsers(text)) {
      const agent = await this.#threads.agentBySlackUser(id);
      if (agent) names.set(id, agent.name);
    }
    return slackToPlain(text, (id) => names.get(id));
  }

  /**
   * What a Slack user linked to no agent is told, in a thread whose card was `cardAgentId`'s: that they are no
   * longer on the team when that agent left it (their Slack link went with them); else how to get linked.
   */
  async #notLinkedWhy(slackUserId: string, cardAgentId: string | undefined): Promise<string> {
    const was = cardAgentId ? await this.#r.store.getAgent(cardAgentId) : null;
    if (was?.leftAt !== undefined)
      return 'You are no longer on the team, so nothing you do here reaches Switchboard. If that is a mistake, ask an admin.';
    return notLinked(slackUserId);
  }

  async #ephemeral(channel: string, user: string, threadTs: string | undefined, text: string): Promise<void> {
    try {
      await this.#outbox.post('chat.postEphemeral', {
        channel,
        user,
        text,
        ...(threadTs ? { thread_ts: threadTs } : {}),
      });
    } catch (err) {
      this.#log.warn({ err: String(err) }, 'Slack: could not post an ephemeral message');
    }
  }

  /** What the agent is told leaves out a failure's detail on our side (`explanation`): the log keeps it. */
  #logFailure(err: unknown): void {
    logFailure(this.#log, err, 'Slack action failed');
  }

  /**
   * What went wrong, said to the agent where they acted. About a conversation (`conversationId`) they were on, a
   * refusal because it is no longer theirs to act on says what became of it (`#noLongerWhy`).
   */
  async #explain(
    err: unknown,
    channel: string,
    user: string,
    threadTs: string | undefined,
    agent?: Agent,
    conversationId?: string | null,
  ): Promise<void> {
    this.#logFailure(err);
    const stale =
      agent && conversationId && err instanceof SwitchboardError && STALE_CODES.has(err.code)
        ? await this.#noLongerWhy(agent, conversationId)
        : null;
    await this.#ephemeral(channel, user, threadTs, stale ?? explanation(err));
  }

  async #explainInThread(err: unknown, agent: Agent, conversationId: string): Promise<void> {
    const ref = await this.#state.thread(conversationId, agent.id);
    if (ref && agent.slackUserId)
      await this.#explain(err, ref.channel, agent.slackUserId, ref.ts, agent, conversationId);
    else await this.#explainInDm(err, agent);
  }

  /**
   * Why `agent` can no longer act on a conversation they were on (a control on an old card or in its thread: Slack
   * keeps old messages, and a click can come late): resolved (when, by whom), someone else's now, back in line, or
   * closed. Null when it is still theirs, or was never theirs (the router's refusal says it then).
   */
  async #noLongerWhy(agent: Agent, conversationId: string): Promise<string | null> {
    const conversation = await this.#r.store.getConversation(conversationId);
    if (!conversation) return null;
    const wasOn =
      conversation.ownership.some((change) => change.to === agent.id) ||
      (await this.#state.thread(conversationId, agent.id)) !== null;
    if (!wasOn) return null;
    const nameOf = async (id: string | null) =>
      id === agent.id
        ? 'you'
        : id
          ? `*${escapeSlack((await this.#r.store.getAgent(id))?.name ?? 'a colleague')}*`
          : null;
    return noLongerWhy(conversation, agent.id, await nameOf(conversation.ownerId));
  }

  /**
   * Whether `agent` may still do what a control of theirs does (`owner`: as the owner; `on it`: as anyone on the
   * conversation); if not, they are told why where they pressed, and nothing opens.
   */
  async #mayStill(
    agent: Agent,
    conversation: Conversation,
    needs: 'owner' | 'on it',
    channel: string | undefined,
    user: string,
    threadTs: string | undefined,
  ): Promise<boolean> {
    const may =
      conversation.status === 'assigned' &&
      (needs === 'owner' ? conversation.ownerId === agent.id : participants(conversation).includes(agent.id));
    if (may) return true;
    const why =
      (await this.#noLongerWhy(agent, conversation.id)) ??
      'You are not on this conversation (any more), so nothing was sent or changed.';
    if (channel) await this.#ephemeral(channel, user, threadTs, why);
    return false;
  }

  /**
   * The colleagues `agentId` may ask to help or hand off to: everyone on the team but them, available or away,
   * whether they work in Slack or in the web console (offline ones cannot take it), by name.
   */
  async #colleagues(agentId: string): Promise<Colleague[]> {
    const out: Colleague[] = [];
    for (const a of await this.#r.store.listAgents()) {
      if (a.id === agentId || a.leftAt !== undefined || a.status === 'offline') continue;
      out.push({ id: a.id, name: a.name, status: a.status });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async #explainInDm(err: unknown, agent: Agent): Promise<void> {
    this.#logFailure(err);
    if (!agent.slackUserId) return;
    const channel = await this.#threads.dm(agent.slackUserId);
    await this.#ephemeral(channel, agent.slackUserId, undefined, explanation(err));
  }

  // ================================================================ helpers

  /** Who the app is (auth.test), asked once; asked again after a failure. */
  #me(): Promise<AuthTest> {
    this.#identity ??= this.#outbox.call('auth.test', {}).then(
      (answer) => AuthTest.parse(answer),
      (err: unknown) => {
        this.#identity = null;
        throw err;
      },
    );
    return this.#identity;
  }

  async #authorize(): Promise<AuthorizeResult> {
    const me = await this.#me();
    return {
      botToken: this.#token,
      botId: me.bot_id,
      botUserId: me.user_id,
      ...(me.team_id ? { teamId: me.team_id } : {}),
    };
  }

  #now(): number {
    return this.#r.clock.now();
  }

  /**
   * Do `work` (tracked) and return once it is done or STORED_WITHIN_MS has passed, whichever comes first: the
   * listener's return is what lets Bolt answer Slack (`processBeforeResponse`), with the ack already given.
   */
  #storedBeforeAnswer(work: () => Promise<void>): Promise<void> {
    return withTimeout(this.#track(work), STORED_WITHIN_MS).catch(() => {});
  }

  #track(work: () => Promise<void>): Promise<void> {
    const done = work().catch((err: unknown) => this.#failed(err));
    this.#inflight.add(done);
    void done.then(() => this.#inflight.delete(done));
    return done;
  }

  #failed(err: unknown): void {
    this.#log.warn({ err: err instanceof Error ? err.message : String(err) }, 'Slack console: work failed');
  }
}

/** The refusals that may mean the conversation is no longer the agent's to act on (`#noLongerWhy`). */
const STALE_CODES = new Set(['not_owner', 'invalid_state']);

/**
 * What became of a conversation `agentId` was on, as the reason a control of theirs no longer works (null: it is
 * still theirs). `ownerName`: its owner, as said to them ("you", or a name in bold).
 */
export function noLongerWhy(
  conversation: Conversation,
  agentId: string,
  ownerName: string | null,
): string | null {
  const nothing = 'Nothing was sent or changed.';
  switch (conversation.status) {
    case 'resolved': {
      const when = conversation.resolvedAt !== null ? ` ${slackDate(conversation.resolvedAt)}` : '';
      return `This conversation was resolved${when}${ownerName ? ` by ${ownerName}` : ''}. ${nothing}`;
    }
    case 'abandoned':
      return `This conversation is closed: the customer left before a person answered. ${nothing}`;
    case 'queued':
      return conversation.ownerId === agentId
        ? `This conversation went back in line for the next free colleague while you were offline. ${nothing}`
        : `This conversation waits in line for the next free colleague. ${nothing}`;
    case 'assigned':
      if (conversation.ownerId === agentId) return null;
      return `You are not on this conversation any more: it is now ${ownerName ?? 'a colleague'}'s. ${nothing}`;
  }
}

function notLinked(slackUserId: string): string {
  return `Your Slack account is not linked to a Switchboard agent (someone who left the team is no longer linked). To be linked, ask an admin to set your agent's \`slackUserId\` to ${slackUserId}.`;
}

/**
 * The router's refusals in words for the agent at the keyboard, about the conversation or promise they
 * pressed on: the router names agents, conversations and promises by id (for API callers), which mean
 * nothing here (the web console rewords them the same way, `plainMessage` in console.js).
 */
const REWORDED: Array<[RegExp, (...parts: string[]) => string]> = [
  [
    /^agent \S+ may not (.+?) conversation \S+: it is (\w+)(, waiting for a person)?$/,
    (operation, status) =>
      status === 'resolved'
        ? `This conversation is already resolved, so you can no longer ${operation} it.`
        : `You may not ${operation} this conversation: it is ${status}${status === 'queued' ? ', waiting for a person' : ''}.`,
  ],
  [
    /^agent \S+ may not (.+?) conversation \S+: (.+)$/,
    (operation, why) => `You may not ${operation} this conversation: ${why}.`,
  ],
  [
    /^conversation \S+ is resolved; only an assigned one can be resolved$/,
    () => 'This conversation is already resolved.',
  ],
  [
    /^conversation \S+ is (\w+)[;:] only (?:an assigned one|one a person owns) can be (.+)$/,
    (status, what) => `This conversation is ${status}: only one a person owns can be ${what}.`,
  ],
  [
    /^conversation \S+ has no hand-off pending for agent \S+$/,
    () => 'This hand-off is no longer offered to you: it was answered or withdrawn.',
  ],
  [
    /^conversation \S+ has no open offer for agent \S+$/,
    () => 'This conversation is no longer offered to you.',
  ],
  [
    /^conversation \S+ already has a hand-off pending$/,
    () => 'This conversation is already offered to a colleague: wait for their answer.',
  ],
  [/^conversation \S+ is not assigned$/, () => 'Nobody owns this conversation right now.'],
  [/^agent \S+ does not own conversation \S+$/, () => 'This conversation is not yours (any more).'],
  [
    /^agent \S+ is offline and cannot take a hand-off$/,
    () => 'That colleague is offline and cannot take a hand-off.',
  ],
  [
    /^agent \S+ was not invited to consult on conversation \S+$/,
    () => 'You are not asked to help on this conversation (any more).',
  ],
  [
    /^agent \S+: no (\w+) capacity left to accept conversation \S+$/,
    (channel) =>
      `You have no room for another ${channel} conversation now. A place is kept for it: accept once you finish one.`,
  ],
  [
    /^agent \S+: no (\w+) capacity left.*$/,
    (channel) => `You have no room for another ${channel} conversation now.`,
  ],
  [/^promise \S+ is already kept$/, () => 'That promise is already marked kept.'],
  [
    /^promise \S+ is already broken$/,
    () => 'That promise already counts as broken: its due time had passed.',
  ],
  [/^promise \S+ is already void$/, () => 'That promise no longer applies.'],
  [
    /^promise \S+ is an? \S+ promise; Switchboard settles it itself$/,
    () => 'Switchboard settles that promise itself: it is not one to mark kept.',
  ],
  [
    /^(.+) has a conversation open \(\S+, (.+)\): write there$/,
    (who, whose) =>
      whose === 'yours'
        ? `${who} has a conversation open already, yours: write in its thread.`
        : `${who} has a conversation open already (${whose}): write there, or ask its owner.`,
  ],
  [
    /^(conversation|promise|agent|customer|message) \S+ does not exist$/,
    (entity) => `That ${entity} no longer exists.`,
  ],
];

/** What went wrong, in words for the agent (never an id). */
function explanation(err: unknown): string {
  if (err instanceof SwitchboardError) {
    if (err.code === 'not_owner')
      return 'You are not on this conversation (any more), so nothing was sent or changed.';
    if (err.code === 'blocked')
      return 'This customer is blocked, so nothing was sent. A team lead can lift the block in the team view.';
    const message = err.toJSON().message;
    for (const [pattern, words] of REWORDED) {
      const m = pattern.exec(message);
      if (m) return escapeSlack(words(...m.slice(1).map((part) => part ?? '')));
    }
    // Anything else as the router said it, its ids left out.
    return `Not done: ${escapeSlack(message.replace(/\s*\b(?:cv|cu|ag|pr|msg)_[A-Za-z0-9]+\b/g, ''))}`;
  }
  return 'Something went wrong and nothing was changed; please try again.';
}

/** What a submitted form holds in one of its fields (FIELD's block and action ids). */
function fieldState(submission: ViewSubmission, field: { block: string; action: string }) {
  return submission.view.state.values[field.block]?.[field.action];
}

/** The text typed in one of a submitted form's fields ('' when none). */
function fieldText(submission: ViewSubmission, field: { block: string; action: string }): string {
  return fieldState(submission, field)?.value ?? '';
}

/** The follow-up form as submitted: the choice (an offered time, or to pick one) and the date picked, if any. */
function followUpForm(submission: ViewSubmission): { choice: string | null; picked: number | null } {
  return {
    choice: fieldState(submission, FIELD.followUpWhen)?.selected_option?.value ?? null,
    picked: fieldState(submission, FIELD.followUpAt)?.selected_date_time ?? null,
  };
}

/** The write form as submitted. */
function writeForm(submission: ViewSubmission): {
  channel: string;
  to: string;
  subject: string;
  text: string;
} {
  return {
    channel: fieldState(submission, FIELD.writeBy)?.selected_option?.value ?? '',
    to: fieldText(submission, FIELD.writeTo).trim(),
    subject: fieldText(submission, FIELD.writeSubject).trim(),
    text: fieldText(submission, FIELD.writeText),
  };
}

/**
 * What the write form gets wrong, shown on it before anything goes: a channel that does not send here, a `to`
 * that is not a number or address for it, no message. (What only the store knows, a conversation open, comes
 * after, in the agent's DMs.)
 */
function writeErrors(
  submission: ViewSubmission,
  writesOn: ReadonlyArray<'sms' | 'email'>,
  address: (channel: 'sms' | 'email', to: string) => unknown,
): Record<string, string> | null {
  const form = writeForm(submission);
  const errors: Record<string, string> = {};
  const channel = writesOn.find((c) => c === form.channel);
  if (!channel) errors[FIELD.writeBy.block] = 'Pick how to write: that one does not go out here.';
  else {
    try {
      address(channel, form.to);
    } catch {
      errors[FIELD.writeTo.block] =
        channel === 'sms'
          ? 'Give a phone number to text (with its country code when it is not from here).'
          : 'Give an email address to write to.';
    }
  }
  if (form.text.trim() === '') errors[FIELD.writeText.block] = 'Write the message.';
  return Object.keys(errors).length > 0 ? errors : null;
}

/** The details form: one field at least, and an email address and a phone number that are ones. */
function detailsErrors(submission: ViewSubmission): Record<string, string> | null {
  const name = fieldText(submission, FIELD.detailsName).trim();
  const email = fieldText(submission, FIELD.detailsEmail).trim();
  const phone = fieldText(submission, FIELD.detailsPhone).trim();
  const errors: Record<string, string> = {};
  if (!name && !email && !phone)
    errors[FIELD.detailsName.block] = 'Fill in a name, an email address or a phone number.';
  if (email && !valid(() => normalizeEmail(email)))
    errors[FIELD.detailsEmail.block] = 'That is not an email address.';
  if (phone && !valid(() => normalizePhone(phone)))
    errors[FIELD.detailsPhone.block] =
      'Give a phone number (with its country code when it is not from here).';
  return Object.keys(errors).length > 0 ? errors : null;
}

function valid(check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

function promiseErrors(submission: ViewSubmission, now: number): Record<string, string> | null {
  const text = fieldText(submission, FIELD.promiseText);
  const at = fieldState(submission, FIELD.promiseDue)?.selected_date_time ?? null;
  const errors: Record<string, string> = {};
  if (text.trim() === '') errors[FIELD.promiseText.block] = 'Say what you promise.';
  if (at === null || at * 1000 <= now) errors[FIELD.promiseDue.block] = 'Pick a time in the future.';
  return Object.keys(errors).length > 0 ? errors : null;
}

/** Bolt's and the Web API client's log lines, into pino. */
function boltLogger(log: Logger): BoltLogger {
  const line = (parts: unknown[]) =>
    parts
      .map((p) => (typeof p === 'string' ? p : p instanceof Error ? p.message : JSON.stringify(p)))
      .join(' ');
  return {
    debug: (...m: unknown[]) => log.debug(line(m)),
    info: (...m: unknown[]) => log.debug(line(m)),
    warn: (...m: unknown[]) => log.warn(line(m)),
    error: (...m: unknown[]) => log.error(line(m)),
    setLevel: () => {},
    getLevel: () => LogLevel.INFO,
    setName: () => {},
  };
}
