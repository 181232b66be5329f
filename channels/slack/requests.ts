// What reaches /slack/events is checked here before Bolt sees it: the signature
// first (Slack's v0 scheme, a timestamp within five minutes either way), then
// the body's shape, parsed with zod. Bolt, given a body it cannot place (no
// `actions`, a payload that is not an object, a slash command without `command`),
// acknowledged nothing and answered 404 after 3 seconds, or failed on a null;
// here such a request is answered 400 at once, naming the field, and logged.
// Interactions Slack may send that Switchboard does not use (a shortcut, a modal
// closed) are answered 200 at once and go no further. Options requests
// (`block_suggestion`, from a searchable select) are signed and checked the same.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parse as parseQuery } from 'node:querystring';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { fail } from '../http.js';
import { BlockActions, BlockSuggestion, COMMAND_TEXT_MAX, SlashCommand, ViewSubmission } from './payloads.js';
import { count } from './text.js';

/** How far a request's timestamp may be from now, either way (Slack's own rule for replays). */
export const SIGNED_WITHIN_S = 5 * 60;
/** The largest body read (Bolt's own limit). */
const BODY_LIMIT = 4 * 1024 * 1024;

/** Interactivity payloads Slack may send the app that Switchboard does not use: acknowledged, nothing done. */
const UNUSED_INTERACTIONS = new Set([
  'shortcut',
  'message_action',
  'view_closed',
  'interactive_message',
  'dialog_submission',
  'dialog_cancellation',
  'dialog_suggestion',
  'workflow_step_edit',
]);

const Named = z.object({ id: z.string().min(1).max(64) });

/** What every Events API body Switchboard reads has. */
const EventsBody = {
  url_verification: z.object({ type: z.literal('url_verification'), challenge: z.string().min(1).max(500) }),
  event_callback: z.object({
    type: z.literal('event_callback'),
    event: z.object({ type: z.string().min(1).max(64) }).loose(),
  }),
};

/** A view submission: Switchboard's own forms (`sb_…`) as the console reads them, anyone else's by its shape. */
const OtherViewSubmission = z.object({
  type: z.literal('view_submission'),
  user: Named,
  view: z.object({ callback_id: z.string().max(255).optional() }).loose(),
});

const Command = SlashCommand.extend({
  command: z.string().min(1).max(64),
  team_id: z.string().min(1).max(64),
});

/** A refusal: the field at fault and what is wrong with it. */
interface Refusal {
  field: string;
  problem: string;
}

/** `say`: answered to the person who typed a slash command, as Slack shows a command's answer (to them alone). */
type Checked =
  | { ok: true }
  | { ok: false; status: 200; say?: string }
  | ({ ok: false; status: 400 } & Refusal);

/**
 * The middleware in front of Bolt's route. It reads the body (handing Bolt the same bytes), checks the
 * signature (401 as Bolt answers it), then the shape (400 with `{error: {code, message, field}}`).
 */
export function slackRequestGuard(options: { signingSecret: string; log: Logger }): express.RequestHandler {
  const raw = express.raw({ type: () => true, limit: BODY_LIMIT });
  return (req: Request, res: Response, next: NextFunction) => {
    raw(req, res, (err?: unknown) => {
      if (err) {
        const tooLarge = (err as { type?: string }).type === 'entity.too.large';
        options.log.warn({ err: String(err) }, 'Slack: request refused: its body could not be read');
        if (tooLarge) fail(res, 413, 'too_large', `body: larger than ${BODY_LIMIT} bytes`, 'body');
        else fail(res, 400, 'bad_request', 'body: could not be read', 'body');
        return;
      }
      const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      // Bolt reads `rawBody` when it is there (the stream is read already).
      (req as Request & { rawBody?: Buffer }).rawBody = body;
      req.body = undefined;
      const text = body.toString('utf8');
      const unsigned = signatureProblem(options.signingSecret, req, text, Math.floor(Date.now() / 1000));
      if (unsigned) {
        options.log.warn({ why: unsigned }, 'Slack: request refused: not signed by Slack');
        res.status(401).end();
        return;
      }
      const media = String(req.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim()
        .toLowerCase();
      // Bolt tells a form from JSON by the bare media type: given the same, it reads the body as read here.
      if (media) req.headers['content-type'] = media;
      const checked = media === 'application/x-www-form-urlencoded' ? checkForm(text) : checkJson(text);
      if (checked.ok) return next();
      if (checked.status === 200) {
        if (checked.say) res.status(200).json({ response_type: 'ephemeral', text: checked.say });
        else res.status(200).end();
        return;
      }
      options.log.warn(
        { field: checked.field, problem: checked.problem },
        'Slack: request refused: not a body Slack sends',
      );
      fail(res, 400, 'invalid_input', `${checked.field}: ${checked.problem}`, checked.field);
    });
  };
}

/** Why the request is not Slack's (null: it is): a missing or wrong signature, a timestamp not within five minutes. */
function signatureProblem(secret: string, req: Request, body: string, now: number): string | null {
  const signature = req.headers['x-slack-signature'];
  const stamp = req.headers['x-slack-request-timestamp'];
  if (typeof signature !== 'string' || typeof stamp !== 'string') return 'a signature header is missing';
  if (!/^\d{1,12}$/.test(stamp)) return 'the timestamp is not a number of seconds';
  // A replayed request is old; one stamped ahead of time would stay replayable until long after it was sent.
  if (Math.abs(now - Number(stamp)) > SIGNED_WITHIN_S)
    return 'the timestamp is not within five minutes of now';
  const expected = Buffer.from(
    `v0=${createHmac('sha256', secret).update(`v0:${stamp}:${body}`).digest('hex')}`,
  );
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return 'the signature does not match';
  return null;
}

/** An Events API body: url_verification, or an event_callback with an event (app_rate_limited: nothing to do). */
function checkJson(text: string): Checked {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return refused('body', 'not JSON');
  }
  if (!isObject(body)) return refused('body', 'expected a JSON object');
  if (body.type === 'app_rate_limited') return { ok: false, status: 200 };
  if (body.type !== 'url_verification' && body.type !== 'event_callback') {
    return refused('type', 'expected url_verification or event_callback');
  }
  return shaped(EventsBody[body.type], body, '');
}

/** A form: an interaction (`payload`), Slack's SSL check, or a slash command. */
function checkForm(text: string): Checked {
  const form = parseQuery(text);
  if (form.payload !== undefined) {
    if (typeof form.payload !== 'string') return refused('payload', 'expected one payload');
    let payload: unknown;
    try {
      payload = JSON.parse(form.payload);
    } catch {
      return refused('payload', 'not JSON');
    }
    return checkInteraction(payload);
  }
  // Slack checks a slash command's certificate with `ssl_check=1`: Bolt answers it.
  if (form.ssl_check !== undefined && form.command === undefined) return { ok: true };
  const checked = shaped(Command, form, '');
  // A command Slack sent whole but too long to take: the person who typed it is told, not left with nothing.
  if (!checked.ok && checked.status === 400 && checked.field === 'text' && typeof form.text === 'string')
    return {
      ok: false,
      status: 200,
      say: `That is ${count(form.text.length)} characters after the command, more than Switchboard takes (${count(COMMAND_TEXT_MAX)}). Write it in the conversation's thread, or in the web console.`,
    };
  return checked;
}

function checkInteraction(payload: unknown): Checked {
  if (!isObject(payload)) return refused('payload', 'expected a JSON object');
  const type = payload.type;
  if (typeof type === 'string' && UNUSED_INTERACTIONS.has(type)) return { ok: false, status: 200 };
  switch (type) {
    case 'block_actions':
      return shaped(BlockActions, payload, 'payload');
    // What an agent types in a searchable select (a large team's colleague picker): answered with options.
    case 'block_suggestion':
      return shaped(BlockSuggestion, payload, 'payload');
    case 'view_submission': {
      const view = isObject(payload.view) ? payload.view : null;
      const ours = typeof view?.callback_id === 'string' && view.callback_id.startsWith('sb_');
      return shaped(ours ? ViewSubmission : OtherViewSubmission, payload, 'payload');
    }
    default:
      return refused('payload.type', 'not an interaction Slack sends');
  }
}

/** `body` parsed by `schema`; else refused, naming the first field at fault under `under`. */
function shaped(schema: z.ZodType, body: unknown, under: string): Checked {
  const parsed = schema.safeParse(body);
  if (parsed.success) return { ok: true };
  const first = parsed.error.issues[0];
  const path = [...(under ? [under] : []), ...(first?.path.map(String) ?? [])];
  return refused(path.join('.') || 'body', first?.message ?? 'invalid');
}

function refused(field: string, problem: string): Checked {
  return { ok: false, status: 400, field, problem };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
