// What the Slack console remembers: where each conversation's card (and so its
// thread) is for each agent, the app's DM channel with each Slack user, where a
// Switchboard message shows in Slack (for delivery marks), which messages each
// thread shows, the conversations whose Slack updates a process has under way
// (so that another finishes them if it dies), and the event ids already
// processed (Slack retries an event it thinks was not received). One
// small interface, all async, two implementations that keep the same contract
// (test/channels/slack-state.contract.ts): this process's memory, beside it, for
// one process; Redis (redis-state.ts), shared by every process on one Redis,
// which the server uses in Redis mode (REDIS_URL).

/** A Slack message: its channel and timestamp. A card's ref is its thread's root. */
export interface SlackRef {
  channel: string;
  ts: string;
}

export interface SlackState {
  /** The app's direct-message channel with a Slack user, when known. */
  dmChannel(slackUserId: string): Promise<string | null>;
  rememberDmChannel(slackUserId: string, channel: string): Promise<void>;

  /** The card (thread root) of a conversation in one agent's DM. */
  thread(conversationId: string, agentId: string): Promise<SlackRef | null>;
  saveThread(conversationId: string, agentId: string, ref: SlackRef): Promise<void>;
  /** Every agent's card of a conversation. */
  threads(conversationId: string): Promise<Array<{ agentId: string; ref: SlackRef }>>;
  /** The conversation (and agent) whose card is the root of the thread `ts` in `channel`. */
  threadOwner(channel: string, ts: string): Promise<{ conversationId: string; agentId: string } | null>;

  /** Where a Switchboard message shows in Slack (the agent's own message, copies in other threads). */
  addPost(messageId: string, ref: SlackRef): Promise<void>;
  posts(messageId: string): Promise<SlackRef[]>;

  /**
   * True the first time a Slack event id is seen (within a retention window); false for a retry. With
   * `leaseMs`, the caller is processing it: a retry meanwhile is false, but once `leaseMs` has passed
   * without `completeEvent` (the process died before it was done) the next one is true again.
   */
  claimEvent(eventId: string, now: number, leaseMs?: number): Promise<boolean>;
  /** A claimed event is processed: a retry is false for the retention window from `now`. */
  completeEvent(eventId: string, now: number): Promise<void>;

  /**
   * Opening one agent's card of a conversation (posting it and its transcript), which one process does
   * while any other that reaches for the card waits: true for the one caller that may open it, false
   * while another's reservation runs. It lapses `ms` after `now` (a process that died while opening).
   */
  reserveCard(conversationId: string, agentId: string, now: number, ms: number): Promise<boolean>;
  /**
   * The card is open, its transcript showing `messageIds`; or, with null, opening it failed. Either ends
   * the reservation.
   */
  endCard(conversationId: string, agentId: string, messageIds: string[] | null): Promise<void>;
  /** Whether a reservation to open the card runs at `now`, and what its transcript showed (null: unknown). */
  cardState(conversationId: string, agentId: string, now: number): Promise<CardState>;

  /**
   * Every message shown in one agent's thread of a conversation: its card's transcript (`endCard`) and each
   * line posted or written there since (`markShown`).
   */
  shown(conversationId: string, agentId: string): Promise<Set<string>>;
  markShown(conversationId: string, agentId: string, messageIds: string[]): Promise<void>;

  /**
   * The process `holder` has Slack updates of a conversation under way (an event it is mirroring) until
   * `until` (ms), and renews that while it works. Its hold ends with `releaseWork`; one that runs out (the
   * process died) is another's to finish (`takeOverWork`).
   */
  holdWork(conversationId: string, holder: string, until: number): Promise<void>;
  releaseWork(conversationId: string, holder: string): Promise<void>;
  /**
   * Conversations whose holds ran out by `now` (at most `limit`): each is `holder`'s now, until `until`, and
   * the holds that ran out are gone. One caller gets each, also when several ask at once.
   */
  takeOverWork(holder: string, now: number, until: number, limit: number): Promise<string[]>;

  /**
   * The team channel's alerts about `topic` (a customer channel) at most once per `everyMs`, across every
   * process: `post` true for the one caller whose alert goes now, with how many were held back since the
   * last post (`unposted`, at `since`: null when there was none); false for the ones in between, counted.
   */
  alertWindow(topic: string, now: number, everyMs: number): Promise<AlertWindow>;
}

export interface AlertWindow {
  post: boolean;
  unposted: number;
  since: number | null;
}

export interface CardState {
  opening: boolean;
  shows: string[] | null;
}

export interface MemorySlackStateOptions {
  /** How long processed event ids are kept (Slack retries within minutes). Default one hour. */
  eventRetentionMs?: number;
  /** How many messages' Slack posts are kept for delivery marks (oldest dropped first). Default 10,000. */
  maxPosts?: number;
}

/** One process's memory. */
export class MemorySlackState implements SlackState {
  readonly #dms = new Map<string, string>();
  readonly #threads = new Map<string, Map<string, SlackRef>>();
  readonly #roots = new Map<string, { conversationId: string; agentId: string }>();
  readonly #posts = new Map<string, SlackRef[]>();
  /** Processed event ids → when (insertion order is time order). */
  readonly #events = new Map<string, number>();
  /** Event ids being processed → until when their claim runs. */
  readonly #processing = new Map<string, number>();
  /** `conversation|agent` → until when its card's reservation runs. */
  readonly #opening = new Map<string, number>();
  /** `conversation|agent` → the messages its card's transcript showed (oldest dropped past `maxPosts`). */
  readonly #shows = new Map<string, string[]>();
  /** `conversation|agent` → every message its thread shows (oldest threads dropped past `maxPosts`). */
  readonly #shown = new Map<string, Set<string>>();
  /** `conversation|holder` → until when the holder's work on it runs. */
  readonly #work = new Map<string, { conversationId: string; until: number }>();
  /** Alert topic → when its last alert went, and how many were held back since. */
  readonly #alerts = new Map<string, { at: number; unposted: number }>();
  readonly #retentionMs: number;
  readonly #maxPosts: number;

  constructor(options: MemorySlackStateOptions = {}) {
    this.#retentionMs = options.eventRetentionMs ?? 3600_000;
    this.#maxPosts = options.maxPosts ?? 10_000;
  }

  async dmChannel(slackUserId: string): Promise<string | null> {
    return this.#dms.get(slackUserId) ?? null;
  }

  async alertWindow(topic: string, now: number, everyMs: number): Promise<AlertWindow> {
    const last = this.#alerts.get(topic);
    if (last && now >= last.at && now - last.at < everyMs) {
      last.unposted++;
      return { post: false, unposted: last.unposted, since: last.at };
    }
    this.#alerts.set(topic, { at: now, unposted: 0 });
    return { post: true, unposted: last?.unposted ?? 0, since: last?.at ?? null };
  }

  async rememberDmChannel(slackUserId: string, channel: string): Promise<void> {
    this.#dms.set(slackUserId, channel);
  }

  async thread(conversationId: string, agentId: string): Promise<SlackRef | null> {
    const ref = this.#threads.get(conversationId)?.get(agentId);
    return ref ? { ...ref } : null;
  }

  async saveThread(conversationId: string, agentId: string, ref: SlackRef): Promise<void> {
    let byAgent = this.#threads.get(conversationId);
    if (!byAgent) {
      byAgent = new Map();
      this.#threads.set(conversationId, byAgent);
    }
    const previous = byAgent.get(agentId);
    if (previous) this.#roots.delete(rootKey(previous));
    byAgent.set(agentId, { ...ref });
    this.#roots.set(rootKey(ref), { conversationId, agentId });
  }

  async threads(conversationId: string): Promise<Array<{ agentId: string; ref: SlackRef }>> {
    return [...(this.#threads.get(conversationId) ?? new Map<string, SlackRef>())].map(([agentId, ref]) => ({
      agentId,
      ref: { ...ref },
    }));
  }

  async threadOwner(
    channel: string,
    ts: string,
  ): Promise<{ conversationId: string; agentId: string } | null> {
    const owner = this.#roots.get(rootKey({ channel, ts }));
    return owner ? { ...owner } : null;
  }

  async addPost(messageId: string, ref: SlackRef): Promise<void> {
    const list = this.#posts.get(messageId) ?? [];
    if (list.some((r) => r.channel === ref.channel && r.ts === ref.ts)) return;
    list.push({ ...ref });
    setNewest(this.#posts, messageId, list, this.#maxPosts);
  }

  async posts(messageId: string): Promise<SlackRef[]> {
    return (this.#posts.get(messageId) ?? []).map((r) => ({ ...r }));
  }

  async claimEvent(eventId: string, now: number, leaseMs?: number): Promise<boolean> {
    // Forget ids past the retention window (insertion order is time order), and claims that lapsed.
    for (const [id, at] of this.#events) {
      if (at > now - this.#retentionMs) break;
      this.#events.delete(id);
    }
    for (const [id, until] of this.#processing) if (until <= now) this.#processing.delete(id);
    if (this.#events.has(eventId) || this.#processing.has(eventId)) return false;
    if (leaseMs === undefined) this.#events.set(eventId, now);
    else this.#processing.set(eventId, now + leaseMs);
    return true;
  }

  async completeEvent(eventId: string, now: number): Promise<void> {
    this.#processing.delete(eventId);
    this.#events.delete(eventId);
    this.#events.set(eventId, now);
  }

  async reserveCard(conversationId: string, agentId: string, now: number, ms: number): Promise<boolean> {
    const key = cardKey(conversationId, agentId);
    if ((this.#opening.get(key) ?? Number.NEGATIVE_INFINITY) > now) return false;
    this.#opening.set(key, now + ms);
    return true;
  }

  async endCard(conversationId: string, agentId: string, messageIds: string[] | null): Promise<void> {
    const key = cardKey(conversationId, agentId);
    if (messageIds) {
      setNewest(this.#shows, key, [...messageIds], this.#maxPosts);
      await this.markShown(conversationId, agentId, messageIds);
    }
    this.#opening.delete(key);
  }

  async cardState(conversationId: string, agentId: string, now: number): Promise<CardState> {
    const key = cardKey(conversationId, agentId);
    const until = this.#opening.get(key);
    if (until !== undefined && until <= now) this.#opening.delete(key);
    const shows = this.#shows.get(key);
    return { opening: until !== undefined && until > now, shows: shows ? [...shows] : null };
  }

  async shown(conversationId: string, agentId: string): Promise<Set<string>> {
    return new Set(this.#shown.get(cardKey(conversationId, agentId)));
  }

  async markShown(conversationId: string, agentId: string, messageIds: string[]): Promise<void> {
    const key = cardKey(conversationId, agentId);
    const ids = this.#shown.get(key) ?? new Set<string>();
    for (const id of messageIds) ids.add(id);
    setNewest(this.#shown, key, ids, this.#maxPosts);
  }

  async holdWork(conversationId: string, holder: string, until: number): Promise<void> {
    const key = cardKey(conversationId, holder);
    const held = this.#work.get(key);
    this.#work.set(key, { conversationId, until: Math.max(until, held?.until ?? until) });
  }

  async releaseWork(conversationId: string, holder: string): Promise<void> {
    this.#work.delete(cardKey(conversationId, holder));
  }

  async takeOverWork(holder: string, now: number, until: number, limit: number): Promise<string[]> {
    const due = [...this.#work].filter(([, w]) => w.until <= now).sort(([, x], [, y]) => x.until - y.until);
    const taken: string[] = [];
    for (const [key, w] of due.slice(0, limit)) {
      this.#work.delete(key);
      if (!taken.includes(w.conversationId)) taken.push(w.conversationId);
    }
    for (const id of taken) await this.holdWork(id, holder, until);
    return taken;
  }
}

/** Set `key` as the newest entry of `map` (Maps iterate in insertion order), dropping the oldest past `max`. */
function setNewest<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) {
    const oldest = map.keys().next().value;
    if (oldest === undefined) break;
    map.delete(oldest);
  }
}

function cardKey(conversationId: string, agentId: string): string {
  return `${conversationId}|${agentId}`;
}

function rootKey(ref: SlackRef): string {
  return `${ref.channel}|${ref.ts}`;
}
