// Resolving with a follow-up from Slack: the times offered (tomorrow morning, in
// three days, next week) in the team's time zone, and the form's choice read
// back with zod. Pure functions of `now`; nothing here talks to Slack.
import { z } from 'zod';
import { localInstant, localTime } from '../../routing/hours.js';

/** The hour a "morning" follow-up is due, in the team's time zone. */
const MORNING_MINUTE = 9 * 60;
const DAY_MS = 24 * 3600_000;
/** The furthest ahead a follow-up may be set from Slack. */
export const FOLLOW_UP_MAX_MS = 366 * DAY_MS;

export interface FollowUpChoice {
  /** The option's value in the form: `at:<ms>`. */
  value: string;
  label: string;
  at: number;
}

/**
 * The follow-up times offered in Slack at `now`: tomorrow at 09:00, in 3 days (at this time of day), and next
 * Monday at 09:00, in `timeZone` (the team's opening hours' zone, else UTC).
 */
export function followUpChoices(now: number, timeZone: string): FollowUpChoice[] {
  const tomorrow = localInstant(timeZone, now, 1, MORNING_MINUTE);
  // Monday of next week: 1 to 7 days ahead (a Monday gives the next one).
  const toMonday = (8 - localTime(timeZone, now).day) % 7 || 7;
  const nextWeek = localInstant(timeZone, now, toMonday, MORNING_MINUTE);
  return [
    { label: 'Tomorrow morning', at: tomorrow },
    { label: 'In 3 days', at: now + 3 * DAY_MS },
    { label: 'Next week', at: nextWeek },
  ].map((c) => ({ ...c, value: `at:${c.at}` }));
}

/** The option that lets the agent pick a date and time themselves. */
export const PICK = 'pick';

/** The choice as the form sends it: one of the offered times, or the agent's own pick. */
const Choice = z.union([
  z.literal(PICK),
  z
    .string()
    .regex(/^at:\d{1,16}$/, 'one of the times offered')
    .transform((v) => Number(v.slice(3))),
]);

/**
 * The follow-up time of a submitted form, or what is wrong with it by field: `when` (the choice) and `at` (the
 * date picker, when the choice is to pick). The time must come after `now` and within FOLLOW_UP_MAX_MS.
 */
export function followUpAt(
  form: { choice: string | null; picked: number | null },
  now: number,
): { at: number } | { field: 'when' | 'at'; error: string } {
  const choice = Choice.safeParse(form.choice);
  if (!choice.success) return { field: 'when', error: 'Pick when to follow up.' };
  if (choice.data === PICK) {
    if (form.picked === null) return { field: 'at', error: 'Pick a date and time to follow up.' };
    return inRange(form.picked * 1000, now, 'at');
  }
  return inRange(choice.data, now, 'when');
}

function inRange(at: number, now: number, field: 'when' | 'at') {
  if (at <= now) return { field, error: 'That time has passed: pick a time in the future.' } as const;
  if (at > now + FOLLOW_UP_MAX_MS) return { field, error: 'Pick a time within a year.' } as const;
  return { at };
}
