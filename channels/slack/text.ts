// Text between Slack and the customer. Slack sends `&`, `<`, `>` escaped and
// wraps mentions and links in angle brackets; the customer gets plain text. Text
// a customer wrote is escaped before it goes into Slack, so it can never mention
// `@channel` or fake a link.

/** Customer (or any outside) text made safe for Slack mrkdwn. */
export function escapeSlack(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** What an agent wrote in Slack, as plain text for the customer. */
export function slackToPlain(text: string): string {
  const plain = text.replace(/<([^<>]*)>/g, (_whole, inner: string) => {
    const bar = inner.indexOf('|');
    const target = bar >= 0 ? inner.slice(0, bar) : inner;
    const label = bar >= 0 ? inner.slice(bar + 1) : '';
    if (target.startsWith('@') || target.startsWith('#')) return label ? `${target[0]}${label}` : target;
    if (target.startsWith('!')) {
      const special = target.slice(1).split('^')[0] ?? '';
      if (special === 'date') return label || '';
      return label || `@${special}`;
    }
    if (target.startsWith('mailto:')) return label || target.slice('mailto:'.length);
    if (!label || label === target) return target;
    return `${label} (${target})`;
  });
  return plain.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
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

export const CHANNEL_NAMES: Record<string, string> = {
  voice: 'phone',
  sms: 'SMS',
  chat: 'chat',
  email: 'email',
};
