// Opening hours: when the team works, in its own time zone, and how long until it
// opens again. A customer who writes or calls while nobody works is told so, with
// when a person will be there, instead of "everyone is busy".
import { z } from 'zod';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const MINUTES_PER_DAY = 24 * 60;
const RANGE = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/;

/** `09:00-17:00`, or several joined by commas (`09:00-12:30,13:30-17:00`): minutes of the day, [start, end). */
function ranges(text: string, ctx: z.RefinementCtx): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const part of text.split(',').map((s) => s.trim())) {
    const m = RANGE.exec(part);
    const start = m ? Number(m[1]) * 60 + Number(m[2]) : 0;
    const end = m ? Number(m[3]) * 60 + Number(m[4]) : 0;
    if (!m || end <= start || end > MINUTES_PER_DAY) {
      ctx.addIssue({
        code: 'custom',
        message: `"${part}" is not a time range such as 09:00-17:00 (24-hour clock, the end after the start)`,
      });
      return [];
    }
    out.push([start, end]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

const DayHours = z.string().max(200).transform(ranges);

/** A dated day's hours: as a weekday's, or `closed` (or empty) for a day the team does not work. */
const DatedHours = z
  .string()
  .max(200)
  .transform((text, ctx) => (text.trim() === '' || text.trim() === 'closed' ? [] : ranges(text, ctx)));

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `2026-12-25`, a real calendar date. */
function validDate(text: string): boolean {
  const m = DATE.exec(text);
  return !!m && new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!)).toISOString().slice(0, 10) === text;
}

/** The calendar date `n` days after `date` (YYYY-MM-DD). */
function addDays(date: string, n: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * `{"timeZone": "Europe/Berlin", "week": {"mon": "09:00-17:00", …}, "dates": {"2026-12-25": "closed", …}}`: a
 * day left out of `week` is closed; a date in `dates` (the team's local date) has its own hours instead of its
 * weekday's (a public holiday closed, a short Christmas Eve).
 */
export const OpeningHours = z.strictObject({
  timeZone: z
    .string()
    .refine(validTimeZone, 'must be an IANA time zone such as Europe/Berlin or America/New_York'),
  week: z.strictObject(
    Object.fromEntries(WEEKDAYS.map((d) => [d, DayHours.optional()])) as {
      [D in Weekday]: z.ZodOptional<typeof DayHours>;
    },
  ),
  dates: z
    .record(z.string(), DatedHours)
    .superRefine((dates, ctx) => {
      const keys = Object.keys(dates);
      if (keys.length > 1000) ctx.addIssue({ code: 'custom', message: 'at most 1,000 dates' });
      for (const key of keys) {
        if (!validDate(key))
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `"${key}" must be a date such as 2026-12-25`,
          });
      }
    })
    .optional(),
});
export type OpeningHours = z.output<typeof OpeningHours>;

const formats = new Map<string, Intl.DateTimeFormat>();

/** The weekday, the date (YYYY-MM-DD) and the minute of the day (with its fraction) at `at` in `timeZone`. */
export function localTime(timeZone: string, at: number): { day: number; date: string; minute: number } {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formats.set(timeZone, format);
  }
  let day = 0;
  let minute = 0;
  const ymd = { year: '', month: '', day: '' };
  for (const part of format.formatToParts(at)) {
    if (part.type === 'weekday') day = WEEKDAYS.indexOf(part.value.toLowerCase().slice(0, 3) as Weekday);
    else if (part.type === 'year' || part.type === 'month' || part.type === 'day')
      ymd[part.type] = part.value;
    else if (part.type === 'hour') minute += Number(part.value) * 60;
    else if (part.type === 'minute') minute += Number(part.value);
    else if (part.type === 'second') minute += Number(part.value) / 60;
  }
  return { day, date: `${ymd.year.padStart(4, '0')}-${ymd.month}-${ymd.day}`, minute };
}

/** The week in words, Monday first: "Mon 09:00–17:00, Tue 09:00–12:30 and 13:30–17:00 (Europe/Berlin)". */
export function hoursText(hours: OpeningHours): string {
  const clock = (minute: number) =>
    `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
  const days = [...WEEKDAYS.slice(1), WEEKDAYS[0]]
    .filter((d) => (hours.week[d] ?? []).length > 0)
    .map(
      (d) =>
        `${d[0]!.toUpperCase()}${d.slice(1)} ${hours.week[d]!.map(([a, b]) => `${clock(a)}–${clock(b)}`).join(' and ')}`,
    );
  const dated = Object.entries(hours.dates ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([date, ranges]) =>
      ranges.length === 0
        ? `${date} closed`
        : `${date} ${ranges.map(([a, b]) => `${clock(a)}–${clock(b)}`).join(' and ')}`,
    );
  const week = days.length > 0 ? days.join(', ') : 'never open';
  return `${week}${dated.length > 0 ? `; ${dated.join(', ')}` : ''} (${hours.timeZone})`;
}

/** The hours of a local date: its own, when `dates` has it, else its weekday's. */
function rangesOf(hours: OpeningHours, day: number, date: string): Array<[number, number]> {
  return hours.dates?.[date] ?? hours.week[WEEKDAYS[((day % 7) + 7) % 7]!] ?? [];
}

/** Whether the team works at a local weekday, date and minute of the day. */
function openAt(
  hours: OpeningHours,
  { day, date, minute }: { day: number; date: string; minute: number },
): boolean {
  return rangesOf(hours, day, date).some(([start, end]) => minute >= start && minute < end);
}

/** Whether the team works at `at`. */
export function isOpen(hours: OpeningHours, at: number): boolean {
  return openAt(hours, localTime(hours.timeZone, at));
}

/**
 * How long from `at` until the team next opens, in ms: 0 while open; null when it opens on no day (within a
 * year and a week, with `dates`). Exact to the second across daylight-saving changes (the local clock is read
 * again at the opening found).
 */
export function opensInMs(hours: OpeningHours, at: number): number | null {
  const now = localTime(hours.timeZone, at);
  if (openAt(hours, now)) return 0;
  const { day, date, minute } = now;
  const horizon = hours.dates ? 373 : 7;
  for (let ahead = 0; ahead <= horizon; ahead++) {
    for (const [start] of rangesOf(hours, day + ahead, hours.dates ? addDays(date, ahead) : date)) {
      if (ahead * MINUTES_PER_DAY + start - minute <= 0) continue;
      return Math.max(1000, Math.round(instantOf(hours.timeZone, at, now, ahead, start) - at));
    }
  }
  return null;
}

/**
 * The instant of local minute `target` (up to 24:00), `ahead` days after the local day of `at` (read as `now`).
 * The local clock moves with daylight saving: where the local time lands is read back and the difference (an
 * hour, at most twice a year) taken out.
 */
function instantOf(
  timeZone: string,
  at: number,
  now: { day: number; minute: number },
  ahead: number,
  target: number,
): number {
  let when = at + (ahead * MINUTES_PER_DAY + target - now.minute) * 60_000;
  for (let i = 0; i < 2; i++) {
    const there = localTime(timeZone, when);
    const off = (there.day - ((now.day + ahead) % 7) + 7) % 7;
    const drift = (off > 3 ? off - 7 : off) * MINUTES_PER_DAY + there.minute - target;
    if (Math.abs(drift) < 1 / 120) break;
    when -= drift * 60_000;
  }
  return when;
}

/** The instant of local minute `minute` of the day `ahead` days after the local day of `at`, in `timeZone`. */
export function localInstant(timeZone: string, at: number, ahead: number, minute: number): number {
  return instantOf(timeZone, at, localTime(timeZone, at), ahead, minute);
}

/** How long from `at` until the opening hours it falls in end, in ms (at least 1); 0 when closed at `at`. */
export function closesInMs(hours: OpeningHours, at: number): number {
  const now = localTime(hours.timeZone, at);
  const range = rangesOf(hours, now.day, now.date).find(
    ([start, end]) => now.minute >= start && now.minute < end,
  );
  if (!range) return 0;
  return Math.max(1, Math.round(instantOf(hours.timeZone, at, now, 0, range[1]) - at));
}

/**
 * How much of the time from `from` to `to` falls within the opening hours, in ms: what a customer who wrote at
 * night and was answered soon after the team opened waited for the team (service levels count only that).
 */
export function openMsBetween(hours: OpeningHours, from: number, to: number): number {
  let open = 0;
  let at = from;
  // Each turn passes an opening or a closing: a day has few of them.
  for (let turn = 0; at < to && turn < 200; turn++) {
    const closes = closesInMs(hours, at);
    if (closes > 0) {
      const end = Math.min(to, at + closes);
      open += end - at;
      at = end;
      continue;
    }
    const opens = opensInMs(hours, at);
    if (opens === null) break;
    at += opens;
  }
  return open;
}
