// The team's channel in Slack (SLACK_TEAM_CHANNEL) hears when a customer will wait
// past the time they were told: a quoted wait or a call back at risk, the moment
// Switchboard tells the customer so (with a new honest time when it has one); and
// when a missed ring left a caller waiting with nobody available to ring (who is
// away and why, who declined). The
// post says who, on which channel, for whom they wait, and how that channel
// stands now (from the team's live view), so that someone can step in. Posted by
// the process that told the customer (a domain event of its own: other processes
// do not get it), once per promise (the router tells each at most once), and at
// most once a minute per customer channel across every process (the Slack state
// keeps the window: in Redis with REDIS_URL): the ones in between are counted and
// said in the next post, so a bad hour is a few posts, not one per customer.
import type { Logger } from 'pino';
import type { Router } from '../../routing/router.js';
import type { DomainEvent } from '../../shared/events.js';
import type { Channel, Conversation } from '../../shared/model.js';
import { customerName, type LiveView } from '../team.js';
import { type SlackOutbox, slackErrorCode } from './outbox.js';
import { Posted } from './payloads.js';
import type { SlackState } from './state.js';
import { CHANNEL_NAMES, duration, escapeSlack, slackDate } from './text.js';

type AtRisk = Extract<DomainEvent, { type: 'promise.at_risk' }>;
type Unstaffed = Extract<DomainEvent, { type: 'team.unstaffed' }>;

/** At most one post per customer channel this often (ms, the router's clock). */
export const ALERT_EVERY_MS = 60_000;

export interface TeamAlertsOptions {
  router: Router;
  outbox: SlackOutbox;
  /** Keeps each customer channel's alert window, for every process. */
  state: SlackState;
  /** The team channel's ID. */
  channel: string;
  /** The team's live view, for how the channel stands (null: not said). */
  team: (() => Promise<LiveView>) | null;
  log: Logger;
}

/** What the team channel is told about a customer who will wait past the time they were told. */
export function atRiskText(
  event: AtRisk,
  conversation: Conversation | null,
  name: string,
  view: LiveView | null,
  unposted?: { count: number; since: number },
): string {
  const channel = channelOf(event, conversation);
  const what = event.promise.kind === 'callback' ? 'the call back they were promised' : 'a person';
  const revised = event.revised
    ? ` They were told ${slackDate(event.revised.dueAt)} now.`
    : ' No new time could be given: nobody is working who could answer.';
  const lines = [
    `:hourglass_flowing_sand: *${escapeSlack(name)}* (${CHANNEL_NAMES[channel]}) will wait for ${what} past the time they were told (${slackDate(event.promise.dueAt)}).${revised}`,
  ];
  if (
    conversation?.status === 'assigned' &&
    conversation.ownerId &&
    conversation.waitingForOwnerSince !== null
  ) {
    const owner = view?.agents.find((a) => a.id === conversation.ownerId);
    lines.push(
      `They wait for ${escapeSlack(owner?.name ?? 'their owner')}${owner ? ` (${owner.status})` : ''}.`,
    );
  }
  const now = view?.channels[channel];
  if (now) {
    const free = now.agentsFree === 0 ? 'nobody free' : `${now.agentsFree} free`;
    const longest =
      now.longestWaitSeconds === null ? '' : `, longest ${duration(now.longestWaitSeconds * 1000)}`;
    lines.push(
      `${CHANNEL_NAMES[channel]} now: ${now.waiting} waiting${longest} · ${free}. \`/switchboard team\` shows the whole team.`,
    );
  }
  if (unposted && unposted.count > 0) {
    const more = unposted.count === 1 ? '1 more customer' : `${unposted.count} more customers`;
    lines.push(
      `Since ${slackDate(unposted.since)}, ${more} on ${CHANNEL_NAMES[channel]} came to wait past the time they were told (not posted one by one).`,
    );
  }
  return lines.join('\n');
}

/** A list said as a sentence does: "Ana", "Ana and Bo", "Ana, Bo and Cy". */
function listed(names: string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/**
 * What the team channel is told when a missed ring left a customer waiting with nobody to ring: who is away and
 * why (a missed call and its time), and who declined them, so that someone comes back to take them.
 */
export function unstaffedText(event: Unstaffed, name: string, view: LiveView | null): string {
  const channel = event.conversation.lastChannel;
  const away = event.away.map(
    (a) => `${escapeSlack(a.name)}${a.reason ? ` (${escapeSlack(a.reason)})` : ''}`,
  );
  const declined = event.declined.map((a) => escapeSlack(a.name));
  const who = [
    ...(away.length > 0 ? [`${listed(away)} ${away.length === 1 ? 'is' : 'are'} away`] : []),
    ...(declined.length > 0
      ? [`${listed(declined)} declined ${event.away.length > 0 ? 'it' : 'the call'}`]
      : []),
  ];
  const lines = [
    `:rotating_light: *${escapeSlack(name)}* (${CHANNEL_NAMES[channel]}) is waiting and nobody is available to take it${who.length > 0 ? `: ${who.join('; ')}` : ''}. Make yourself available to take it.`,
  ];
  const now = view?.channels[channel];
  if (now) {
    const free = now.agentsFree === 0 ? 'nobody free' : `${now.agentsFree} free`;
    lines.push(
      `${CHANNEL_NAMES[channel]} now: ${now.waiting} waiting · ${free}. \`/switchboard team\` shows the whole team.`,
    );
  }
  return lines.join('\n');
}

/** Where the team channel's alerts about a conversation are kept among the Slack posts (`SlackState.addPost`). */
const alertKey = (conversationId: string) => `alert:${conversationId}`;

/** The channel the customer waits on. */
function channelOf(event: AtRisk, conversation: Conversation | null): Channel {
  return conversation?.lastChannel ?? event.message.channel;
}

export class TeamAlerts {
  readonly #o: TeamAlertsOptions;
  readonly #pending = new Set<Promise<void>>();
  readonly #unsubscribe: () => void;
  /** The channel refused us (not invited, archived): said once in the log, not tried again. */
  #refused = false;

  constructor(options: TeamAlertsOptions) {
    this.#o = options;
    this.#unsubscribe = options.router.events.subscribe((event) => {
      let done: Promise<void>;
      if (event.type === 'promise.at_risk' && !this.#refused) {
        done = this.#post(event).catch((err: unknown) => this.#failed(err));
      } else if (event.type === 'team.unstaffed' && !this.#refused) {
        done = this.#postUnstaffed(event).catch((err: unknown) => this.#failed(err));
      } else if (event.type === 'customer.erased') {
        done = this.#erase(event.conversationIds).catch((err: unknown) =>
          this.#o.log.warn({ err: String(err) }, "Slack: could not delete an erased customer's alerts"),
        );
      } else return;
      this.#pending.add(done);
      void done.then(() => this.#pending.delete(done));
    });
  }

  /** An erased customer's alerts go from the team channel (their name is in them). */
  async #erase(conversationIds: readonly string[]): Promise<void> {
    for (const id of conversationIds) {
      for (const ref of await this.#o.state.posts(alertKey(id))) await this.#o.outbox.deleteMessage(ref);
    }
  }

  async #post(event: AtRisk): Promise<void> {
    const store = this.#o.router.store;
    const conversation = await store.getConversation(event.promise.conversationId);
    const channel = channelOf(event, conversation);
    const now = this.#o.router.clock.now();
    const window = await this.#o.state.alertWindow(channel, now, ALERT_EVERY_MS);
    if (!window.post) return;
    const [customer, view] = await Promise.all([
      conversation ? store.getCustomer(conversation.customerId) : null,
      this.#o.team ? this.#o.team() : null,
    ]);
    const unposted = window.since === null ? undefined : { count: window.unposted, since: window.since };
    const text = atRiskText(event, conversation, customerName(customer), view, unposted);
    const posted = Posted.safeParse(
      await this.#o.outbox.post('chat.postMessage', { channel: this.#o.channel, text, unfurl_links: false }),
    );
    // Kept by the conversation, so that erasing its customer deletes it too.
    if (posted.success && conversation) {
      await this.#o.state.addPost(alertKey(conversation.id), {
        channel: posted.data.channel ?? this.#o.channel,
        ts: posted.data.ts,
      });
    }
  }

  /** At most once a minute across every process, whichever customers it is about (a bad hour is a few posts). */
  async #postUnstaffed(event: Unstaffed): Promise<void> {
    const now = this.#o.router.clock.now();
    const window = await this.#o.state.alertWindow('unstaffed', now, ALERT_EVERY_MS);
    if (!window.post) return;
    const [customer, view] = await Promise.all([
      this.#o.router.store.getCustomer(event.conversation.customerId),
      this.#o.team ? this.#o.team() : null,
    ]);
    const text = unstaffedText(event, customerName(customer), view);
    const posted = Posted.safeParse(
      await this.#o.outbox.post('chat.postMessage', { channel: this.#o.channel, text, unfurl_links: false }),
    );
    if (posted.success) {
      await this.#o.state.addPost(alertKey(event.conversation.id), {
        channel: posted.data.channel ?? this.#o.channel,
        ts: posted.data.ts,
      });
    }
  }

  #failed(err: unknown): void {
    const code = slackErrorCode(err);
    if (code === 'not_in_channel' || code === 'channel_not_found' || code === 'is_archived') {
      this.#refused = true;
      this.#o.log.warn(
        { channel: this.#o.channel, error: code },
        'Slack: the team channel refused the alert (invite the Switchboard app to it, then restart); no more alerts are tried',
      );
      return;
    }
    this.#o.log.warn({ err: String(err) }, 'Slack: could not tell the team channel');
  }

  /** Resolves when every alert so far has been posted (or failed). */
  async idle(): Promise<boolean> {
    if (this.#pending.size === 0) return false;
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    return true;
  }

  close(): void {
    this.#unsubscribe();
  }
}
