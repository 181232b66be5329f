// Switchboard → Slack: domain events become cards, thread lines, delivery marks
// and home tabs. Each conversation's events are handled one at a time, in the
// order they happened; every Web API call goes through the paced outbox.
//
// A process holds each conversation whose Slack updates it has under way in the
// shared state (renewed while it works, released when done). Should it die with
// updates queued (Slack paces posts to about one a second per channel), another
// process takes the conversation over once the hold runs out and brings its
// Slack side up to date from the store: every participant's card, re-rendered,
// and every message their thread does not show yet.
import { randomBytes } from 'node:crypto';
import type { Router } from '../../routing/router.js';
import type { DomainEvent, EventOf } from '../../shared/events.js';
import {
  type Agent,
  type Attachment,
  type Conversation,
  type Message,
  savedRepliesFor,
} from '../../shared/model.js';
import type { FileBytes } from '../content.js';
import type { OriginalLinks, OriginalState, ShownMessage } from '../email/original.js';
import { conversationView, participants, type Role, roleOf } from '../views.js';
import {
  BACK_IN_LINE,
  blockedLine,
  type CardRole,
  card,
  closedPicker,
  customerLabel,
  homeView,
  keepable,
  LINE_MAX,
  messageLine,
  promiseLine,
  threadPost,
  threadTranscript,
  waitingSinceLastAsk,
} from './blocks.js';
import { agentFigures } from './figures.js';
import { PREVIEW_MAX_BYTES, PREVIEWED_TYPES, sharePicture } from './files.js';
import { type SlackOutbox, slackErrorCode } from './outbox.js';
import { type AuthTest, Opened, Posted, Replies } from './payloads.js';
import type { SlackRef, SlackState } from './state.js';
import { CHANNEL_NAMES, escapedUpTo, escapeSlack, slackDate } from './text.js';

export type SlackAgent = Agent & { slackUserId: string };

export interface SlackThreadsOptions {
  router: Router;
  outbox: SlackOutbox;
  state: SlackState;
  log: { warn(obj: object, msg: string): void };
  /** Who the app is (auth.test): the workspace URL makes the thread links. */
  me: () => Promise<AuthTest>;
  /**
   * How long a process's hold on a conversation's Slack updates runs before another may take them over
   * (it renews its holds every quarter of that while it works). Default TAKEOVER_MS.
   */
  takeoverMs?: number;
  /** The bytes of a file Switchboard keeps (a chat upload, an email attachment): a customer's picture is shared in the thread. */
  pictures?: FileBytes;
  /** SLACK_API_URL, when set: where else than Slack's file hosts an upload may go. */
  apiUrl?: string | null;
  /** Links to inbound mail as received: a "Show original" link on each inbound email line. */
  originals?: OriginalLinks;
}

/** How long a hold on a conversation's Slack updates runs unless renewed (`SLACK_TAKEOVER_SECONDS`). */
export const TAKEOVER_MS = 60_000;
/** How many conversations one sweep takes over from processes that stopped. */
const TAKEOVER_BATCH = 20;

const MAX_REMEMBERED = 50_000;
/**
 * How long a process opening a card holds it (posting it and its transcript, through Slack's rate limits);
 * one that died meanwhile is taken over after this.
 */
const CARD_OPENING_MS = 120_000;
/** How long a Slack user found linked to no agent is answered so without reading every agent again. */
const UNLINKED_KEPT_MS = 30_000;
/** How often a process waiting for a card another one opens looks again. */
const CARD_POLL_MS = 100;
/** How much of a reply a delivery line quotes. */
const QUOTED_MAX = 500;
/** A new card shares the pictures of this many of the newest customer messages that have any. */
const CARD_PICTURED = 3;

/**
 * What a card showed that ended without an event naming it, kept among what its thread shows (the state's
 * `markShown`, shared by every process): a cover (`cover:<since>`) and its end (`ended:cover:<since>`); the
 * card of an agent who left the team, said so once.
 */
const COVER = 'cover:';
const COVER_ENDED = 'ended:';
const GONE = 'left-the-team';
/** An agent's part in a conversation as the Home tab lists it (`offered`: a hand-off waits for their answer). */
function homeRole(role: Role, offered: boolean): string {
  if (role === 'owner') return 'yours';
  if (role === 'cover') return 'covering';
  // `invited` stands for a hand-off offered too (views.ts `roleOf`).
  if (offered) return 'offered to you';
  return role === 'invited' ? 'invited to consult' : 'helping';
}

/** Among what a thread shows: a line with Mark kept, `keep:<promise id>:<its ts>`. */
const KEEP_LINE = 'keep:';
/** Among what a thread shows: a consult picker posted (`picker:<ts>`), and one used or closed (`picker-done:<ts>`). */
const PICKER = 'picker:';
const PICKER_DONE = 'picker-done:';
/** Among what a thread shows: its card said the conversation went back in line (`in-line:<ownership changes>`). */
const IN_LINE = 'in-line:';

/** A file Slack shows as a picture, small enough to share. */
const previewed = (file: Attachment): boolean =>
  PREVIEWED_TYPES.has(file.type) && file.size <= PREVIEW_MAX_BYTES;

export class SlackThreads {
  readonly #r: Router;
  readonly #pictures: FileBytes | null;
  readonly #originals: OriginalLinks | null;
  readonly #apiUrl: string | null;
  /** Slack refused uploads (no files:write): not tried again by this process. */
  #uploadsRefused = false;
  readonly #outbox: SlackOutbox;
  readonly #state: SlackState;
  readonly #log: SlackThreadsOptions['log'];
  readonly #me: () => Promise<AuthTest>;
  readonly #unsubscribe: () => void;
  readonly #chains = new Map<string, Promise<void>>();
  /** Notes written in Slack, waiting for their `message.note` event: key → where they were written. */
  readonly #noteOrigins = new Map<string, SlackRef>();
  /**
   * Cards posted already showing an owner: `agent|conversation|ownership changes`. The card can be posted
   * by the message that arrived before the assignment event is handled (routing is that quick); the
   * assignment then has nothing new to show.
   */
  readonly #postedAs = new Set<string>();
  readonly #homeQueued = new Set<string>();
  /** This process, as the holder of Slack work in the shared state. */
  readonly #holder = randomBytes(9).toString('hex');
  readonly #takeoverMs: number;
  /** When this process last renewed its holds (ms). */
  #renewedAt = 0;
  /** Slack user → agent id (`agentBySlackUser`); null: to be built. */
  #bySlackUser: Map<string, string> | null = null;
  /** Slack users linked to no agent when last looked for → until when that answer is kept (ms). */
  readonly #unlinked = new Map<string, number>();
  readonly #forgetSlackUsers: () => void;
  #closed = false;

  constructor(options: SlackThreadsOptions) {
    this.#r = options.router;
    this.#pictures = options.pictures ?? null;
    this.#originals = options.originals ?? null;
    this.#apiUrl = options.apiUrl ?? null;
    this.#outbox = options.outbox;
    this.#state = options.state;
    this.#log = options.log;
    this.#me = options.me;
    this.#takeoverMs = options.takeoverMs ?? TAKEOVER_MS;
    this.#unsubscribe = this.#r.events.subscribe((event) => this.#onEvent(event));
    this.#forgetSlackUsers = this.#r.events.subscribe(
      (event) => {
        // A link may have been made or moved (a new agent's status is set when it is created).
        if (event.type === 'agent.updated' || event.type === 'agent.status') {
          this.#bySlackUser = null;
          this.#unlinked.clear();
        }
      },
      { remote: true },
    );
  }

  /** Resolves when the work queued for events so far is done (new work may queue meanwhile). */
  async settle(): Promise<boolean> {
    const pending = [...this.#chains.values()];
    await Promise.allSettled(pending);
    return pending.length > 0;
  }

  /** Stop listening to domain events. */
  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    this.#forgetSlackUsers();
  }

  /**
   * A note is about to be written from Slack at `ref`: its `message.note` event will know where it
   * came from (and not copy it back there). Call the returned function once the note is stored.
   */
  writtenInSlack(agentId: string, conversationId: string, text: string, ref: SlackRef): () => void {
    const key = noteKey(agentId, conversationId, text);
    this.#noteOrigins.set(key, ref);
    return () => this.#noteOrigins.delete(key);
  }

  /** A consult picker was posted in the agent's thread at `ts`: it closes when the conversation is no longer theirs. */
  async pickerPosted(conversationId: string, agentId: string, ts: string): Promise<void> {
    await this.#state.markShown(conversationId, agentId, [`${PICKER}${ts}`]);
  }

  /** The consult picker at `ts` was used (it says whom it invited now): not closed again. */
  async pickerUsed(conversationId: string, agentId: string, ts: string): Promise<void> {
    await this.#state.markShown(conversationId, agentId, [`${PICKER_DONE}${ts}`]);
  }

  /** The agent's consult pickers still open in their thread of the conversation, closed saying `why`. */
  async #closePickers(conversationId: string, agentId: string, ref: SlackRef, why: string): Promise<void> {
    const shown = await this.#state.shown(conversationId, agentId);
    const open = [...shown]
      .filter((e) => e.startsWith(PICKER) && !shown.has(`${PICKER_DONE}${e.slice(PICKER.length)}`))
      .map((e) => e.slice(PICKER.length));
    for (const ts of open) {
      try {
        await this.#outbox.post('chat.update', { channel: ref.channel, ts, ...closedPicker(why) });
      } catch (err) {
        this.#log.warn({ err: String(err) }, 'Slack: could not close a consult picker');
      }
    }
    if (open.length > 0)
      await this.#state.markShown(
        conversationId,
        agentId,
        open.map((ts) => `${PICKER_DONE}${ts}`),
      );
  }

  async slackAgent(agentId: string): Promise<SlackAgent | null> {
    const agent = await this.#r.store.getAgent(agentId);
    return agent?.slackUserId ? (agent as SlackAgent) : null;
  }

  #onEvent(event: DomainEvent): void {
    if (this.#closed) return;
    switch (event.type) {
      case 'conversation.assigned':
        this.#work(event.conversation.id, () => this.#assigned(event));
        break;
      case 'conversation.covered':
        this.#work(event.conversation.id, () => this.#covered(event));
        break;
      case 'message.received':
      case 'message.sent':
      case 'message.note': {
        // Where it was written in Slack, known now: a reply's id says so; a note was noted just before.
        const origin = this.#originOf(event.message);
        this.#work(event.message.conversationId, () => this.#mirror(event.message, origin));
        if (event.type === 'message.received')
          this.#work(event.message.conversationId, () => this.#wrapUpEnded(event.message));
        break;
      }
      case 'message.delivery':
        this.#work(event.message.conversationId, () => this.#delivery(event.message));
        break;
      case 'conversation.consult':
        this.#work(event.conversation.id, () => this.#consult(event));
        break;
      case 'conversation.handoff':
        this.#work(event.conversation.id, () => this.#handoff(event));
        break;
      case 'conversation.resolved':
        this.#work(event.conversation.id, () => this.#resolved(event.conversation));
        break;
      case 'conversation.updated':
        this.#work(event.conversation.id, () => this.#partsEnded(event.conversation.id));
        break;
      case 'conversation.wrapup':
        // The owner's after-call work began or moved: their card says until when.
        this.#work(event.conversation.id, () => this.#refreshCards(event.conversation.id));
        break;
      case 'promise.made':
      case 'promise.due':
      case 'promise.reminder':
      case 'promise.settled':
        if (event.promise.kind !== 'wait') {
          this.#work(event.promise.conversationId, () => this.#promise(event));
        }
        break;
      case 'agent.status':
      case 'agent.updated':
        this.home(event.agentId);
        break;
      case 'customer.facts':
      case 'customer.merged':
        // What is known of them, and so their name, changed: the cards of their open conversation show it.
        this.#serial(`customer:${event.customerId}`, async () => {
          const open = await this.#r.store.openConversationOf(event.customerId);
          if (open) this.#work(open.id, () => this.#refreshCards(open.id));
        });
        break;
      case 'customer.erased':
        for (const id of event.conversationIds) this.#work(id, () => this.#erase(id));
        break;
      default:
        break;
    }
  }

  /**
   * An erased customer's conversation: what the app posted of it goes from every agent's thread (the card,
   * its transcript, the lines, the pictures it shared), replies first, the card last. What agents wrote
   * themselves is theirs (the app cannot delete it). A thread it cannot read or clear is said in the log.
   */
  async #erase(conversationId: string): Promise<void> {
    const me = await this.#me();
    const ours = (m: { user?: string | undefined; bot_id?: string | undefined }) =>
      m.user === me.user_id || m.bot_id === me.bot_id;
    for (const { agentId, ref } of await this.#state.threads(conversationId)) {
      try {
        const posts: Array<{ ts: string; files: string[] }> = [];
        let cursor = '';
        do {
          const page = Replies.parse(
            await this.#outbox.call(
              'conversations.replies',
              { channel: ref.channel, ts: ref.ts, limit: 200, ...(cursor ? { cursor } : {}) },
              { key: `replies:${ref.channel}` },
            ),
          );
          for (const m of page.messages) {
            if (ours(m)) posts.push({ ts: m.ts, files: (m.files ?? []).map((f) => f.id) });
          }
          cursor = page.response_metadata?.next_cursor ?? '';
        } while (cursor);
        posts.sort((a, b) => Number(a.ts === ref.ts) - Number(b.ts === ref.ts));
        for (const post of posts) {
          // A file goes with the message sharing it.
          for (const file of post.files) await this.#outbox.deleteFile(file);
          if (post.files.length === 0 || post.ts === ref.ts) {
            await this.#outbox.deleteMessage({ channel: ref.channel, ts: post.ts });
          }
        }
      } catch (err) {
        this.#log.warn(
          { err, conversationId, agentId },
          "slack: could not clear an erased customer's thread",
        );
      }
      this.home(agentId);
    }
  }

  async #assigned(event: EventOf<'conversation.assigned'>): Promise<void> {
    const conversation = (await this.#r.store.getConversation(event.conversation.id)) ?? event.conversation;
    const owner = await this.slackAgent(event.agentId);
    if (owner) {
      const existing = await this.#state.thread(conversation.id, owner.id);
      if (existing) {
        const shown = this.#postedAs.has(`${owner.id}|${conversation.id}|${conversation.ownership.length}`);
        if (!shown) await this.#renderCard(conversation, owner, existing);
        if (event.previousOwnerId && event.previousOwnerId !== owner.id) {
          await this.say(
            existing,
            event.reason === 'handoff'
              ? 'You accepted the hand-off: this conversation is yours now.'
              : 'This conversation is yours now.',
          );
        }
      } else {
        await this.#ensureThread(conversation, owner);
      }
      this.home(owner.id);
    }
    if (event.previousOwnerId && event.previousOwnerId !== event.agentId) {
      const previous = await this.slackAgent(event.previousOwnerId);
      const ref = previous ? await this.#state.thread(conversation.id, previous.id) : null;
      if (previous && ref) {
        const ownerName = (await this.#r.store.getAgent(event.agentId))?.name ?? event.agentId;
        await this.#renderCard(conversation, previous, ref, { kind: 'former', ownerName });
        await this.#closePickers(
          conversation.id,
          previous.id,
          ref,
          `closed: the conversation is now *${escapeSlack(ownerName)}*'s.`,
        );
        const why = event.reason === 'handoff' ? 'accepted your hand-off' : 'took it over';
        await this.say(ref, `*${escapeSlack(ownerName)}* ${why}; this thread no longer gets updates.`);
      }
      if (previous) this.home(previous.id);
    }
  }

  async #covered(event: EventOf<'conversation.covered'>): Promise<void> {
    const agent = await this.slackAgent(event.agentId);
    const conversation = await this.#r.store.getConversation(event.conversation.id);
    if (!agent || !conversation) return;
    const existing = await this.#state.thread(conversation.id, agent.id);
    if (existing) await this.#renderCard(conversation, agent, existing);
    else await this.#ensureThread(conversation, agent);
    // Its end comes as a plain update of the conversation, which no longer names the cover: remembered here.
    if (conversation.cover?.agentId === agent.id)
      await this.#state.markShown(conversation.id, agent.id, [`${COVER}${conversation.cover.since}`]);
    this.home(agent.id);
  }

  /**
   * A conversation changed (`conversation.updated`): the cards whose part in it ended with that, which no event of
   * their own tells: a cover that ended (the owner back, the call over) says so on the card and in its thread;
   * an agent who left the team has their card say so, its buttons gone. Each once (marked among what the
   * thread shows).
   */
  async #partsEnded(conversationId: string): Promise<void> {
    const conversation = await this.#r.store.getConversation(conversationId);
    if (!conversation || conversation.status === 'resolved') return;
    const current = new Set(participants(conversation));
    for (const { agentId, ref } of await this.#state.threads(conversation.id)) {
      const agent = await this.#r.store.getAgent(agentId);
      if (!agent) continue;
      const shown = await this.#state.shown(conversation.id, agentId);
      if (agent.leftAt !== undefined) {
        if (shown.has(GONE)) continue;
        await this.#renderCard(conversation, agent, ref, { kind: 'gone' });
        await this.#state.markShown(conversation.id, agentId, [GONE]);
        continue;
      }
      // Its owner went offline and it went back in line: their card keeps no owner's buttons, once per time.
      if (conversation.status === 'queued' && conversation.ownerId === agentId) {
        const mark = `${IN_LINE}${conversation.ownership.length}`;
        if (shown.has(mark)) continue;
        await this.#renderCard(conversation, agent, ref, { kind: 'in-line' });
        await this.#closePickers(
          conversation.id,
          agentId,
          ref,
          'closed: the conversation went back in line for the next free colleague.',
        );
        if (agent.slackUserId) await this.say(ref, BACK_IN_LINE);
        await this.#state.markShown(conversation.id, agentId, [mark]);
        this.home(agentId);
        continue;
      }
      if (conversation.cover?.agentId === agentId) continue;
      const ended = [...shown].filter((id) => id.startsWith(COVER) && !shown.has(`${COVER_ENDED}${id}`));
      if (ended.length === 0) continue;
      const endedShown = ended.map((id) => `${COVER_ENDED}${id}`);
      // The cover became theirs (a hand-off accepted, or given to them): no cover ended, their card says it is theirs.
      if (conversation.ownerId === agentId && conversation.status === 'assigned') {
        await this.#state.markShown(conversation.id, agentId, endedShown);
        continue;
      }
      // Its owner is gone and it waits in line for the next free colleague (who may be them): said as such.
      if (conversation.status === 'queued') {
        if (!current.has(agentId))
          await this.#renderCard(conversation, agent, ref, {
            kind: 'cover-ended',
            ownerName: '',
            back: false,
            inLine: true,
          });
        if (agent.slackUserId)
          await this.say(
            ref,
            'Your cover ended: its owner is gone, and it waits for the next free colleague.',
          );
        await this.#state.markShown(conversation.id, agentId, endedShown);
        this.home(agentId);
        continue;
      }
      const owner = conversation.ownerId ? await this.#r.store.getAgent(conversation.ownerId) : null;
      const ownerName = owner?.name ?? 'the owner';
      const back = owner?.status === 'available' && conversation.status === 'assigned';
      // Still on it otherwise (asked to help meanwhile): the card shows that part; the line says the cover ended.
      await this.#renderCard(
        conversation,
        agent,
        ref,
        current.has(agentId) ? undefined : { kind: 'cover-ended', ownerName, back },
      );
      if (agent.slackUserId)
        await this.say(
          ref,
          back
            ? `Cover ended: *${escapeSlack(ownerName)}* is back and answers from here.`
            : `Your cover ended; *${escapeSlack(ownerName)}* stays the owner.`,
        );
      await this.#state.markShown(conversation.id, agentId, endedShown);
      if (back)
        await this.#toOwner(conversation, `*${escapeSlack(agent.name)}* no longer covers: you answer again.`);
      this.home(agentId);
    }
  }

  /** A message on a conversation: into every participant's thread (but not back where it was written). */
  async #mirror(message: Message, origin: SlackRef | null): Promise<void> {
    const conversation = await this.#r.store.getConversation(message.conversationId);
    if (!conversation) return;
    if (origin) await this.#state.addPost(message.id, origin);
    const name = await this.#customerName(conversation);
    const cards: Array<{ agent: SlackAgent; ref: SlackRef }> = [];
    for (const agentId of participants(conversation)) {
      const agent = await this.slackAgent(agentId);
      if (!agent) continue;
      const thread = await this.#ensureThread(conversation, agent);
      // A card just opened (here or by another process) shows it in its transcript.
      if (!thread || thread.created) continue;
      cards.push({ agent, ref: thread.ref });
      if (thread.shows.includes(message.id)) continue;
      await this.#showLines(conversation, agent.id, thread.ref, [message], name, origin);
    }
    // The cards say how long the customer has waited, or who answered them: drawn again when that turns (an
    // agent answered, or the customer wrote again after an answer), not on every message.
    if (cards.length > 0 && (await this.#waitTurned(message))) {
      for (const { agent, ref } of cards) {
        await this.#renderCard(conversation, agent, ref);
        this.home(agent.id);
      }
    }
  }

  /** Whether `message` answered the customer's wait, or began one (`waitingSinceLastAsk` before and after it). */
  async #waitTurned(message: Message): Promise<boolean> {
    if (message.direction === 'internal') return false;
    if (message.direction === 'out' && message.author.type !== 'agent') return false;
    const messages = await this.#r.store.listMessages(message.conversationId);
    const at = messages.findIndex((m) => m.id === message.id);
    if (at < 0) return false;
    const waitedBefore = waitingSinceLastAsk(messages.slice(0, at)) !== null;
    const waitsAfter = waitingSinceLastAsk(messages.slice(0, at + 1)) !== null;
    return waitedBefore !== waitsAfter;
  }

  /**
   * Post into one agent's thread each of `messages` it does not show yet, in order, and remember them as
   * shown; one written in this thread (`origin`, or an agent's reply from it) is shown already. With
   * `afterShown`, only those after the newest one it shows (messages reach a thread in order, so the
   * earlier ones were seen to; a thread that shows none known, kept from before its shown messages were,
   * gets none).
   */
  async #showLines(
    conversation: Conversation,
    agentId: string,
    ref: SlackRef,
    messages: Message[],
    name: string,
    origin: SlackRef | null,
    afterShown = false,
  ): Promise<void> {
    const shown = await this.#state.shown(conversation.id, agentId);
    let from = 0;
    if (afterShown) {
      from = messages.length;
      for (let i = messages.length - 1; i >= 0; i--) {
        if (shown.has(messages[i]!.id)) {
          from = i + 1;
          break;
        }
      }
    }
    for (const message of messages.slice(from)) {
      if (shown.has(message.id)) continue;
      const writtenHere = (origin ?? this.#originOf(message))?.channel === ref.channel;
      if (!writtenHere) {
        const [line] = await this.shown([message]);
        const posted = await this.say(
          ref,
          threadPost(messageLine(line!, name, LINE_MAX, 'button'), line!.original ? [line!] : []),
        );
        if (!posted) continue;
        if (message.direction === 'out') await this.#state.addPost(message.id, posted);
        if (message.direction === 'in') await this.#sharePictures(ref, message);
      }
      await this.#state.markShown(conversation.id, agentId, [message.id]);
    }
  }

  /**
   * The customer's pictures that Switchboard keeps, shared in the thread under the message's line, so that the
   * agent sees them there (the line keeps the link). Without the `files:write` scope this is said once in the
   * log and not tried again by this process; any other failure leaves the link, as before.
   */
  async #sharePictures(ref: SlackRef, message: Message): Promise<void> {
    const read = this.#pictures;
    if (!read || this.#uploadsRefused) return;
    for (const file of message.attachments) {
      if (!previewed(file)) continue;
      try {
        const content = await read(file);
        if (!content) continue;
        await sharePicture(this.#outbox, ref, { name: file.name, content }, { apiUrl: this.#apiUrl });
      } catch (err) {
        const code = slackErrorCode(err);
        if (code === 'missing_scope' || code === 'not_allowed_token_type') {
          this.#uploadsRefused = true;
          this.#log.warn(
            { error: code },
            "Slack: customers' pictures are not shown in threads (only linked): the app needs the files:write scope",
          );
          return;
        }
        this.#log.warn(
          { err: String(err), messageId: message.id },
          'Slack: could not share a picture in a thread',
        );
      }
    }
  }

  /**
   * Messages as a thread shows them: an inbound email's with the link to its original (`original`; a thread
   * shows a Show original button for it instead), or `originalNotKept` when it was too large to keep.
   */
  async shown(messages: readonly Message[]): Promise<ShownMessage[]> {
    return this.#originals ? this.#originals.show(messages) : [...messages];
  }

  /** Whether the original of a customer's email is there to open (without the email channel: never asked). */
  originalState(messageId: string): Promise<OriginalState> {
    return this.#originals ? this.#originals.state(messageId) : Promise.resolve('dropped');
  }

  /** A fresh link to the original of a customer's email (null without the email channel). */
  originalLink(messageId: string): string | null {
    return this.#originals?.url(messageId) ?? null;
  }

  async #customerName(conversation: Conversation): Promise<string> {
    const customer = await this.#r.store.getCustomer(conversation.customerId);
    return customerLabel({
      customer: customer ?? { id: conversation.customerId, facts: {}, identities: [], notes: [] },
    });
  }

  /**
   * Bring a conversation's Slack side up to date from the store, for work a process that stopped left
   * unfinished: each participant's card is opened (with its transcript) or re-rendered as things stand,
   * and the messages after the newest one their thread shows are posted in it; the card of an agent no longer on
   * it shows that (a former owner's, who owns it now). Lines that are not messages (a hand-off offered, a
   * promise due) were said once or not at all, and are not said now. A conversation no longer stored (its
   * customer erased) has its threads cleared (`#erase`).
   */
  async #catchUp(conversationId: string): Promise<void> {
    const conversation = await this.#r.store.getConversation(conversationId);
    // Gone from the store: its customer was erased, and the process clearing its threads stopped first.
    if (!conversation) return this.#erase(conversationId);
    const messages = await this.#r.store.listMessages(conversation.id);
    const name = await this.#customerName(conversation);
    const current = new Set(participants(conversation));
    const ownerName = conversation.ownerId
      ? ((await this.#r.store.getAgent(conversation.ownerId))?.name ?? conversation.ownerId)
      : null;
    for (const { agentId, ref } of await this.#state.threads(conversation.id)) {
      const agent = await this.slackAgent(agentId);
      if (!agent) continue;
      if (!current.has(agentId)) {
        // No longer on it: a resolved card as any; else who has it now (a former owner), or that they left.
        const owned = conversation.ownership.some((change) => change.to === agentId);
        const role: CardRole | undefined =
          conversation.status === 'resolved'
            ? undefined
            : owned && ownerName
              ? { kind: 'former', ownerName }
              : { kind: 'left' };
        await this.#renderCard(conversation, agent, ref, role);
        continue;
      }
      current.delete(agentId);
      await this.#renderCard(conversation, agent, ref);
      await this.#showLines(conversation, agentId, ref, messages, name, null, true);
    }
    // Participants without a card yet: opening it posts the transcript.
    for (const agentId of current) {
      const agent = await this.slackAgent(agentId);
      if (agent) await this.#ensureThread(conversation, agent);
    }
    for (const agentId of participants(conversation)) this.home(agentId);
  }

  /**
   * Delivery marks on every copy of an outbound message, and what agents should know said in the threads: a
   * first failed attempt that its channel tries again (its reason says "retrying") is not delivered yet, not
   * failed, so it gets no ❌; the last failure is; a message sent after failed attempts says so, so that
   * nobody writes to the customer again for nothing.
   */
  async #delivery(message: Message): Promise<void> {
    if (message.direction !== 'out') return;
    const { state, reason, attempts } = message.delivery;
    const retrying = state === 'failed' && /\bretrying\b/.test(reason ?? '');
    const reaction = retrying
      ? undefined
      : { sent: 'outbox_tray', delivered: 'white_check_mark', failed: 'x' }[state as string];
    if (!reaction && !retrying) return;
    if (reaction) {
      for (const post of await this.#state.posts(message.id)) {
        try {
          await this.#outbox.call(
            'reactions.add',
            { channel: post.channel, timestamp: post.ts, name: reaction },
            { key: `channel:${post.channel}` },
          );
        } catch (err) {
          if (slackErrorCode(err) !== 'already_reacted')
            this.#log.warn({ err: String(err) }, 'Slack: delivery mark failed');
        }
      }
    }
    const channel = CHANNEL_NAMES[message.channel];
    const why = reason ? `: ${escapeSlack(reason)}` : '';
    const said =
      retrying && attempts <= 1
        ? `:hourglass_flowing_sand: Not sent to the customer by ${channel} yet; Switchboard tries again by itself${why}.`
        : state === 'failed' && !retrying
          ? `:warning: Not delivered to the customer by ${channel}${why}`
          : state === 'sent' && attempts > 1
            ? `:outbox_tray: Sent to the customer by ${channel} after all, on attempt ${attempts}.`
            : null;
    if (!said) return;
    const conversation = await this.#r.store.getConversation(message.conversationId);
    if (!conversation) return;
    for (const { ref } of await this.#participantThreads(conversation)) {
      await this.say(ref, `${said}\n${quoted(message.text)}`);
    }
  }

  async #consult(event: EventOf<'conversation.consult'>): Promise<void> {
    const conversation = (await this.#r.store.getConversation(event.conversation.id)) ?? event.conversation;
    const colleague = await this.#r.store.getAgent(event.agentId);
    const name = escapeSlack(colleague?.name ?? event.agentId);
    const slackColleague = colleague?.slackUserId ? (colleague as SlackAgent) : null;
    switch (event.action) {
      case 'invited':
        if (slackColleague) {
          const existing = await this.#state.thread(conversation.id, slackColleague.id);
          if (existing) {
            await this.#renderCard(conversation, slackColleague, existing);
            await this.say(existing, 'You were asked to help with this conversation again.');
          } else await this.#ensureThread(conversation, slackColleague);
          this.home(slackColleague.id);
        }
        await this.#toOwner(conversation, `Invited *${name}* to help; you stay the owner.`);
        break;
      case 'joined':
        await this.#toOwner(conversation, `*${name}* joined the conversation.`);
        break;
      case 'left': {
        // Their card, also when they left the team (their Slack link gone with it).
        const ref = colleague ? await this.#state.thread(conversation.id, colleague.id) : null;
        // Pressed Leave on a conversation resolved meanwhile: the owner's thread is done with.
        const resolved = conversation.status === 'resolved';
        if (colleague && ref)
          await this.#renderCard(
            conversation,
            colleague,
            ref,
            resolved
              ? await this.#resolvedRole(conversation)
              : colleague.leftAt !== undefined
                ? { kind: 'gone' }
                : { kind: 'left' },
          );
        if (!resolved) await this.#toOwner(conversation, `*${name}* left the conversation.`);
        if (slackColleague) this.home(slackColleague.id);
        break;
      }
    }
  }

  async #handoff(event: EventOf<'conversation.handoff'>): Promise<void> {
    const conversation = (await this.#r.store.getConversation(event.conversation.id)) ?? event.conversation;
    const target = await this.#r.store.getAgent(event.to);
    const name = escapeSlack(target?.name ?? event.to);
    const slackTarget = target?.slackUserId ? (target as SlackAgent) : null;
    switch (event.action) {
      case 'offered':
        if (slackTarget) {
          const existing = await this.#state.thread(conversation.id, slackTarget.id);
          if (existing) {
            await this.#renderCard(conversation, slackTarget, existing);
            await this.say(
              existing,
              `A hand-off was offered to you: “${escapeSlack(event.note)}”. Accept or decline on the card.`,
            );
          } else await this.#ensureThread(conversation, slackTarget);
          this.home(slackTarget.id);
        }
        await this.#toOwnerCard(conversation, `Offered to *${name}*. It stays yours until they accept.`);
        break;
      case 'declined': {
        // Their card, also when they left the team (their Slack link gone with it).
        const ref = target ? await this.#state.thread(conversation.id, target.id) : null;
        if (target && ref)
          await this.#renderCard(
            conversation,
            target,
            ref,
            target.leftAt !== undefined ? { kind: 'gone' } : { kind: 'declined' },
          );
        await this.#toOwnerCard(
          conversation,
          target?.leftAt !== undefined
            ? `*${name}* left the team, so the hand-off is off; it stays yours.`
            : `*${name}* declined the hand-off; it stays yours.`,
        );
        break;
      }
      case 'withdrawn': {
        const ref = target ? await this.#state.thread(conversation.id, target.id) : null;
        const owner = await this.#r.store.getAgent(event.from);
        if (target && ref)
          await this.#renderCard(conversation, target, ref, {
            kind: 'withdrawn',
            ownerName: owner?.name ?? event.from,
          });
        await this.#toOwnerCard(conversation, `You took back the hand-off to *${name}*; it stays yours.`);
        break;
      }
      case 'accepted':
        // `conversation.assigned` follows: the new owner's card and the previous owner's thread are updated there.
        break;
    }
  }

  /**
   * Every card of the conversation turns into a resolved one, with no buttons: the owner's, and those of
   * colleagues whose part ended with it (a hand-off offered, a consultation, a cover) or before. Each thread
   * hears it, but a former owner's (it gets no more updates) and a leaver's.
   */
  /**
   * The customer reached out again: after-call work that stood until then is over, and the owner's card no longer
   * says it (nothing to draw when there was none).
   */
  async #wrapUpEnded(message: Message): Promise<void> {
    const kept = await this.#r.store.wrapUp(message.conversationId, message.at);
    if (kept && kept.since <= message.at && kept.dueAt > message.at)
      await this.#refreshCards(message.conversationId);
  }

  /** Every card of those on the conversation now, re-rendered as things stand. */
  async #refreshCards(conversationId: string): Promise<void> {
    const conversation = await this.#r.store.getConversation(conversationId);
    if (!conversation) return;
    for (const { agentId, ref } of await this.#participantThreads(conversation)) {
      const agent = await this.slackAgent(agentId);
      if (agent) await this.#renderCard(conversation, agent, ref);
      this.home(agentId);
    }
  }

  async #resolved(event: Conversation): Promise<void> {
    const conversation = (await this.#r.store.getConversation(event.id)) ?? event;
    const role = await this.#resolvedRole(conversation);
    const formerOwners = new Set(conversation.ownership.map((change) => change.from));
    const name = await this.#customerName(conversation);
    const when = conversation.resolvedAt !== null ? ` ${slackDate(conversation.resolvedAt)}` : '';
    for (const { agentId, ref } of await this.#state.threads(conversation.id)) {
      const agent = await this.#r.store.getAgent(agentId);
      if (!agent) continue;
      await this.#renderCard(conversation, agent, ref, role);
      await this.#closePickers(
        conversation.id,
        agentId,
        ref,
        `closed: the conversation was resolved${when}.`,
      );
      const former = agentId !== conversation.ownerId && formerOwners.has(agentId);
      if (agent.slackUserId && !former)
        await this.say(
          ref,
          role.blocked
            ? `:no_entry: ${blockedLine(name, role.blocked)}`
            : `:white_check_mark: Resolved${role.byName ? ` by *${escapeSlack(role.byName)}*` : ''}.${followUpSaid(conversation, name, role.byName, agentId)}`,
        );
      this.home(agentId);
    }
  }

  /**
   * The card of an agent no longer on the conversation, as it last showed their part: resolved; they left the
   * team; they owned it (someone else's now, or back in line while they were offline); their cover ended; else
   * they left it (a consultation).
   */
  async #pastRole(conversation: Conversation, agent: Agent): Promise<CardRole> {
    if (conversation.status === 'resolved') return this.#resolvedRole(conversation);
    if (agent.leftAt !== undefined) return { kind: 'gone' };
    if (conversation.status === 'queued' && conversation.ownerId === agent.id) return { kind: 'in-line' };
    const ownerName = conversation.ownerId
      ? ((await this.#r.store.getAgent(conversation.ownerId))?.name ?? 'a colleague')
      : 'a colleague';
    if (conversation.ownership.some((change) => change.from === agent.id))
      return { kind: 'former', ownerName };
    const shown = await this.#state.shown(conversation.id, agent.id);
    if ([...shown].some((id) => id.startsWith(COVER_ENDED)))
      return { kind: 'cover-ended', ownerName, back: false };
    return { kind: 'left' };
  }

  /**
   * A resolved conversation's card: by its owner; or, closed by the customer's block (blocking resolves what is
   * open at the time the block is set), who blocked them and why.
   */
  async #resolvedRole(conversation: Conversation): Promise<CardRole & { kind: 'resolved' }> {
    const owner = conversation.ownerId ? await this.#r.store.getAgent(conversation.ownerId) : null;
    const block = (await this.#r.store.getCustomer(conversation.customerId))?.blocked;
    if (block && block.at === conversation.resolvedAt) {
      const byName =
        block.by === 'admin'
          ? 'The admin'
          : ((await this.#r.store.getAgent(block.by))?.name ?? 'A colleague');
      return { kind: 'resolved', byName: owner?.name, blocked: { byName, reason: block.reason } };
    }
    return { kind: 'resolved', byName: owner?.name };
  }

  /**
   * A promise in the threads, and in the cards' open promises. Made: said to everyone on the conversation;
   * the agent who made it and the owner get Mark kept with it. Soon due (`promise.reminder`): the agent who
   * made it is reminded, with Mark kept. Due: said to everyone; an agent's own promise not marked kept by
   * then counts as broken, and the line says so. Marked kept: said to everyone.
   */
  async #promise(
    event: EventOf<'promise.made' | 'promise.due' | 'promise.reminder' | 'promise.settled'>,
  ): Promise<void> {
    const p = event.promise;
    const conversation = await this.#r.store.getConversation(p.conversationId);
    if (!conversation) return;
    const by = p.agentId ? (await this.#r.store.getAgent(p.agentId))?.name : undefined;
    const what = p.text ? `“${escapeSlack(p.text)}”` : p.kind;
    const made = by ? ` (made by *${escapeSlack(by)}*)` : '';
    const threads = await this.#participantThreads(conversation);
    // The cards' open promises as they stand now.
    if (event.type === 'promise.made' || event.type === 'promise.settled') {
      for (const { agentId, ref } of threads) {
        const agent = await this.slackAgent(agentId);
        if (agent) await this.#renderCard(conversation, agent, ref);
      }
    }
    // Settled: the card of its maker no longer on the conversation (handed on, a consult ended) listed it with
    // Mark kept; drawn again as it stands (`#pastRole`), without it.
    if (event.type === 'promise.settled' && p.agentId && !threads.some((t) => t.agentId === p.agentId)) {
      const maker = await this.slackAgent(p.agentId);
      const ref = maker ? await this.#state.thread(conversation.id, maker.id) : null;
      if (maker && ref)
        await this.#renderCard(conversation, maker, ref, await this.#pastRole(conversation, maker));
    }
    switch (event.type) {
      case 'promise.made':
        // The follow-up a resolution set is said with the Resolved line (`followUpSaid`).
        if (
          p.kind === 'follow-up' &&
          conversation.status === 'resolved' &&
          conversation.followUpAt === p.dueAt
        )
          return;
        for (const { agentId, ref } of threads) {
          const keep = keepable(p, agentId, conversation.ownerId) ? p.id : null;
          const text = `:handshake: Promise${by ? ` by *${escapeSlack(by)}*` : ''}: ${what} — due ${slackDate(p.dueAt)}`;
          await this.#keepLine(conversation.id, agentId, await this.say(ref, promiseLine(text, keep)), keep);
        }
        return;
      case 'promise.reminder': {
        // The agent who made it, and whoever has the conversation now (a hand-off moved it: keeping it is theirs).
        // Its maker is reminded in their own thread of it though no longer on it (handed on, a consult ended): the
        // promise is theirs to keep, and counts against them.
        const to = threads.filter((t) => t.agentId === p.agentId || t.agentId === conversation.ownerId);
        if (p.agentId && !to.some((t) => t.agentId === p.agentId)) {
          const theirs = (await this.#state.threads(conversation.id)).find((t) => t.agentId === p.agentId);
          if (theirs) to.push(theirs);
        }
        for (const { agentId, ref } of to) {
          const keep = keepable(p, agentId, conversation.ownerId) ? p.id : null;
          const whose =
            !p.agentId || agentId === p.agentId ? `Your promise ${what}` : `The promise ${what}${made}`;
          const text = `:hourglass_flowing_sand: ${whose} is due ${slackDate(p.dueAt)}.${keep ? ' Mark it kept once it is done: one not marked kept by then counts as broken.' : ''}`;
          await this.#keepLine(conversation.id, agentId, await this.say(ref, promiseLine(text, keep)), keep);
        }
        return;
      }
      case 'promise.due': {
        // The router counts an agent's own promise broken at its due time unless it was marked kept.
        const broken = p.kind === 'agent' ? ': not marked kept, so it counts as broken' : '';
        for (const { ref } of threads)
          await this.say(ref, `:alarm_clock: Promise due now: ${what}${made}${broken}.`);
        return;
      }
      case 'promise.settled':
        // Its lines with Mark kept lose the button: what became of it instead.
        await this.#settledLines(conversation.id, p.id, `${what}${made}`, p.state);
        if (p.state !== 'kept' || p.kind !== 'agent') return;
        for (const { ref } of threads)
          await this.say(ref, `:white_check_mark: Promise kept: ${what}${made}.`);
        return;
    }
  }

  /** A line posted with Mark kept (`keep`: the promise's id): where it is, kept among what the thread shows. */
  async #keepLine(conversationId: string, agentId: string, posted: SlackRef | null, keep: string | null) {
    if (posted && keep)
      await this.#state.markShown(conversationId, agentId, [`${KEEP_LINE}${keep}:${posted.ts}`]);
  }

  /** The lines with Mark kept for promise `promiseId`, in every thread of the conversation, now without it. */
  async #settledLines(conversationId: string, promiseId: string, what: string, state: string): Promise<void> {
    const said = state === 'kept' ? 'kept' : state === 'broken' ? 'counts as broken' : 'no longer needed';
    const text = `:handshake: Promise ${what}: ${said}.`;
    const prefix = `${KEEP_LINE}${promiseId}:`;
    for (const { agentId, ref } of await this.#state.threads(conversationId)) {
      for (const entry of await this.#state.shown(conversationId, agentId)) {
        if (!entry.startsWith(prefix)) continue;
        try {
          await this.#outbox.post('chat.update', {
            channel: ref.channel,
            ts: entry.slice(prefix.length),
            text,
            blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
          });
        } catch (err) {
          this.#log.warn({ err: String(err) }, 'Slack: could not update a promise line');
        }
      }
    }
  }

  // ================================================================ threads and cards

  /**
   * The agent's card for this conversation, opened (posted with the history so far) if it is not there
   * yet, with the ids of the messages its opening transcript showed. One process opens a card: another
   * that reaches for it meanwhile (routing on one process, the customer writing on another) waits until
   * it is open, so there is one card and every message shows in it once.
   */
  async #ensureThread(
    conversation: Conversation,
    agent: SlackAgent,
  ): Promise<{ ref: SlackRef; created: boolean; shows: string[] } | null> {
    for (;;) {
      // The card, then how its opening stands, in that order: read the other way round (or at once), a card
      // opened between the two reads would look open with no transcript ids, and lines would show twice.
      const existing = await this.#state.thread(conversation.id, agent.id);
      const opened = await this.#state.cardState(conversation.id, agent.id, Date.now());
      if (existing && !opened.opening) return { ref: existing, created: false, shows: opened.shows ?? [] };
      if (!existing) {
        if (conversation.status !== 'assigned') return null;
        const role = await this.#roleFor(conversation, agent.id);
        if (!role) return null;
        if (await this.#state.reserveCard(conversation.id, agent.id, Date.now(), CARD_OPENING_MS)) {
          // Another process may have opened it between the read above and this reservation.
          if (!(await this.#state.thread(conversation.id, agent.id))) {
            return this.#openCard(conversation, agent, role);
          }
          await this.#state.endCard(conversation.id, agent.id, null);
          continue;
        }
      }
      if (this.#closed) return null;
      await new Promise((resolve) => setTimeout(resolve, CARD_POLL_MS));
    }
  }

  /** Post the card and its transcript (the caller holds the card's reservation; this ends it). */
  async #openCard(
    conversation: Conversation,
    agent: SlackAgent,
    role: CardRole,
  ): Promise<{ ref: SlackRef; created: true; shows: string[] }> {
    let shows: string[] | null = null;
    try {
      const { view, message } = await this.#cardFor(conversation, agent, role);
      const channel = await this.dm(agent.slackUserId);
      const posted = Posted.parse(
        await this.#outbox.post('chat.postMessage', {
          channel,
          ...message,
          unfurl_links: false,
          unfurl_media: false,
        }),
      );
      const ref = { channel: posted.channel ?? channel, ts: posted.ts };
      await this.#state.saveThread(conversation.id, agent.id, ref);
      shows = view.messages.map((m) => m.id);
      this.#remember(this.#postedAs, `${agent.id}|${conversation.id}|${conversation.ownership.length}`);
      for (const post of threadTranscript(await this.shown(view.messages), customerLabel(view)))
        await this.say(ref, post);
      // The pictures of the newest customer messages so far, under the transcript.
      const pictured = view.messages.filter((m) => m.direction === 'in' && m.attachments.some(previewed));
      for (const m of pictured.slice(-CARD_PICTURED)) await this.#sharePictures(ref, m);
      return { ref, created: true, shows };
    } finally {
      await this.#state.endCard(conversation.id, agent.id, shows);
    }
  }

  /** The agent's card of the conversation in `role`, with the saved replies offered to them, and its view. */
  async #cardFor(conversation: Conversation, agent: Agent, role: CardRole) {
    const view = await conversationView(this.#r.store, conversation, agent.id, (c) => this.#r.wrapUp(c));
    const saved = savedRepliesFor(await this.#r.savedReplies(), agent);
    return { view, message: card(view, role, this.#now(), saved, agent.id, this.#r.callsOut) };
  }

  async #renderCard(conversation: Conversation, agent: Agent, ref: SlackRef, role?: CardRole): Promise<void> {
    const shown = role ?? (await this.#roleFor(conversation, agent.id));
    if (!shown) return;
    const { message } = await this.#cardFor(conversation, agent, shown);
    try {
      await this.#outbox.post('chat.update', { channel: ref.channel, ts: ref.ts, ...message });
    } catch (err) {
      this.#log.warn({ err: String(err) }, 'Slack: could not update a card');
    }
  }

  async #roleFor(conversation: Conversation, agentId: string): Promise<CardRole | null> {
    const nameOf = async (id: string | null) =>
      id ? ((await this.#r.store.getAgent(id))?.name ?? id) : 'the owner';
    if (conversation.status === 'resolved') return this.#resolvedRole(conversation);
    if (conversation.handoff?.to === agentId) {
      return {
        kind: 'offer',
        fromName: await nameOf(conversation.handoff.from),
        note: conversation.handoff.note,
      };
    }
    switch (roleOf(conversation, agentId)) {
      case 'owner':
        return { kind: 'owner' };
      case 'cover':
        return { kind: 'cover', ownerName: await nameOf(conversation.ownerId) };
      case 'consultant':
      case 'invited':
        return { kind: 'consult', fromName: await nameOf(conversation.ownerId) };
      case 'none':
        return null;
    }
  }

  /** Threads of the agents on the conversation now (Slack-linked, card already posted). */
  async #participantThreads(conversation: Conversation): Promise<Array<{ agentId: string; ref: SlackRef }>> {
    const current = new Set(participants(conversation));
    return (await this.#state.threads(conversation.id)).filter((t) => current.has(t.agentId));
  }

  async #toOwner(conversation: Conversation, text: string): Promise<void> {
    if (!conversation.ownerId) return;
    const ref = await this.#state.thread(conversation.id, conversation.ownerId);
    if (ref) await this.say(ref, text);
  }

  /** A line in the owner's thread, and their card drawn again as things stand (a hand-off changes its buttons). */
  async #toOwnerCard(conversation: Conversation, text: string): Promise<void> {
    if (!conversation.ownerId) return;
    const [owner, ref] = await Promise.all([
      this.#r.store.getAgent(conversation.ownerId),
      this.#state.thread(conversation.id, conversation.ownerId),
    ]);
    if (!ref) return;
    await this.say(ref, text);
    if (owner) await this.#renderCard(conversation, owner, ref);
  }

  /** A line in a thread (text, or blocks with it); the posted message's ref, or null when Slack refused it. */
  async say(thread: SlackRef, line: string | { text: string; blocks: unknown[] }): Promise<SlackRef | null> {
    try {
      const posted = Posted.parse(
        await this.#outbox.post('chat.postMessage', {
          channel: thread.channel,
          thread_ts: thread.ts,
          ...(typeof line === 'string' ? { text: line } : line),
          unfurl_links: false,
          unfurl_media: false,
        }),
      );
      return { channel: posted.channel ?? thread.channel, ts: posted.ts };
    } catch (err) {
      this.#log.warn({ err: String(err) }, 'Slack: could not post in a thread');
      return null;
    }
  }

  // ================================================================ App Home

  /** Republish an agent's home tab soon (several changes in a row publish once). */
  home(agentId: string): void {
    if (this.#closed || this.#homeQueued.has(agentId)) return;
    this.#homeQueued.add(agentId);
    this.#serial(`home:${agentId}`, async () => {
      this.#homeQueued.delete(agentId);
      const agent = await this.slackAgent(agentId);
      if (agent) await this.publishHome(agent.slackUserId, agent);
    });
  }

  async publishHome(slackUserId: string, known?: Agent): Promise<void> {
    const agent = known ?? (await this.agentBySlackUser(slackUserId));
    const now = this.#now();
    let view: ReturnType<typeof homeView>;
    if (!agent) {
      view = homeView({ agent: null, slackUserId, conversations: [], figures: null });
    } else {
      const fresh = (await this.#r.store.getAgent(agent.id)) ?? agent;
      const me = await this.#me().catch(() => null);
      const conversations = [];
      for (const c of await this.#r.store.listAgentConversations(fresh.id)) {
        const view = await conversationView(this.#r.store, c, fresh.id);
        const ref = await this.#state.thread(c.id, fresh.id);
        const since = waitingSinceLastAsk(view.messages);
        conversations.push({
          name: customerLabel(view),
          channel: CHANNEL_NAMES[c.lastChannel] ?? c.lastChannel,
          role: homeRole(view.role, c.handoff?.to === fresh.id),
          waitingMs: since === null ? null : now - since,
          link: ref && me?.url ? permalink(me.url, ref) : null,
        });
      }
      view = homeView({
        agent: fresh,
        slackUserId,
        conversations,
        figures: await agentFigures(this.#r, fresh.id, now),
        writesOn: this.#r.writesOn,
      });
    }
    try {
      await this.#outbox.call(
        'views.publish',
        { user_id: slackUserId, view },
        { key: `home:${slackUserId}` },
      );
    } catch (err) {
      this.#log.warn({ err: String(err) }, 'Slack: could not publish the home tab');
    }
  }

  #originOf(message: Message): SlackRef | null {
    if (message.direction === 'internal' && message.author.id) {
      return this.#noteOrigins.get(noteKey(message.author.id, message.conversationId, message.text)) ?? null;
    }
    const match = /^out:[^:]+:slack:([^:]+):(\d+\.\d+)$/.exec(message.externalId ?? '');
    return match ? { channel: match[1]!, ts: match[2]! } : null;
  }

  async dm(slackUserId: string): Promise<string> {
    const known = await this.#state.dmChannel(slackUserId);
    if (known) return known;
    const opened = Opened.parse(await this.#outbox.call('conversations.open', { users: slackUserId }));
    await this.#state.rememberDmChannel(slackUserId, opened.channel.id);
    return opened.channel.id;
  }

  /**
   * The agent linked to a Slack user: the first, in creation order, whose `slackUserId` it is. Every event,
   * button and command asks, so the answer comes from a map of Slack users to agent ids, checked against
   * the agent's record (one read); the map is built from every agent (`listAgents`, costly with many)
   * only when it does not know the user or its agent no longer has that link, and forgotten when any
   * agent's profile or status changes (`agent.updated`, `agent.status`, from any process). A user linked to
   * nobody (a colleague who opens the app's home) is answered so for UNLINKED_KEPT_MS without looking
   * again, unless such a change comes first.
   */
  async agentBySlackUser(slackUserId: string): Promise<SlackAgent | null> {
    const id = this.#bySlackUser?.get(slackUserId);
    if (id) {
      const agent = await this.#r.store.getAgent(id);
      if (agent?.slackUserId === slackUserId) return agent as SlackAgent;
    }
    const now = this.#now();
    if ((this.#unlinked.get(slackUserId) ?? 0) > now) return null;
    const agents = await this.#r.store.listAgents();
    const map = new Map<string, string>();
    for (const a of agents) if (a.slackUserId && !map.has(a.slackUserId)) map.set(a.slackUserId, a.id);
    this.#bySlackUser = map;
    const found = map.get(slackUserId);
    const agent = (agents.find((a) => a.id === found) as SlackAgent | undefined) ?? null;
    if (!agent) {
      for (const [user, until] of this.#unlinked) if (until <= now) this.#unlinked.delete(user);
      this.#unlinked.set(slackUserId, now + UNLINKED_KEPT_MS);
    }
    return agent;
  }

  /**
   * Slack work on a conversation (`#serial` on its id), held in the shared state from now until its chain
   * of work is done, so that another process finishes it should this one die meanwhile.
   */
  #work(conversationId: string, work: () => Promise<void>): void {
    if (!this.#chains.has(conversationId)) this.#hold(conversationId);
    this.#serial(conversationId, work, () => {
      // Closing: what was queued may have been dropped with the outbox; the hold is left to run out, and
      // another process (or this one, started again) brings the conversation's Slack side up to date.
      if (this.#closed) return;
      this.#state.releaseWork(conversationId, this.#holder).catch((err: unknown) => this.#failed(err));
    });
  }

  /** Hold a conversation's Slack work from `now` (ms, real time) for the take-over time. */
  #hold(conversationId: string, now = Date.now()): void {
    this.#state
      .holdWork(conversationId, this.#holder, now + this.#takeoverMs)
      .catch((err: unknown) => this.#failed(err));
  }

  /**
   * Upkeep, called often (the console: every second): renew this process's holds on the conversations it works on
   * (every quarter of the take-over time), and take over, and bring up to date, those of a process that
   * stopped (its holds ran out). Resolves once the taken-over work is queued.
   */
  async sweep(now = Date.now()): Promise<string[]> {
    if (this.#closed) return [];
    if (now - this.#renewedAt >= this.#takeoverMs / 4) {
      this.#renewedAt = now;
      for (const key of this.#chains.keys()) if (!key.startsWith('home:')) this.#hold(key, now);
    }
    const taken = await this.#state.takeOverWork(this.#holder, now, now + this.#takeoverMs, TAKEOVER_BATCH);
    // Closing meanwhile: what it took is left held, for another process to take when the hold runs out.
    if (this.#closed) return [];
    for (const conversationId of taken) {
      this.#log.warn({ conversationId }, 'Slack: taking over updates another process left unfinished');
      this.#work(conversationId, () => this.#catchUp(conversationId));
    }
    return taken;
  }

  /**
   * Run `work` after everything queued before it for the same key; failures are logged, never thrown.
   * `done` runs when the key's chain has nothing more queued.
   */
  #serial(key: string, work: () => Promise<void>, done?: () => void): void {
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous.then(work).catch((err: unknown) => this.#failed(err));
    this.#chains.set(key, next);
    void next.then(() => {
      if (this.#chains.get(key) !== next) return;
      this.#chains.delete(key);
      done?.();
    });
  }

  #remember(set: Set<string>, key: string): void {
    set.add(key);
    if (set.size > MAX_REMEMBERED) {
      const oldest = set.values().next().value;
      if (oldest !== undefined) set.delete(oldest);
    }
  }

  #now(): number {
    return this.#r.clock.now();
  }

  #failed(err: unknown): void {
    this.#log.warn({ err: err instanceof Error ? err.message : String(err) }, 'Slack console: work failed');
  }
}

/**
 * A resolution's follow-up as its thread says it (with the Resolved line): when it is due, and what happens then
 * ('' without one). `ownerName`: who resolved it, offered the follow-up first.
 */
function followUpSaid(
  conversation: Conversation,
  customerName: string,
  ownerName: string | undefined,
  agentId: string,
): string {
  if (conversation.followUpAt === null) return '';
  const who =
    agentId === conversation.ownerId ? 'you' : ownerName ? `*${escapeSlack(ownerName)}*` : 'its owner';
  return ` Follow-up due ${slackDate(conversation.followUpAt)}: a new conversation opens then to reach out to *${escapeSlack(customerName)}*, offered to ${who} first.`;
}

/** What the customer was sent, quoted in a thread: every line of its start. */
function quoted(text: string): string {
  const start = escapedUpTo(text, QUOTED_MAX);
  return `${start.text}${start.left > 0 ? '…' : ''}`
    .split('\n')
    .map((line) => `> ${line}`)
    .join('\n');
}

function noteKey(agentId: string, conversationId: string, text: string): string {
  return `${agentId}|${conversationId}|${text}`;
}

/** A link to a thread (its root message), from the workspace URL auth.test gives. */
export function permalink(workspaceUrl: string, ref: SlackRef): string {
  const base = workspaceUrl.endsWith('/') ? workspaceUrl : `${workspaceUrl}/`;
  return `${base}archives/${ref.channel}/p${ref.ts.replace('.', '')}`;
}
