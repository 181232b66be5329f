// /rights: the customer bill of rights as configured, each beside the live
// figure that shows whether it is kept. HTML, or JSON with Accept: application/json.
import type { Request, Response } from 'express';
import { humanDuration } from '../routing/estimate.js';
import { hoursText } from '../routing/hours.js';
import type { Router } from '../routing/router.js';
import { escapeHtml } from '../shared/html.js';
import { type Figures, type FiguresCache, RETENTION_COUNT_CAP } from './figures.js';

export interface Right {
  id: string;
  title: string;
  promise: string;
  limit: string;
  figure: string;
}

export interface RightsOptions {
  /** Hold music for callers (HOLD_MUSIC_URL); null or absent: silence. */
  holdMusicUrl?: string | null;
  /** Email goes out (SMTP_URL): chat replies a visitor did not see can follow them there. */
  emailOut?: boolean;
}

export function rights(router: Router, f: Figures, options: RightsOptions = {}): Right[] {
  const p = router.policy;
  const fmt = (s: number | null) => (s === null ? 'no data yet' : `${s} s`);
  const pct = (share: number) => `${Math.round(share * 100)} %`;
  const kept =
    f.quotes.keptShare === null
      ? 'no quotes settled yet'
      : `${pct(f.quotes.keptShare)} of quotes kept (${f.quotes.kept} kept, ${f.quotes.broken} broken)${
          f.quotes.pessimism === null ? '' : `; quotes ran ${f.quotes.pessimism}× the actual wait (median)`
        }`;
  const lead = `${Math.round(p.atRiskLeadFraction * 100)} % of the quoted time (at least ${humanDuration(p.atRiskMinLeadSeconds)})`;
  const hold = options.holdMusicUrl
    ? `music from ${hostOf(options.holdMusicUrl)}`
    : 'silence (no hold music configured)';
  const followUps =
    f.followUps.keptShare === null
      ? 'no follow-ups settled yet'
      : `${pct(f.followUps.keptShare)} of follow-ups kept (${f.followUps.kept} kept, ${f.followUps.broken} broken)`;
  const surveys =
    f.surveys.meanRating === null
      ? `${f.surveys.sent} surveys sent, none answered yet`
      : `${f.surveys.answered} of ${f.surveys.sent} surveys answered, mean rating ${f.surveys.meanRating} of 5, things to fix named: ${f.surveys.problems}`;
  return [
    {
      id: 'person-answers',
      title: 'A person answers',
      promise: 'No menus and no "press 1": you are offered to an available person at once.',
      limit: `whole team after ${p.overflowAfterSeconds} s; nobody waits past ${p.hardCapSeconds} s because others outrank them`,
      figure: `time to a human: median ${fmt(f.timeToHumanSeconds.p50)}, 90th percentile ${fmt(f.timeToHumanSeconds.p90)} (${f.timeToHumanSeconds.samples} conversations, last 24 h)`,
    },
    {
      id: 'not-bounced',
      title: "You won't be bounced",
      promise:
        'One person owns your conversation until it is done; it moves only by a warm hand-off they accept.',
      limit: 'no blind transfers; warm hand-offs only',
      figure: `${f.ownershipChanges.total} ownership changes in the last 24 h (${
        Object.entries(f.ownershipChanges.byReason)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ') || 'none'
      })`,
    },
    {
      id: 'honest-wait',
      title: 'We tell you the honest wait',
      promise: 'Every wait we quote is a promise: a pessimistic estimate, and we tell you before it breaks.',
      limit: `quotes are the ${Math.round(p.quotePercentile * 100)}th percentile of the predicted wait; ${p.atRiskMaxNotices === 0 ? 'a quote at risk is not told in advance' : `a quote at risk is told ${lead} before it is due, with a new time (${p.atRiskMaxNotices === 1 ? 'once' : `at most ${p.atRiskMaxNotices} times`} a wait)`}; ${
        p.hours
          ? `outside our opening hours, ${hoursText(p.hours)}, we say we are closed and when we open`
          : 'when nobody is working we say so'
      }`,
      figure: kept,
    },
    {
      id: 'your-channel',
      title: 'We answer on your channel',
      promise:
        'Replies go out on the channel you last used; switching channel keeps the same conversation and person.',
      limit: `phone, SMS, chat and email are one conversation${
        options.emailOut && p.unseenChatEmailSeconds > 0
          ? `; if you leave our chat before our answer reaches you, and gave us your email, the answer follows you there ${span(p.unseenChatEmailSeconds)} later`
          : ''
      }`,
      figure: `${f.conversations.assigned} conversations being answered now, ${f.waiting} waiting`,
    },
    {
      id: 'ask-once',
      title: 'We never ask twice',
      promise: 'What you tell us is kept with where it came from; we only ask for what we do not know.',
      limit: 'the chat form asks only for facts not already known',
      figure: `${f.factsReused.conversations} conversations from returning customers started with ${f.factsReused.facts} facts already on file`,
    },
    {
      id: 'no-adverts',
      title: 'No adverts on hold',
      promise: 'While you wait: one short, honest sentence, then quiet.',
      limit: `greeting and hold texts are capped at 200 characters; hold text: "${p.texts.hold}"`,
      figure: `hold plays ${hold}; no advertising`,
    },
    {
      id: 'follow-up',
      title: 'We follow up',
      promise:
        'When we promise to get back to you, the person who promised does, on your channel; afterwards we ask what we should fix.',
      limit: `a follow-up reaches a person within ${span(p.followUpGraceSeconds)} of its time; ${
        p.surveys
          ? `one short survey ${span(p.surveyDelaySeconds)} after we are done; ${
              p.surveyLowRating > 0
                ? `a rating of ${p.surveyLowRating} or less is followed up by the owner`
                : 'low ratings are not followed up'
            }`
          : 'no surveys'
      }`,
      figure: `${followUps}; ${surveys}; repeat contacts (back within ${span(p.repeatWindowSeconds)} of a resolution): ${f.repeatContacts}`,
    },
    {
      id: 'your-data',
      title: 'Your data is yours',
      promise:
        'You can have everything we keep about you, or have all of it erased: conversations, messages, files and mail.',
      limit:
        p.retentionDays === undefined
          ? 'on request; otherwise kept until you ask'
          : `on request, and by itself ${span(p.retentionDays * 86_400)} after the last message between us (unless you are blocked, or something is still to happen for you)`,
      figure: f.retention
        ? `${f.retention.pastDue === RETENTION_COUNT_CAP ? `${RETENTION_COUNT_CAP} or more` : f.retention.pastDue} ${
            f.retention.pastDue === 1 ? 'customer' : 'customers'
          } kept past ${span(f.retention.days * 86_400)} since they were last active (blocked, something still to happen for them, or the hourly erasing not come yet)`
        : 'no retention set: kept until erased on request',
    },
  ];
}

/** A configured time as people say it: whole days as days. */
function span(seconds: number): string {
  const days = seconds / 86_400;
  if (Number.isInteger(days) && days >= 1) return days === 1 ? '1 day' : `${days} days`;
  return humanDuration(seconds);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the configured address';
  }
}

export function rightsRoute(router: Router, cache: FiguresCache, options: RightsOptions = {}) {
  return async (req: Request, res: Response) => {
    const figures = await cache.get();
    const list = rights(router, figures, options);
    if (req.accepts(['html', 'json']) === 'json') {
      res.json({ rights: list, figures });
      return;
    }
    res
      .type('html')
      .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Your rights as our customer</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1d2430}
li{margin:0 0 1.2rem}h2{font-size:1.1rem;margin:0}.limit,.figure{color:#4a5568;font-size:.95rem}.figure{font-weight:600;color:#22543d}</style></head>
<body><h1>Your rights as our customer</h1><ol>${list
        .map(
          (r) =>
            `<li id="${escapeHtml(r.id)}"><h2>${escapeHtml(r.title)}</h2><p>${escapeHtml(r.promise)}</p><p class="limit">Configured: ${escapeHtml(r.limit)}</p><p class="figure">Today: ${escapeHtml(r.figure)}</p></li>`,
        )
        .join('')}</ol></body></html>`);
  };
}
