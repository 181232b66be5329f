// Text between Slack and the customer. Slack sends `&`, `<`, `>` escaped and
// wraps mentions and links in angle brackets; the customer gets plain text. Text
// a customer wrote is escaped before it goes into Slack, so it can never mention
// `@channel` or fake a link.
import { createRequire } from 'node:module';

/** Customer (or any outside) text made safe for Slack mrkdwn. */
export function escapeSlack(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Slack's emoji names (those of iamcal's emoji-data, which Slack uses): name → the emoji, read once. */
let EMOJI: Map<string, string> | null = null;
function emojiByName(): Map<string, string> {
  if (EMOJI) return EMOJI;
  const byCode = createRequire(import.meta.url)('emojibase-data/en/shortcodes/iamcal.json') as Record<
    string,
    string | string[]
  >;
  EMOJI = new Map();
  for (const [hexcode, names] of Object.entries(byCode)) {
    const emoji = String.fromCodePoint(...hexcode.split('-').map((h) => Number.parseInt(h, 16)));
    for (const name of Array.isArray(names) ? names : [names]) EMOJI.set(name, emoji);
  }
  return EMOJI;
}

/** `:skin-tone-2:` to `:skin-tone-6:`: the Fitzpatrick modifiers Slack appends to an emoji name. */
const SKIN_TONES: Record<string, string> = {
  '2': '\u{1F3FB}',
  '3': '\u{1F3FC}',
  '4': '\u{1F3FD}',
  '5': '\u{1F3FE}',
  '6': '\u{1F3FF}',
};

/**
 * What an agent wrote in Slack, as plain text for the customer: links as their text (and address), a colleague
 * mentioned by name (`names`: Slack user id → the agent's name; "a colleague" when unknown), `@channel` and the
 * like left out, emoji names (`:+1:`, `:tada::skin-tone-3:`) as the emoji, and Slack's *bold*, _italic_,
 * ~strike~ and `code` marks taken off. A custom emoji of the workspace stays as its name.
 */
export function slackToPlain(
  text: string,
  names: (userId: string) => string | undefined = () => undefined,
): string {
  const plain = text.replace(/<([^<>]*)>/g, (_whole, inner: string) => {
    const bar = inner.indexOf('|');
    const target = bar >= 0 ? inner.slice(0, bar) : inner;
    const label = bar >= 0 ? inner.slice(bar + 1) : '';
    if (target.startsWith('@')) return names(target.slice(1)) ?? (label || 'a colleague');
    if (target.startsWith('#')) return label ? `#${label}` : '';
    if (target.startsWith('!')) {
      const special = target.slice(1).split('^')[0] ?? '';
      if (special === 'date') return label || '';
      return label;
    }
    if (target.startsWith('mailto:')) return label || target.slice('mailto:'.length);
    if (target.startsWith('tel:')) return label || target.slice('tel:'.length);
    if (!label || label === target) return target;
    return `${label} (${target})`;
  });
  const emoji = emojiByName();
  const unmarked = plain
    // Code blocks and spans: their text.
    .replace(/```\n?([\s\S]*?)\n?```/g, '$1')
    .replace(/`([^`\n]+)`/g, '$1')
    // Marks at word edges, as Slack reads them: *bold*, _italic_, ~strike~.
    .replace(/(^|[\s(["'])([*_~])(?=\S)([^\n]*?\S)\2(?=$|[\s.,;:!?)\]"'])/gm, '$1$3')
    .replace(/:([a-z0-9_+-]+):(?::skin-tone-([2-6]):)?/g, (whole, name: string, tone?: string) => {
      const found = emoji.get(name);
      if (!found) return whole;
      return tone ? `${found.replace(/\uFE0F$/, '')}${SKIN_TONES[tone]}` : found;
    });
  return unmarked.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&').trim();
}

/** The Slack users a message mentions (`<@U…>`), to name them (`slackToPlain`'s `names`). */
export function mentionedUsers(text: string): string[] {
  return [...new Set([...text.matchAll(/<@([A-Z0-9]+)(?:\|[^>]*)?>/g)].map((m) => m[1]!))];
}

const NOTE = /^\s*note\s*:\s*/i;

/** `note: …` stays internal: the note's text, or null when the message is a reply. */
export function noteText(text: string): string | null {
  return NOTE.test(text) ? text.replace(NOTE, '') : null;
}

/** At most `max` characters, marking a cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 14)}… (truncated)`;
}

/** At most `max` UTF-16 units of `text`, never half of a surrogate pair (an emoji cut in two). */
export function cutAt(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/**
 * Outside text escaped for Slack (`escapeSlack`) in at most `max` characters: as much of it from the start as
 * fits whole, so an escape (`&amp;`) or an emoji is never cut in two. `left`: how many characters of `text`
 * did not fit (0: all of it).
 */
export function escapedUpTo(text: string, max: number): { text: string; left: number } {
  let size = 0;
  let end = 0;
  while (end < text.length) {
    const code = text.charCodeAt(end);
    const width = code >= 0xd800 && code <= 0xdbff && end + 1 < text.length ? 2 : 1;
    const grows = code === 38 ? 5 : code === 60 || code === 62 ? 4 : width;
    if (size + grows > max) break;
    size += grows;
    end += width;
  }
  return { text: escapeSlack(text.slice(0, end)), left: text.length - end };
}

/** "12,345": a count as people read it. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** "45 s", "3 min", "2 h 5 min", "3 d 4 h". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** A time every reader sees in their own time zone (Slack date formatting), with a UTC fallback. */
export function slackDate(at: number): string {
  const fallback = `${new Date(at).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${Math.floor(at / 1000)}^{date_short_pretty} {time}|${fallback}>`;
}

/** A time of day every reader sees in their own time zone ("14:05"), with a UTC fallback. */
export function slackTime(at: number): string {
  const fallback = `${new Date(at).toISOString().slice(11, 16)} UTC`;
  return `<!date^${Math.floor(at / 1000)}^{time}|${fallback}>`;
}

export const CHANNEL_NAMES: Record<string, string> = {
  voice: 'phone',
  sms: 'SMS',
  chat: 'chat',
  email: 'email',
};
