// What /slack/events does with requests Slack would not send: a timestamp ahead
// of time, bodies of the wrong shape, interactions Switchboard does not use. All
// signed with the right secret, through the real app and Bolt.
import { expect } from 'chai';
import { pino } from 'pino';
import { ACTION, FIELD, VIEW } from '../../channels/slack/blocks.js';
import {
  appHomeOpened,
  blockActions,
  type SlackHarness,
  slashCommand,
  startSlackHarness,
  viewSubmission,
} from './slack-harness.js';

const ADA = 'U0ADA00001';
const dmOf = (user: string) => `D${user.slice(1)}`;

/** What a refused request is answered: 400 with the field at fault, at once (Bolt made Slack wait 3 s). */
async function refusedAt(
  h: SlackHarness,
  send: () => PromiseLike<{ status: number; body: unknown }>,
  field: string,
) {
  const started = Date.now();
  const res = await send();
  expect(Date.now() - started, `answered at once (${field})`).to.be.below(1000);
  expect(res.status, field).to.equal(400);
  const error = (res.body as { error: { code: string; message: string; field: string } }).error;
  expect(error.code).to.equal('invalid_input');
  expect(error.field).to.equal(field);
  expect(error.message.startsWith(`${field}: `), error.message).to.equal(true);
  return h;
}

describe('Slack requests that are not what Slack sends', () => {
  let h: SlackHarness;
  let warnings: Array<Record<string, unknown>>;

  beforeEach(async () => {
    warnings = [];
    const logger = pino(
      { level: 'warn' },
      { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) },
    );
    h = await startSlackHarness({ logger });
  });
  afterEach(async () => {
    await h.close();
  });

  /** Ada linked, a visitor wrote, Ada's card is posted: the conversation and its thread. */
  async function adaOwns(): Promise<{ conversationId: string; threadTs: string }> {
    await h.agent('Ada', ADA);
    const mary = await h.visitor();
    const sent = await mary.say('hello');
    await h.idle();
    const card = h.slack.ok(
      'chat.postMessage',
      (a) => a.channel === dmOf(ADA) && a.thread_ts === undefined,
    )[0]!;
    return { conversationId: sent.conversationId, threadTs: String(card.answer.ts) };
  }

  it('a request stamped more than five minutes ahead is refused (401) like a stale one; a little ahead is fine', async () => {
    await h.agent('Ada', ADA);
    await h.idle();
    const published = h.slack.ok('views.publish').length;
    const now = Math.floor(Date.now() / 1000);
    await h.event(appHomeOpened(ADA), { timestamp: now + 6 * 60 }).expect(401);
    await h.command(slashCommand(ADA, 'away', h.slack.responseUrl()), { timestamp: now + 3600 }).expect(401);
    await h.idle();
    expect(h.slack.ok('views.publish')).to.have.length(published);
    expect((await h.store.listAgents())[0]!.status).to.equal('available');
    // A clock a minute fast is still Slack.
    await h.event(appHomeOpened(ADA), { timestamp: now + 60 }).expect(200);
    await h.idle();
    expect(h.slack.ok('views.publish')).to.have.length(published + 1);
  });

  it('an events body of the wrong shape is answered 400 at once, naming the field, and logged', async () => {
    const json = (body: unknown) => () => h.post(JSON.stringify(body), 'application/json');
    await refusedAt(h, json([1, 2, 3]), 'body');
    await refusedAt(h, json(null), 'body');
    await refusedAt(h, () => h.post('{"type": "event_callback", ', 'application/json'), 'body');
    await refusedAt(h, json({ type: 'event_callback', event_id: 'Ev1' }), 'event');
    await refusedAt(h, json({ type: 'event_callback', event_id: 'Ev2', event: { type: 5 } }), 'event.type');
    await refusedAt(h, json({ type: 'url_verification' }), 'challenge');
    await refusedAt(h, json({ type: 'something_else' }), 'type');
    const refusals = warnings.filter((w) => w.msg === 'Slack: request refused: not a body Slack sends');
    expect(refusals.map((w) => w.field)).to.deep.equal([
      'body',
      'body',
      'body',
      'event',
      'event.type',
      'challenge',
      'type',
    ]);
    expect(warnings.some((w) => String(w.msg).includes('not acknowledged'))).to.equal(false);
  });

  it('an interaction of the wrong shape is answered 400 at once, naming the field, and nothing is done', async () => {
    const { conversationId, threadTs } = await adaOwns();
    const form = (payload: string) => () =>
      h.post(new URLSearchParams({ payload }).toString(), 'application/x-www-form-urlencoded');
    const interact = (payload: Record<string, unknown>) => () => h.interact(payload);
    const resolve = blockActions({
      user: ADA,
      actionId: ACTION.resolve,
      value: conversationId,
      channel: dmOf(ADA),
      messageTs: threadTs,
    });
    await refusedAt(h, form('"str"'), 'payload');
    await refusedAt(h, form('null'), 'payload');
    await refusedAt(h, form('{not json'), 'payload');
    await refusedAt(h, interact({ ...resolve, actions: [] }), 'payload.actions');
    await refusedAt(h, interact({ ...resolve, user: undefined }), 'payload.user');
    await refusedAt(
      h,
      interact({ ...resolve, actions: [{ type: 'button', action_id: 5, value: conversationId }] }),
      'payload.actions.0.action_id',
    );
    await refusedAt(h, interact({ type: 'view_submission', user: { id: ADA } }), 'payload.view');
    const due = (at: unknown) =>
      viewSubmission(ADA, VIEW.promise, conversationId, {
        [FIELD.promiseText.block]: { [FIELD.promiseText.action]: { type: 'plain_text_input', value: 'x' } },
        [FIELD.promiseDue.block]: {
          [FIELD.promiseDue.action]: { type: 'datetimepicker', selected_date_time: at },
        },
      });
    const dueField = `payload.view.state.values.${FIELD.promiseDue.block}.${FIELD.promiseDue.action}.selected_date_time`;
    await refusedAt(h, interact(due('tomorrow')), dueField);
    await refusedAt(h, interact(due(9e15)), dueField);
    await refusedAt(h, interact({ type: 'no_such_thing', user: { id: ADA } }), 'payload.type');
    await h.idle();
    expect((await h.store.getConversation(conversationId))!.status).to.equal('assigned');
    expect(
      await h.store.listPromises(conversationId).then((ps) => ps.filter((p) => p.kind === 'agent')),
    ).to.deep.equal([]);
    expect(warnings.some((w) => /not acknowledged|TypeError|Cannot read/.test(JSON.stringify(w)))).to.equal(
      false,
    );
  });

  it('a slash command without command, user_id or team_id is answered 400 naming it', async () => {
    await h.agent('Ada', ADA);
    const full = slashCommand(ADA, 'away', h.slack.responseUrl());
    for (const field of ['command', 'user_id', 'team_id']) {
      const { [field]: _left, ...rest } = full;
      await refusedAt(h, () => h.command(rest), field);
    }
    await h.idle();
    expect((await h.store.listAgents())[0]!.status).to.equal('available');
    expect(h.slack.responses).to.deep.equal([]);
  });

  it('a slash command too long to take is answered to its author in words, and nothing is done', async () => {
    await h.agent('Ada', ADA);
    const long = slashCommand(ADA, `write someone@example.org ${'x'.repeat(4100)}`, h.slack.responseUrl());
    const res = await h.command(long).expect(200);
    expect(res.body.response_type).to.equal('ephemeral');
    expect(res.body.text).to.match(
      /^That is 4,126 characters after the command, more than Switchboard takes \(4,000\)\./,
    );
    await h.idle();
    expect(await h.store.listConversations({})).to.deep.equal([]);
  });

  it('interactions Switchboard does not use (shortcut, message_action, view_closed) are answered 200 at once, and nothing is done', async () => {
    const { conversationId } = await adaOwns();
    const before = h.slack.calls.length;
    for (const payload of [
      { type: 'shortcut', user: { id: ADA }, callback_id: 'x', trigger_id: '1.2' },
      { type: 'message_action', user: { id: ADA }, callback_id: 'x' },
      { type: 'view_closed', user: { id: ADA }, view: { callback_id: VIEW.handoff } },
    ]) {
      const started = Date.now();
      const res = await h.interact(payload).expect(200);
      expect(Date.now() - started, payload.type).to.be.below(1000);
      expect(res.text, payload.type).to.equal('');
    }
    await h.idle();
    expect(h.slack.calls.slice(before)).to.deep.equal([]);
    expect((await h.store.getConversation(conversationId))!.status).to.equal('assigned');
    expect(warnings.some((w) => String(w.msg).includes('not acknowledged'))).to.equal(false);
  });

  it('an options request (block_suggestion) for a select that is not a colleague picker gets no options at once; one without what was typed is refused naming the field', async () => {
    const { conversationId } = await adaOwns();
    const before = h.slack.calls.length;
    const started = Date.now();
    const res = await h
      .interact({ type: 'block_suggestion', user: { id: ADA }, action_id: 'sb_x', block_id: 'b', value: 'a' })
      .expect(200);
    expect(Date.now() - started).to.be.below(1000);
    expect(res.body).to.deep.equal({ options: [] });
    const bad = await h
      .interact({ type: 'block_suggestion', user: { id: ADA }, action_id: ACTION.consultPick })
      .expect(400);
    expect(bad.body.error).to.deep.include({ code: 'invalid_input', field: 'payload.value' });
    await h.idle();
    expect(h.slack.calls.slice(before)).to.deep.equal([]);
    expect((await h.store.getConversation(conversationId))!.status).to.equal('assigned');
  });
});
