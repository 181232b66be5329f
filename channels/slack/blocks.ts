// Block Kit for the Slack console: the context card (the root of each
// conversation's thread), the lines posted in the thread, the App Home, the
// pickers and modals. Pure functions of what to show; nothing here talks to Slack.
import type { types } from '@slack/bolt';
import { withheldOnly } from '../../routing/addresses.js';
import {
  type Agent,
  CHANNELS,
  type Channel,
  type CustomerPromise,
  type Message,
  promiseOwnText,
  type SavedReply,
} from '../../shared/model.js';
import type { ShownMessage } from '../email/original.js';
import { customerName, type LiveAgent, type LiveView, type LiveWaiting } from '../team.js';
import { type ConversationSummary, type ConversationView, factSource } from '../views.js';
import type { AgentFigures, Waiting } from './figures.js';
import { PICK } from './followup.js';
import {
  CHANNEL_NAMES,
  clip,
  count,
  cutAt,
  duration,
  escapedUpTo,
  escapeSlack,
  slackDate,
  slackTime,
} from './text.js';

export type Block = types.KnownBlock;

/** Action and callback ids (the `sb_` prefix keeps them apart from anything else in the workspace). */
export const ACTION = {
  resolve: 'sb_resolve',
  followUp: 'sb_resolve_followup',
  consult: 'sb_consult',
  consultPick: 'sb_consult_pick',
  leave: 'sb_consult_leave',
  handoff: 'sb_handoff',
  accept: 'sb_handoff_accept',
  decline: 'sb_handoff_decline',
  promise: 'sb_promise',
  keep: 'sb_promise_keep',
  status: 'sb_status',
  open: 'sb_open',
  read: 'sb_read',
  saved: 'sb_saved_reply',
  block: 'sb_block',
  write: 'sb_write',
  call: 'sb_call',
  details: 'sb_details',
  withdraw: 'sb_handoff_withdraw',
  wrapUpMore: 'sb_wrapup_more',
  wrapUpDone: 'sb_wrapup_done',
  original: 'sb_original',
} as const;

export const VIEW = {
  handoff: 'sb_handoff_submit',
  promise: 'sb_promise_submit',
  savedReply: 'sb_saved_reply_submit',
  block: 'sb_block_submit',
  write: 'sb_write_submit',
  details: 'sb_details_submit',
  followUp: 'sb_followup_submit',
} as const;

/** Block and action ids inside the modals (what view_submission's `state.values` is keyed by). */
export const FIELD = {
  handoffTarget: { block: 'target', action: 'user' },
  followUpWhen: { block: 'when', action: 'choice' },
  followUpAt: { block: 'at', action: 'at' },
  handoffNote: { block: 'note', action: 'text' },
  promiseDue: { block: 'due', action: 'at' },
  promiseText: { block: 'text', action: 'text' },
  replyText: { block: 'reply', action: 'text' },
  blockReason: { block: 'reason', action: 'text' },
  detailsName: { block: 'name', action: 'text' },
  detailsEmail: { block: 'email', action: 'text' },
  detailsPhone: { block: 'phone', action: 'text' },
  writeBy: { block: 'by', action: 'channel' },
  writeTo: { block: 'to', action: 'text' },
  writeSubject: { block: 'subject', action: 'text' },
  writeText: { block: 'message', action: 'text' },
} as const;

/** How the write form names the channels an agent may write first on. */
export const WRITE_BY = { sms: 'Text message', email: 'Email' } as const;

/** What a card says about the agent's part in the conversation. */
export type CardRole =
  | { kind: 'owner' }
  | { kind: 'cover'; ownerName: string }
  | { kind: 'consult'; fromName: string }
  | { kind: 'offer'; fromName: string; note: string }
  | { kind: 'declined' }
  /** The owner took back the hand-off they had offered this agent. */
  | { kind: 'withdrawn'; ownerName: string }
  | { kind: 'left' }
  | { kind: 'former'; ownerName: string }
  /** A colleague covered for the owner, and no longer does (`back`: the owner is available again). */
  | { kind: 'cover-ended'; ownerName: string; back: boolean; inLine?: boolean }
  /** The agent left the team (DELETE /api/agents/:id): what they had went on to colleagues. */
  | { kind: 'gone' }
  /** The owner went offline and their conversation went back in line for the next free colleague. */
  | { kind: 'in-line' }
  /** `blocked`: closed because the customer was blocked (by whom, and why when said). */
  | { kind: 'resolved'; byName?: string | undefined; blocked?: { byName: string; reason: string } };

export interface CardMessage {
  text: string;
  blocks: Block[];
}

const MAX_SECTION = 2900;
/** The most a form's text field takes in Slack (`max_length`, and what it may be filled with): more is refused. */
export const FORM_TEXT_MAX = 3000;
/**
 * The longest line a message gets in a thread: Slack refuses a message over 40,000 characters and folds a
 * long one away ("Show more") well before; the rest is read in the web console.
 */
export const LINE_MAX = 3500;

/** How a customer is named in Slack: as everywhere the team sees them (channels/team.ts `customerName`). */
export function customerLabel(view: Pick<ConversationView, 'customer'>): string {
  return customerName(view.customer);
}

function channelList(view: ConversationView): string {
  return view.conversation.channels.map((c) => CHANNEL_NAMES[c] ?? c).join(', ');
}

/**
 * The customer's last wait: since when it runs (`since`; null: nothing unanswered), else the agent's reply that
 * answered it (`answer`; null: none yet).
 */
function lastWait(messages: readonly Message[]): { since: number | null; answer: Message | null } {
  let since: number | null = null;
  let answer: Message | null = null;
  for (const m of messages) {
    if (m.direction === 'in') {
      since ??= m.at;
      answer = null;
    } else if (m.direction === 'out' && m.author.type === 'agent') {
      if (since !== null) answer = m;
      since = null;
    }
  }
  return { since, answer };
}

/** Since the customer's last message that nobody has answered yet (null: nothing unanswered). */
export function waitingSinceLastAsk(messages: readonly Message[]): number | null {
  return lastWait(messages).since;
}

/**
 * What a live card says of the customer's wait: how long so far and since when (Slack shows the time in the
 * reader's zone; the card is drawn again when the customer is answered or writes again), or who answered them.
 */
function waitField(messages: readonly Message[], now: number): string {
  const { since, answer } = lastWait(messages);
  if (since !== null) return `*Waiting so far*\n${duration(now - since)} (since ${slackDate(since)})`;
  if (!answer) return '*Waiting*\nnothing unanswered';
  const who = answer.author.name ? ` by *${escapeSlack(answer.author.name)}*` : '';
  return `*Waiting*\nno: answered${who} ${slackDate(answer.at)}`;
}

/** What an owner who went offline is told of their conversation that went back in line (card and thread). */
export const BACK_IN_LINE =
  'You went offline, so this conversation went back in line for the next free colleague.';

function roleLine(role: CardRole, view: ConversationView): string {
  switch (role.kind) {
    case 'owner':
      return 'You own this conversation. Reply in this thread; start a message with `note:` to keep it internal.';
    case 'cover':
      return `You are answering for *${escapeSlack(role.ownerName)}*, who stays the owner. Reply in this thread.`;
    case 'consult':
      return `*${escapeSlack(role.fromName)}* asked for your help. Write in this thread (\`note:\` for the team only); *${escapeSlack(view.ownerName ?? role.fromName)}* stays the owner.`;
    case 'offer':
      return `*${escapeSlack(role.fromName)}* offers you this conversation: “${escapeSlack(clip(role.note, 1500))}”. It becomes yours only if you accept.`;
    case 'declined':
      return 'You declined this hand-off.';
    case 'withdrawn':
      return `*${escapeSlack(role.ownerName)}* took this hand-off back; it stays theirs.`;
    case 'left':
      return 'You left this conversation.';
    case 'former':
      return `Now owned by *${escapeSlack(role.ownerName)}*. This thread no longer gets updates.`;
    case 'cover-ended':
      if (role.inLine)
        return 'Your cover ended: its owner is gone, and it waits for the next free colleague.';
      return role.back
        ? `Cover ended: *${escapeSlack(role.ownerName)}* is back; new messages go to them.`
        : `Your cover ended; *${escapeSlack(role.ownerName)}* stays the owner.`;
    case 'gone':
      return 'You left the team, so you no longer work on this conversation.';
    case 'in-line':
      return BACK_IN_LINE;
    case 'resolved': {
      if (role.blocked) return `:no_entry: ${blockedLine(customerLabel(view), role.blocked)}`;
      const { resolvedAt, followUpAt } = view.conversation;
      return `Resolved${role.byName ? ` by *${escapeSlack(role.byName)}*` : ''}${resolvedAt ? ` ${slackDate(resolvedAt)}` : ''}.${followUpAt !== null ? ` Follow-up due ${slackDate(followUpAt)}.` : ''}`;
    }
  }
}

/** What a blocked customer's thread and card say: who blocked them, and why (as given, escaped). */
export function blockedLine(customerName: string, blocked: { byName: string; reason: string }): string {
  const why = blocked.reason.trim() ? `: “${escapeSlack(clip(blocked.reason, 500))}”` : '';
  return `*${escapeSlack(blocked.byName)}* blocked *${escapeSlack(customerName)}*${why}. The conversation is closed; what they send is no longer routed.`;
}

/**
 * The card's buttons for the agent's part. `call`: **Call** too (calls go out here and the customer has a number;
 * the owner and a covering colleague may phone them).
 */
function roleActions(
  role: CardRole,
  conversationId: string,
  saved: readonly SavedReply[],
  call = false,
  blockable = true,
  handoffPending = false,
): Block | null {
  const button = (text: string, action_id: string, style?: 'primary' | 'danger'): types.Button => ({
    type: 'button',
    text: { type: 'plain_text', text },
    action_id,
    value: conversationId,
    ...(style ? { style } : {}),
  });
  // Those who may reply pick a saved reply here: a form with its text opens, to change and send (the option
  // names the conversation and the reply, as a select has no value of its own).
  const savedPicker = (): types.StaticSelect[] =>
    saved.length === 0
      ? []
      : [
          {
            type: 'static_select',
            action_id: ACTION.saved,
            placeholder: { type: 'plain_text', text: 'Saved reply' },
            options: saved.slice(0, 100).map((r) => ({
              text: { type: 'plain_text', text: clip(r.name, 75) },
              value: `${conversationId}#${r.name}`,
            })),
          },
        ];
  const actions = (elements: Array<types.Button | types.StaticSelect>): Block => ({
    type: 'actions',
    block_id: `card:${role.kind}`,
    elements,
  });
  switch (role.kind) {
    case 'owner': {
      const resolve = button('Resolve', ACTION.resolve, 'primary');
      resolve.confirm = {
        title: { type: 'plain_text', text: 'Resolve?' },
        text: {
          type: 'plain_text',
          text: 'It leaves your list, and your place goes to whoever waits next. If the customer writes again, it comes back to you first.',
        },
        confirm: { type: 'plain_text', text: 'Resolve' },
        deny: { type: 'plain_text', text: 'Not yet' },
      };
      return actions([
        resolve,
        button('Resolve with follow-up…', ACTION.followUp),
        button('Consult', ACTION.consult),
        // Offered and not yet answered: taken back here (the colleague may have no room to accept it).
        handoffPending ? button('Take back hand-off', ACTION.withdraw) : button('Hand off', ACTION.handoff),
        button('Promise', ACTION.promise),
        button('Details…', ACTION.details),
        ...(call ? [button('Call', ACTION.call)] : []),
        ...(blockable ? [button('Block…', ACTION.block, 'danger')] : []),
        ...savedPicker(),
      ]);
    }
    case 'consult':
      return actions([button('Promise', ACTION.promise), button('Leave', ACTION.leave), ...savedPicker()]);
    case 'cover':
      return actions([
        button('Promise', ACTION.promise),
        ...(call ? [button('Call', ACTION.call)] : []),
        ...savedPicker(),
      ]);
    case 'offer':
      return actions([
        button('Accept', ACTION.accept, 'primary'),
        button('Decline', ACTION.decline, 'danger'),
      ]);
    default:
      return null;
  }
}

/** The open promises a card lists one by one, each with its Mark kept when the agent may mark it. */
const PROMISES_LISTED = 10;

/** Whether `agentId` may mark the promise kept (as the router allows: the agent who made it, or the owner). */
export function keepable(p: CustomerPromise, agentId: string, ownerId: string | null): boolean {
  return p.kind === 'agent' && p.state === 'open' && (p.agentId === agentId || ownerId === agentId);
}

/** The button that marks an agent's promise kept (its value: the promise's id). */
export function keepButton(promiseId: string): types.Button {
  return {
    type: 'button',
    text: { type: 'plain_text', text: 'Mark kept' },
    action_id: ACTION.keep,
    value: promiseId,
  };
}

/** A line about a promise in a thread, with Mark kept when `keep` names the promise the agent may mark. */
export function promiseLine(text: string, keep: string | null): CardMessage {
  return {
    text,
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: clip(text, MAX_SECTION) },
        ...(keep ? { accessory: keepButton(keep) } : {}),
      },
    ],
  };
}

/**
 * The context card: who the customer is and what is known, so nobody asks twice. `agentId`: whose card it
 * is (their own open promises get Mark kept).
 */
export function card(
  view: ConversationView,
  role: CardRole,
  now: number,
  saved: readonly SavedReply[] = [],
  agentId: string | null = null,
  callsOut = false,
): CardMessage {
  const name = customerLabel(view);
  const conv = view.conversation;
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(name, 150) } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: clip(roleLine(role, view), MAX_SECTION) }] },
  ];
  // How long the customer has waited is said only on a card the agent still works from: a finished one (resolved,
  // handed on, cover ended, left) keeps no clock that reads as someone still waiting on it.
  const open = conv.status === 'assigned' || conv.status === 'queued';
  const live = ['owner', 'cover', 'consult', 'offer'].includes(role.kind) && open;
  blocks.push({
    type: 'section',
    fields: [
      {
        type: 'mrkdwn',
        text: `*Channels used*\n${channelList(view)} (last: ${CHANNEL_NAMES[conv.lastChannel]})`,
      },
      {
        type: 'mrkdwn',
        text: !live
          ? `*Status*\n${open ? (conv.status === 'queued' ? 'in line for a colleague' : 'with a colleague now') : conv.status === 'resolved' ? 'resolved' : 'closed'}`
          : waitField(view.messages, now),
      },
    ],
  });
  const facts = Object.entries(view.customer.facts);
  if (facts.length > 0) {
    const lines = facts.map(
      ([key, f]) =>
        `• *${escapeSlack(key)}*: ${escapeSlack(clip(f.value, 300))}  _(${escapeSlack(factSource(f.source))})_`,
    );
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(`*Already known — don't ask again*\n${lines.join('\n')}`, MAX_SECTION),
      },
    });
  }
  if (view.history.length > 0) {
    const lines = view.history.slice(0, 5).map((h) => {
      const who = h.ownerName ? `, ${escapeSlack(h.ownerName)}` : '';
      return `• ${slackDate(h.createdAt)}: ${h.status}${who}`;
    });
    const more = view.history.length > 5 ? `\n…and ${view.history.length - 5} more` : '';
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(`*Earlier conversations*\n${lines.join('\n')}${more}`, MAX_SECTION),
      },
      // Read one: what was said in it, to this agent alone (the newest 25, as a select holds at most 100).
      accessory: {
        type: 'static_select',
        action_id: ACTION.read,
        placeholder: { type: 'plain_text', text: 'Read one' },
        options: view.history.slice(0, 25).map((h) => ({
          text: { type: 'plain_text', text: clip(summaryText(h), 75) },
          value: h.id,
        })),
      },
    });
  }
  if (view.promises.length > 0) {
    const line = (p: CustomerPromise) => {
      const text = promiseOwnText(p);
      return `• ${promiseKind(p.kind)}${text ? `: ${escapeSlack(clip(text, 200))}` : ''} — due ${slackDate(p.dueAt)}`;
    };
    const mine = (p: CustomerPromise) =>
      agentId !== null && role.kind !== 'resolved' && keepable(p, agentId, conv.ownerId);
    if (!view.promises.some(mine)) {
      blocks.push({
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: clip(`*Open promises*\n${view.promises.map(line).join('\n')}`, MAX_SECTION),
        },
      });
    } else {
      // One section each, so that the agent's own carry their Mark kept.
      const listed = view.promises.slice(0, PROMISES_LISTED);
      const more = view.promises.length - listed.length;
      listed.forEach((p, i) => {
        const head = i === 0 ? '*Open promises*\n' : '';
        const tail = i === listed.length - 1 && more > 0 ? `\n…and ${more} more` : '';
        blocks.push({
          type: 'section',
          text: { type: 'mrkdwn', text: clip(`${head}${line(p)}${tail}`, MAX_SECTION) },
          ...(mine(p) ? { accessory: keepButton(p.id) } : {}),
        });
      });
    }
  }
  if (view.customer.notes.length > 0) {
    const lines = view.customer.notes.slice(-3).map((n) => `• ${escapeSlack(clip(n.text, 300))}`);
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*Notes*\n${lines.join('\n')}`, MAX_SECTION) },
    });
  }
  const phone = view.customer.identities.some((i) => i.channel === 'phone') || !!view.customer.facts.phone;
  // A caller who withheld their number cannot be blocked: their next call is someone new.
  const blockable = !withheldOnly(view.customer);
  if (role.kind === 'owner' && open && view.wrapUpUntil !== null && view.wrapUpUntil > now)
    blocks.push(...wrapUpBlocks(conv.id, view.wrapUpUntil));
  const actions = roleActions(role, conv.id, saved, callsOut && phone, blockable, conv.handoff !== null);
  if (actions) blocks.push(actions);
  return { text: cardText(name, role, view), blocks };
}

/**
 * The owner's after-call work: until when (a time, redrawn when it moves, never a clock ticking on the card), with
 * More time and Done.
 */
function wrapUpBlocks(conversationId: string, until: number): Block[] {
  const button = (text: string, action_id: string, style?: 'primary'): types.Button => ({
    type: 'button',
    text: { type: 'plain_text', text },
    action_id,
    value: conversationId,
    ...(style ? { style } : {}),
  });
  return [
    {
      type: 'section',
      block_id: 'wrapup',
      text: {
        type: 'mrkdwn',
        text: `*After-call work* until ${slackTime(until)}: then it is resolved for you, and the next caller rings you.`,
      },
    },
    {
      type: 'actions',
      block_id: 'card:wrapup',
      elements: [button('More time', ACTION.wrapUpMore, 'primary'), button('Done', ACTION.wrapUpDone)],
    },
  ];
}

/**
 * The card's notification (and fallback) text: names escaped like any customer text, since a name a visitor typed
 * could otherwise mention `@channel` or fake a link in a notification.
 */
function cardText(rawName: string, role: CardRole, view: ConversationView): string {
  const channel = CHANNEL_NAMES[view.conversation.lastChannel];
  const name = escapeSlack(rawName);
  switch (role.kind) {
    case 'owner':
      return `${name} (${channel}) is yours`;
    case 'cover':
      return `Answer ${name} (${channel}) for ${escapeSlack(role.ownerName)}`;
    case 'consult':
      return `${escapeSlack(role.fromName)} asks for your help with ${name} (${channel})`;
    case 'offer':
      return `${escapeSlack(role.fromName)} offers you ${name} (${channel})`;
    default:
      return `${name} (${channel})`;
  }
}

function promiseKind(kind: string): string {
  switch (kind) {
    case 'wait':
      return 'Answer within the quoted wait';
    case 'callback':
      return 'Call back';
    case 'follow-up':
      return 'Follow up';
    default:
      return 'Promise';
  }
}

/** A link Slack's mrkdwn can carry as `<url|label>`. */
const SLACK_LINKABLE = /^https?:\/\/[^\s|<>]+$/;

/**
 * One message as a line in a thread, at most about `max` characters: a longer text is cut (never inside an
 * escape or an emoji) and says how much more there is and where to read it all.
 */
export function messageLine(
  m: ShownMessage,
  customerName: string,
  max = LINE_MAX,
  original: 'link' | 'button' = 'link',
): string {
  const channel = CHANNEL_NAMES[m.channel] ?? m.channel;
  const extra: string[] = [];
  if (m.subject) extra.push(`_Subject: ${escapeSlack(clip(m.subject, 200))}_`);
  for (const a of m.attachments) {
    // A link when it has one (a kept email attachment, a text's media): Slack opens it in the browser.
    const name = escapeSlack(a.name).replace(/\|/g, '¦');
    const label = a.url && SLACK_LINKABLE.test(a.url) ? `<${a.url}|${name}>` : name;
    extra.push(`:paperclip: ${label} (${escapeSlack(a.type)})`);
  }
  // An email as the customer sent it, before its quoted history and signature were left out (email/original.ts):
  // a link (shown to one agent alone, fresh), or in a thread a Show original button under the line, which
  // answers with a fresh link whenever it is pressed.
  if (m.originalNotKept === 'too_large')
    extra.push(':envelope: _No original: the mail was too large to keep as received._');
  else if (original === 'link' && m.original && SLACK_LINKABLE.test(m.original))
    extra.push(`:envelope: <${m.original}|Show original>`);
  const tail = extra.length > 0 ? `\n${extra.join('\n')}` : '';
  // Room for the heading, the attachments and the note of what is left out.
  const shown = escapedUpTo(m.text, Math.max(500, max - tail.length - 250));
  const body =
    shown.left === 0
      ? shown.text
      : `${shown.text}…\n_(${count(shown.left)} more characters not shown: too long for Slack. Read the whole message in the web console.)_`;
  switch (m.direction) {
    case 'in':
      return `:speech_balloon: *${escapeSlack(customerName)}* · ${channel}\n${body}${tail}`;
    case 'out': {
      const who =
        m.author.type === 'agent' ? `*${escapeSlack(m.author.name ?? 'An agent')}*` : '_Switchboard_';
      return `${who} → customer · ${channel}\n${body}${tail}`;
    }
    case 'internal':
      if (m.author.type === 'system') return `:information_source: ${body}`;
      return `:memo: *${escapeSlack(m.author.name ?? 'An agent')}* (internal note)\n${body}`;
  }
}

/** An earlier conversation in plain words (a select's option, a transcript's heading): when, where, how it ended. */
export function summaryText(h: ConversationSummary): string {
  const when = `${new Date(h.createdAt).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const who = h.ownerName ? ` with ${h.ownerName}` : '';
  return `${when} · ${CHANNEL_NAMES[h.lastChannel] ?? h.lastChannel} · ${h.status}${who}`;
}

/** The conversation so far, in as few messages as fit (each at most ~3,500 characters), the first under `heading`. */
export function transcript(
  messages: readonly ShownMessage[],
  customerName: string,
  heading = '*So far:*',
): string[] {
  return transcriptParts(messages, customerName, heading, 'link').map((p) => p.text);
}

/**
 * The conversation so far as posts in a thread, as `transcript` cuts it: each with a Show original button for
 * every customer email in it whose original is kept (`threadPost`).
 */
export function threadTranscript(
  messages: readonly ShownMessage[],
  customerName: string,
): Array<string | { text: string; blocks: Block[] }> {
  return transcriptParts(messages, customerName, '*So far:*', 'button').map((p) =>
    threadPost(p.text, p.emails),
  );
}

function transcriptParts(
  messages: readonly ShownMessage[],
  customerName: string,
  heading: string,
  original: 'link' | 'button',
): Array<{ text: string; emails: ShownMessage[] }> {
  const parts: Array<{ text: string; emails: ShownMessage[] }> = [];
  let current = { text: '', emails: [] as ShownMessage[] };
  for (const m of messages) {
    const line = clip(messageLine(m, customerName, 3400, original), 3400);
    if (current.text && current.text.length + line.length + 2 > 3500) {
      parts.push(current);
      current = { text: '', emails: [] };
    }
    current.text = current.text ? `${current.text}\n\n${line}` : line;
    if (m.original) current.emails.push(m);
  }
  if (current.text) parts.push(current);
  if (parts.length > 0) parts[0]!.text = `${heading}\n${parts[0]!.text}`;
  return parts;
}

/**
 * A post in a thread: its text, and under it a Show original button for each of `emails` (customer emails whose
 * original is kept; the button's value names the message), which answers the agent who presses it with a fresh
 * link. Without emails, the text alone. The text goes in sections of at most 3,000 characters (Slack's), cut
 * between lines.
 */
export function threadPost(
  text: string,
  emails: readonly ShownMessage[],
): string | { text: string; blocks: Block[] } {
  if (emails.length === 0) return text;
  const sections: Block[] = sectionsOf(text).map((piece) => ({
    type: 'section',
    text: { type: 'mrkdwn', text: piece },
  }));
  const buttons = emails.slice(0, 25).map((m) => ({
    type: 'button' as const,
    action_id: ACTION.original,
    text: {
      type: 'plain_text' as const,
      text:
        emails.length === 1
          ? 'Show original'
          : clip(`Show original: ${m.subject?.trim() || m.text.trim() || slackDateText(m.at)}`, 75),
    },
    value: m.id,
  }));
  return { text, blocks: [...sections, { type: 'actions', block_id: 'original', elements: buttons }] };
}

/** A time as plain text (a button cannot show Slack's dates): `2026-01-05 11:02 UTC`. */
function slackDateText(at: number): string {
  return `${new Date(at).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `text` in pieces of at most 3,000 characters, cut after a line where it can, else after a space. */
function sectionsOf(text: string, max = 3000): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const head = rest.slice(0, max);
    const line = head.lastIndexOf('\n');
    const at = line > max / 2 ? line : head.lastIndexOf(' ');
    const cut = at > max / 2 ? at + 1 : max;
    pieces.push(cutAt(rest, cut));
    rest = rest.slice(pieces.at(-1)!.length);
  }
  if (rest) pieces.push(rest);
  return pieces;
}

/** A colleague a picker offers: every agent on the team but the one picking, whether in Slack or the web console. */
export interface Colleague {
  id: string;
  name: string;
  status: 'available' | 'away';
}

/** The most options a static select's group takes in Slack, and the most an options request is answered with. */
const GROUP_MAX = 100;

type OptionGroup = { label: types.PlainTextElement; options: types.PlainTextOption[] };

/**
 * Colleagues as a select's option groups, available first, then away (offline ones cannot take a conversation
 * and are not offered); each named as Switchboard knows them (a colleague who works in the web console has no
 * Slack account to pick). At most `max` options in all. Empty when there is nobody to offer.
 */
function colleagueGroups(colleagues: readonly Colleague[], max = Number.POSITIVE_INFINITY): OptionGroup[] {
  let room = max;
  return (['available', 'away'] as const)
    .map((status) => {
      const options = colleagues
        .filter((c) => c.status === status)
        .slice(0, Math.max(0, room))
        .map((c) => ({
          text: {
            type: 'plain_text' as const,
            text: clip(`${c.name}${status === 'away' ? ' (away)' : ''}`, 75),
          },
          value: c.id,
        }));
      room -= options.length;
      return {
        label: { type: 'plain_text' as const, text: status === 'available' ? 'Available' : 'Away' },
        options,
      };
    })
    .filter((g) => g.options.length > 0);
}

/**
 * The select a colleague is picked from: the team in a static select while each group fits one (Slack takes
 * 100 options a group); a larger team in a searchable select whose options Switchboard gives as the agent types
 * (`colleagueOptions`, Slack's options requests to the same URL). Null when there is nobody to offer.
 */
function colleagueSelect(
  actionId: string,
  colleagues: readonly Colleague[],
): types.StaticSelect | types.ExternalSelect | null {
  const groups = colleagueGroups(colleagues);
  if (groups.length === 0) return null;
  const placeholder = { type: 'plain_text' as const, text: 'Pick a colleague' };
  if (groups.every((g) => g.options.length <= GROUP_MAX))
    return { type: 'static_select', action_id: actionId, placeholder, option_groups: groups };
  return {
    type: 'external_select',
    action_id: actionId,
    placeholder: { type: 'plain_text', text: 'Type a colleague’s name' },
    // Opened, it lists the first of the team at once; each letter typed narrows it.
    min_query_length: 0,
  };
}

/** Letters as compared when searching names: lower case, accents off ("José" is found by "jose"). */
function folded(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/**
 * The answer to a colleague select's options request: the colleagues whose name holds what the agent typed
 * (in any case, accents aside), grouped as the static select groups them, at most 100 in all.
 */
export function colleagueOptions(
  colleagues: readonly Colleague[],
  typed: string,
): { option_groups: OptionGroup[] } | { options: [] } {
  const wanted = folded(typed.trim());
  const groups = colleagueGroups(
    colleagues.filter((c) => folded(c.name).includes(wanted)),
    GROUP_MAX,
  );
  return groups.length > 0 ? { option_groups: groups } : { options: [] };
}

/** A consult picker that can no longer be used, and why (the conversation ended, or is no longer theirs). */
export function closedPicker(why: string): CardMessage {
  const text = `Consult: ${why}`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(text, MAX_SECTION) } }] };
}

/** Consult: pick the colleague (a select of the team in the thread; said so when there is nobody to ask). */
export function consultPicker(
  conversationId: string,
  customerName: string,
  colleagues: readonly Colleague[],
): CardMessage {
  const select = colleagueSelect(ACTION.consultPick, colleagues);
  if (!select)
    return closedPicker(
      'nobody else on the team can be asked now (everyone else is offline). Try again when a colleague is back.',
    );
  return {
    text: 'Who should help?',
    blocks: [
      {
        type: 'section',
        block_id: `consult:${conversationId}`,
        text: {
          type: 'mrkdwn',
          text: `Who should help with *${escapeSlack(customerName)}*? They join this conversation (in Slack or the web console, wherever they work); you stay the owner.`,
        },
        accessory: select,
      },
    ],
  };
}

/** A form about a conversation (its id rides along as the view's private metadata), with Cancel. */
/** A form; with no `submit` (null), one that only says something, closed with Close. */
function modal(
  callbackId: string,
  conversationId: string,
  title: string,
  submit: string | null,
  blocks: types.ModalView['blocks'],
): types.ModalView {
  return {
    type: 'modal',
    callback_id: callbackId,
    private_metadata: conversationId,
    title: { type: 'plain_text', text: title },
    ...(submit !== null ? { submit: { type: 'plain_text', text: submit } } : {}),
    close: { type: 'plain_text', text: submit !== null ? 'Cancel' : 'Close' },
    blocks,
  };
}

/** A form's text field (FIELD's block and action ids), at most `max` characters. */
function textInput(
  field: { block: string; action: string },
  label: string,
  max: number,
  options: { multiline?: boolean; optional?: boolean; initial?: string } = {},
): types.InputBlock {
  return {
    type: 'input',
    block_id: field.block,
    ...(options.optional ? { optional: true } : {}),
    label: { type: 'plain_text', text: label },
    element: {
      type: 'plain_text_input',
      action_id: field.action,
      ...(options.multiline ? { multiline: true } : {}),
      max_length: max,
      ...(options.initial !== undefined ? { initial_value: options.initial } : {}),
    },
  };
}

/**
 * Hand off: to whom (a select of the team: a colleague in the web console too), and a note for them. With nobody
 * to offer it to, a form that says so, with no Offer.
 */
export function handoffModal(
  conversationId: string,
  customerName: string,
  colleagues: readonly Colleague[],
): types.ModalView {
  const select = colleagueSelect(FIELD.handoffTarget.action, colleagues);
  const name = escapeSlack(clip(customerName, 200));
  if (!select) {
    return modal(VIEW.handoff, conversationId, 'Hand off', null, [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `Nobody else on the team can take *${name}* now: everyone else is offline. It stays yours.`,
        },
      },
    ]);
  }
  return modal(VIEW.handoff, conversationId, 'Hand off', 'Offer', [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `Offer *${name}* to a colleague (in Slack or the web console, wherever they work). It stays yours until they accept.`,
      },
    },
    {
      type: 'input',
      block_id: FIELD.handoffTarget.block,
      label: { type: 'plain_text', text: 'To' },
      element: select,
    },
    textInput(FIELD.handoffNote, 'What they need to know', 2000, { multiline: true }),
  ]);
}

/**
 * Resolve with a follow-up: when (tomorrow morning, in 3 days, next week, each shown in the reader's time zone,
 * or a date and time picked), and what resolving does. `choices`: followup.ts `followUpChoices`.
 */
export function followUpModal(
  conversationId: string,
  customerName: string,
  channel: string,
  choices: ReadonlyArray<{ value: string; label: string; at: number }>,
  now: number,
): types.ModalView {
  const options = [
    ...choices.map((c) => ({
      text: { type: 'mrkdwn' as const, text: `*${c.label}* · ${slackDate(c.at)}` },
      value: c.value,
    })),
    { text: { type: 'mrkdwn' as const, text: '*On a date and time I pick* (below)' }, value: PICK },
  ];
  return modal(VIEW.followUp, conversationId, 'Resolve, follow up', 'Resolve', [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text:
          `Resolve *${escapeSlack(clip(customerName, 200))}* now: it leaves your list, and your place goes to whoever waits next. ` +
          `At the follow-up time, a new conversation opens to reach out to them (by ${channel}), offered to you first. ` +
          'If they write before then, it comes back to you first.',
      },
    },
    {
      type: 'input',
      block_id: FIELD.followUpWhen.block,
      label: { type: 'plain_text', text: 'Follow up' },
      element: {
        type: 'radio_buttons',
        action_id: FIELD.followUpWhen.action,
        options,
        ...(options[0] ? { initial_option: options[0] } : {}),
      },
    },
    {
      type: 'input',
      block_id: FIELD.followUpAt.block,
      optional: true,
      label: { type: 'plain_text', text: 'Date and time (when you pick one)' },
      element: {
        type: 'datetimepicker',
        action_id: FIELD.followUpAt.action,
        initial_date_time: Math.floor(now / 1000) + 24 * 3600,
      },
    },
  ]);
}

/**
 * A saved reply to change and send: its text in a box (Send replies to the customer on their channel). One
 * longer than Slack's forms take (saved replies may have 4,000 characters) cannot be put in a box, which
 * Slack would refuse, nor cut, which would send less than the team wrote: the form says so, where it can be
 * sent, and shows the text to read or copy, with no Send.
 */
export function savedReplyModal(conversationId: string, reply: SavedReply): types.ModalView {
  if (reply.text.length <= FORM_TEXT_MAX) {
    return modal(VIEW.savedReply, conversationId, 'Saved reply', 'Send', [
      textInput(FIELD.replyText, `${reply.name}: change what you need, then Send`, FORM_TEXT_MAX, {
        multiline: true,
        initial: reply.text,
      }),
    ]);
  }
  const parts: string[] = [];
  for (let rest = reply.text; rest.length > 0; ) {
    const part = cutAt(rest, MAX_SECTION);
    parts.push(part);
    rest = rest.slice(part.length);
  }
  return modal(VIEW.savedReply, conversationId, 'Saved reply', null, [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text:
          `*${escapeSlack(clip(reply.name, 200))}* is ${count(reply.text.length)} characters long, longer than ` +
          `Slack's forms take (${count(FORM_TEXT_MAX)} characters), so it cannot be changed and sent from here. ` +
          'Pick it in the web console and send it there, or copy it from below into the thread as your reply.',
      },
    },
    { type: 'divider' },
    ...parts.map(
      (part): Block => ({ type: 'section', text: { type: 'plain_text', text: part, emoji: false } }),
    ),
  ]);
}

export function promiseModal(conversationId: string, now: number): types.ModalView {
  return modal(VIEW.promise, conversationId, 'Promise', 'Promise', [
    textInput(FIELD.promiseText, 'What you promise the customer', 1000),
    {
      type: 'input',
      block_id: FIELD.promiseDue.block,
      label: { type: 'plain_text', text: 'By when' },
      element: {
        type: 'datetimepicker',
        action_id: FIELD.promiseDue.action,
        initial_date_time: Math.floor(now / 1000) + 3600,
      },
    },
  ]);
}

/** Blocking the conversation's customer: what it does, and why (optional, kept in the customer's notes). */
export function blockModal(conversationId: string, customerName: string): types.ModalView {
  return modal(VIEW.block, conversationId, 'Block customer', 'Block and close', [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text:
          `Block *${escapeSlack(customerName)}*: what they send on any channel is no longer routed, stored or ` +
          'answered, and their open conversations close. The admin can lift it.',
      },
    },
    textInput(FIELD.blockReason, "Why (colleagues see it in the customer's notes)", 500, { optional: true }),
  ]);
}

/** What the customer told the agent about themselves: name, email, phone (each optional; one is needed). */
export function detailsModal(conversationId: string, customerName: string): types.ModalView {
  return modal(VIEW.details, conversationId, 'Customer details', 'Save', [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text:
          `What *${escapeSlack(customerName)}* told you about themselves, kept so that nobody asks again. An ` +
          'email address or a phone number is linked to them: a caller who hid their number can then be called ' +
          'or texted back.',
      },
    },
    textInput(FIELD.detailsName, 'Name', 200, { optional: true }),
    textInput(FIELD.detailsEmail, 'Email address', 320, { optional: true }),
    textInput(FIELD.detailsPhone, 'Phone number', 32, { optional: true }),
  ]);
}

/** Writing to a customer first (the home tab's button): by text or email, to whom, what (an email's subject). */
export function writeModal(channels: ReadonlyArray<'sms' | 'email'>): types.ModalView {
  const options = channels.map((c) => ({
    text: { type: 'plain_text' as const, text: WRITE_BY[c] },
    value: c,
  }));
  return modal(VIEW.write, '', 'Write to a customer', 'Send', [
    {
      type: 'input',
      block_id: FIELD.writeBy.block,
      label: { type: 'plain_text', text: 'By' },
      element: {
        type: 'static_select',
        action_id: FIELD.writeBy.action,
        options,
        ...(options[0] ? { initial_option: options[0] } : {}),
      },
    },
    textInput(FIELD.writeTo, 'To (a phone number or email address)', 320),
    textInput(FIELD.writeSubject, 'Subject (email; else its first line)', 200, { optional: true }),
    textInput(FIELD.writeText, 'Message', 3000, { multiline: true }),
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: 'The conversation is yours: its card comes to your DMs, and their answer to its thread.',
        },
      ],
    },
  ]);
}

export interface HomeConversation {
  name: string;
  channel: string;
  role: string;
  waitingMs: number | null;
  link: string | null;
}

export function homeView(input: {
  agent: Agent | null;
  slackUserId: string;
  conversations: HomeConversation[];
  figures: AgentFigures | null;
  /** The channels the agent may write to a customer first on: the button, when any. */
  writesOn?: ReadonlyArray<'sms' | 'email'>;
}): types.HomeView {
  const { agent } = input;
  if (!agent) {
    return {
      type: 'home',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Switchboard' } },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: `Your Slack account is not linked to a Switchboard agent yet. An admin links it with \`PATCH /api/agents/<id>\` and \`{"slackUserId": "${escapeSlack(input.slackUserId)}"}\`.`,
          },
        },
      ],
    };
  }
  const statuses = ['available', 'away', 'offline'] as const;
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: `Switchboard — ${clip(agent.name, 120)}` } },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `You are *${agent.status}*${agent.statusReason ? ` (${escapeSlack(agent.statusReason)})` : ''}.`,
      },
    },
    {
      type: 'actions',
      block_id: 'home:status',
      elements: statuses.map((s) => ({
        type: 'button' as const,
        text: { type: 'plain_text' as const, text: s[0]!.toUpperCase() + s.slice(1) },
        action_id: `${ACTION.status}_${s}`,
        value: s,
        ...(agent.status === s ? { style: 'primary' as const } : {}),
      })),
    },
    { type: 'divider' },
    { type: 'header', text: { type: 'plain_text', text: 'Your conversations' } },
  ];
  if (input.conversations.length === 0) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: 'Nothing open right now.' }] });
  }
  if ((input.writesOn ?? []).length > 0) {
    blocks.push({
      type: 'actions',
      block_id: 'home:write',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Write to a customer…' },
          action_id: ACTION.write,
        },
      ],
    });
  }
  for (const c of input.conversations.slice(0, 40)) {
    const wait = c.waitingMs === null ? '' : ` · waiting ${duration(c.waitingMs)}`;
    const link = c.link ? ` — <${c.link}|open the thread>` : '';
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(`*${escapeSlack(c.name)}* · ${c.channel} · ${c.role}${wait}${link}`, MAX_SECTION),
      },
    });
  }
  blocks.push({ type: 'divider' });
  blocks.push({ type: 'header', text: { type: 'plain_text', text: 'Today' } });
  if (input.figures) blocks.push({ type: 'section', fields: figureFields(input.figures) });
  return { type: 'home', blocks };
}

function figureFields(f: AgentFigures): types.MrkdwnElement[] {
  return [
    { type: 'mrkdwn', text: `*Taken*\n${f.taken}` },
    { type: 'mrkdwn', text: `*Resolved*\n${f.resolved}` },
    { type: 'mrkdwn', text: `*Open now*\n${f.open}` },
    { type: 'mrkdwn', text: `*Handed off*\n${f.handedOff}` },
    {
      type: 'mrkdwn',
      text: `*First reply (median)*\n${f.firstReplySeconds === null ? '—' : duration(f.firstReplySeconds * 1000)}`,
    },
    { type: 'mrkdwn', text: `*Promises kept / broken*\n${f.promisesKept} / ${f.promisesBroken}` },
  ];
}

export function statsMessage(agent: Agent, f: AgentFigures): CardMessage {
  return {
    text: `Today: ${f.taken} taken, ${f.resolved} resolved, ${f.open} open`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${escapeSlack(agent.name)}, today*` } },
      { type: 'section', fields: figureFields(f) },
    ],
  };
}

export function queueMessage(waiting: Waiting[]): CardMessage {
  if (waiting.length === 0) return { text: 'Nothing is waiting that you can serve.', blocks: [] };
  const lines = waiting.map((w) => {
    const eta = w.etaSeconds === null ? '' : `, a person expected within ${duration(w.etaSeconds * 1000)}`;
    const pos = w.position === null ? '' : ` · #${w.position} in line`;
    return `• *${escapeSlack(w.customerName)}* · ${CHANNEL_NAMES[w.conversation.lastChannel]} · waiting ${duration(w.waitedMs)}${pos}${eta}`;
  });
  return {
    text: `${waiting.length} waiting that you can serve`,
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: clip(`*Waiting that you can serve (${waiting.length})*\n${lines.join('\n')}`, MAX_SECTION),
        },
      },
    ],
  };
}

/** The longest waits `/switchboard team` lists. */
const TEAM_WAITS_SHOWN = 10;
/** The most sections its agents take (Slack takes 50 blocks in a message). */
const TEAM_AGENT_SECTIONS = 40;

function teamWait(w: LiveWaiting, now: number): string {
  const told = !w.quoted
    ? ''
    : w.quoted.late
      ? ` · *${w.quoted.kind === 'callback' ? 'call back ' : ''}late by ${duration(now - w.quoted.dueAt)}*`
      : ` · told ${w.quoted.kind === 'callback' ? 'a call back ' : ''}by ${slackDate(w.quoted.dueAt)}`;
  const who = w.owner
    ? ` · for ${escapeSlack(w.owner.name)} (owner, ${w.owner.status ?? 'gone'})`
    : w.offeredTo
      ? ` · ringing ${escapeSlack(w.offeredTo.name)}`
      : '';
  return `• *${escapeSlack(w.customer)}* · ${CHANNEL_NAMES[w.channel]} · waiting ${duration(w.waitedSeconds * 1000)}${told}${who}`;
}

/** An agent's line in the team summary: what they hold of their room on the channels this deployment takes. */
function teamAgent(a: LiveAgent, on: (c: Channel) => boolean): string {
  const held = CHANNELS.filter((c) => (on(c) && a.capacity[c] > 0) || a.load[c] > 0)
    .map((c) => `${CHANNEL_NAMES[c]} ${a.load[c]}/${on(c) ? a.capacity[c] : 'off'}`)
    .join(', ');
  const idle = a.idleSeconds === null ? '' : ` · idle ${duration(a.idleSeconds * 1000)}`;
  const reason = a.statusReason ? ` (${escapeSlack(a.statusReason)})` : '';
  const wrapUp = a.wrapUp ? ` · after-call work until ${slackTime(a.wrapUp.until)}` : '';
  // What they resolved in the last 24 hours, and their average handle time (as the /team page shows).
  const day =
    a.day.resolved === 0
      ? ''
      : ` · resolved ${a.day.resolved} (24h)${a.day.averageHandleSeconds === null ? '' : `, handle ${duration(a.day.averageHandleSeconds * 1000)} on average`}`;
  return `• ${escapeSlack(a.name)}${reason}${held ? ` · ${held}` : ''}${wrapUp}${idle}${day}`;
}

/** A channel's service level over the last 24 hours, as the /team page says it ('' when nothing counted yet). */
function serviceLevelLine(view: LiveView, channel: Channel): string {
  const sl = view.day.channels[channel].serviceLevel;
  if (sl.share === null) return '';
  const said = `${Math.round(sl.share * 100)}% answered within ${duration(sl.targetSeconds * 1000)} (24h)`;
  return ` · ${sl.share < view.day.serviceLevelGoal ? `:warning: *${said}*` : said}`;
}

/** `/switchboard team`: the team's live view in Slack (what the /team page shows). */
export function teamMessage(view: LiveView): CardMessage {
  const channels = CHANNELS.filter((c) => {
    const ch = view.channels[c];
    return (
      ch.waiting > 0 ||
      ch.inProgress > 0 ||
      (ch.on !== false && ch.agentsFree > 0) ||
      view.day.channels[c].serviceLevel.share !== null
    );
  }).map((c) => {
    const ch = view.channels[c];
    const waiting =
      ch.waiting === 0
        ? 'nobody waiting'
        : `*${ch.waiting} waiting*, longest ${duration((ch.longestWaitSeconds ?? 0) * 1000)}`;
    const free =
      ch.agentsFree === 0
        ? 'nobody free'
        : `${ch.agentsFree} free (${ch.freeSlots} ${ch.freeSlots === 1 ? 'slot' : 'slots'})`;
    return `• ${CHANNEL_NAMES[c]}: ${waiting} · ${free} · ${ch.inProgress} in progress${serviceLevelLine(view, c)}`;
  });
  const late = view.waiting.filter((w) => w.quoted?.late).length;
  const closed =
    view.hours && !view.hours.open
      ? view.hours.opensInSeconds === null
        ? 'Closed: the opening hours open on no day.\n'
        : `Closed now: opens in ${duration(view.hours.opensInSeconds * 1000)}.\n`
      : '';
  const head = `${closed}${
    view.waitingTotal === 0
      ? 'Nobody is waiting.'
      : `*${view.waitingTotal} waiting*${late > 0 ? ` · :warning: ${late} past the wait they were told` : ''}`
  }`;
  // The first to be served (the live view's order).
  const waits = view.waiting.slice(0, TEAM_WAITS_SHOWN).map((w) => teamWait(w, view.at));
  const more = view.waitingTotal - waits.length;
  const lines = (['available', 'away', 'offline'] as const).flatMap((status) => {
    const agents = view.agents.filter((a) => a.status === status);
    const title = `*${status[0]!.toUpperCase()}${status.slice(1)} (${agents.length})*`;
    // Offline agents holding nothing are only counted.
    const listed = status === 'offline' ? agents.filter((a) => a.holding > 0) : agents;
    return [title, ...listed.map((a) => teamAgent(a, (c) => view.channels[c].on))];
  });
  // The agents over as many sections as they need (one holds MAX_SECTION characters), within Slack's 50 blocks.
  const agentSections: string[] = [];
  let shown = 0;
  for (const line of lines) {
    const last = agentSections.at(-1);
    if (last !== undefined && last.length + 1 + line.length <= MAX_SECTION)
      agentSections[agentSections.length - 1] = `${last}\n${line}`;
    else if (agentSections.length < TEAM_AGENT_SECTIONS) agentSections.push(line);
    else break;
    shown++;
  }
  if (shown < lines.length) {
    const more = `…and ${lines.length - shown} more lines: the /team page lists everyone.`;
    agentSections[agentSections.length - 1] =
      `${cutAt(agentSections.at(-1)!, MAX_SECTION - more.length - 1)}\n${more}`;
  }
  const section = (text: string): Block => ({
    type: 'section',
    text: { type: 'mrkdwn', text: clip(text, MAX_SECTION) },
  });
  return {
    text:
      view.waitingTotal === 0 ? 'The team now: nobody waiting' : `The team now: ${view.waitingTotal} waiting`,
    blocks: [
      section(`*The team now*\n${head}${channels.length > 0 ? `\n${channels.join('\n')}` : ''}`),
      ...(waits.length > 0
        ? [section(`*Next in line*\n${waits.join('\n')}${more > 0 ? `\n…and ${more} more` : ''}`)]
        : []),
      ...agentSections.map(section),
    ],
  };
}

export const USAGE =
  'Usage: `/switchboard available`, `/switchboard away`, `/switchboard offline`, `/switchboard queue` (what waits that you can serve), `/switchboard stats` (your figures today), `/switchboard team` (who waits and the whole team now), `/switchboard write <phone number or email address> <message>` (write to a customer first: the conversation is yours).';
