// Resolving with a follow-up from Slack, as the web console and the API can: a
// form from the card with tomorrow morning, in 3 days, next week or a date picked;
// the thread and the card say when the follow-up is due, and when it comes the
// conversation is offered to the agent who resolved it.
import { expect } from 'chai';
import { ACTION, FIELD, VIEW } from '../../channels/slack/blocks.js';
import { slackDate } from '../../channels/slack/text.js';
import {
  adaOwnsMary,
  blockActions,
  cardButtons,
  cardRoleLine,
  cardThreadTexts,
  cardTsOf,
  dmOf,
  type SlackHarness,
  shownCard,
  startSlackHarness,
  useSlackHarness,
  viewSubmission,
} from './slack-harness.js';

const ADA = 'U0ADA00001';
const BOB = 'U0BOB00001';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// biome-ignore lint/suspicious/noExplicitAny: Block Kit JSON as the stand-in recorded it
type Json = any;

/** Ada presses Resolve with follow-up… on her card: the form Slack was asked to open. */
async function openForm(h: SlackHarness, conversationId: string): Promise<Json> {
  await h
    .interact(
      blockActions({
        user: ADA,
        actionId: ACTION.followUp,
        value: conversationId,
        channel: dmOf(ADA),
        messageTs: cardTsOf(h, ADA),
      }),
    )
    .expect(200);
  await h.idle();
  return h.slack.ok('views.open').at(-1)?.args.view;
}

/** The form's choices: [the option's value, its text]. */
function choices(view: Json): Array<[string, string]> {
  const input = view.blocks.find((b: Json) => b.block_id === FIELD.followUpWhen.block);
  return input.element.options.map((o: Json) => [o.value, o.text.text]);
}

/** The form sent back with `choice` picked (and a date and time picked, in seconds). */
function submit(
  h: SlackHarness,
  conversationId: string,
  choice: string | null,
  picked: number | null = null,
) {
  return h.interact(
    viewSubmission(ADA, VIEW.followUp, conversationId, {
      [FIELD.followUpWhen.block]: {
        [FIELD.followUpWhen.action]: {
          type: 'radio_buttons',
          selected_option: choice === null ? null : { value: choice },
        },
      },
      [FIELD.followUpAt.block]: {
        [FIELD.followUpAt.action]: { type: 'datetimepicker', selected_date_time: picked },
      },
    }),
  );
}

describe('Slack console: resolving with a follow-up', () => {
  const sb = useSlackHarness();

  it('the card offers it; the form gives tomorrow morning, in 3 days, next week or a date; the thread and card say when it is due, and it comes back to the agent then', async () => {
    const h = sb();
    const { ada, conversationId } = await adaOwnsMary(h, ADA, BOB);
    expect(cardButtons(shownCard(h, ADA))).to.include(ACTION.followUp);
    const now = h.clock.now();
    const view = await openForm(h, conversationId);
    expect(view.callback_id).to.equal(VIEW.followUp);
    expect(view.private_metadata).to.equal(conversationId);
    expect(JSON.stringify(view)).to.contain('offered to you first');
    // Monday 2026-01-05 09:00 UTC (the team's zone: UTC, no opening hours set).
    const tomorrow = Date.parse('2026-01-06T09:00:00Z');
    const nextWeek = Date.parse('2026-01-12T09:00:00Z');
    expect(new Date(now).toISOString()).to.equal('2026-01-05T09:00:02.000Z');
    expect(choices(view)).to.deep.equal([
      [`at:${tomorrow}`, `*Tomorrow morning* · ${slackDate(tomorrow)}`],
      [`at:${now + 3 * DAY}`, `*In 3 days* · ${slackDate(now + 3 * DAY)}`],
      [`at:${nextWeek}`, `*Next week* · ${slackDate(nextWeek)}`],
      ['pick', '*On a date and time I pick* (below)'],
    ]);

    await submit(h, conversationId, `at:${now + 3 * DAY}`).expect(200);
    await h.idle();
    const resolved = (await h.store.getConversation(conversationId))!;
    expect(resolved.status).to.equal('resolved');
    expect(resolved.followUpAt).to.equal(now + 3 * DAY);
    const followUp = (await h.store.listPromises(conversationId)).find((p) => p.kind === 'follow-up')!;
    expect(followUp).to.include({ state: 'open', dueAt: now + 3 * DAY, agentId: ada.id });
    // One line says it all: resolved, when the follow-up is due, what happens then.
    const lines = cardThreadTexts(h, ADA);
    expect(lines.at(-1)).to.equal(
      `:white_check_mark: Resolved by *Ada*. Follow-up due ${slackDate(now + 3 * DAY)}: a new conversation opens then to reach out to *Mary Major*, offered to you first.`,
    );
    expect(lines.filter((l) => l.includes('Promise'))).to.deep.equal([]);
    const card = shownCard(h, ADA);
    expect(cardRoleLine(card)).to.contain(`Follow-up due ${slackDate(now + 3 * DAY)}.`);
    expect(cardButtons(card)).to.deep.equal([]);

    // The follow-up comes: a new conversation with Mary, Ada's first.
    h.clock.advance(3 * DAY);
    await h.sb.router.tick();
    await h.idle();
    const touchpoint = (await h.store.listConversations({ status: 'assigned' })).find(
      (c) => c.followUpOf?.conversationId === conversationId,
    );
    expect(touchpoint?.ownerId).to.equal(ada.id);
  });

  it('a date and time picked is taken; none picked, a time passed or a choice not offered is said on the form, nothing resolved', async () => {
    const h = sb();
    const { conversationId } = await adaOwnsMary(h, ADA, BOB);
    const now = h.clock.now();
    const refusals: Array<[string | null, number | null, string, string]> = [
      [null, null, FIELD.followUpWhen.block, 'Pick when to follow up.'],
      ['pick', null, FIELD.followUpAt.block, 'Pick a date and time to follow up.'],
      ['pick', Math.floor(now / 1000) - 60, FIELD.followUpAt.block, 'That time has passed'],
      [`at:${now - HOUR}`, null, FIELD.followUpWhen.block, 'That time has passed'],
      [`at:${now + 400 * DAY}`, null, FIELD.followUpWhen.block, 'Pick a time within a year.'],
      ['tomorrow; DROP', null, FIELD.followUpWhen.block, 'Pick when to follow up.'],
    ];
    for (const [choice, picked, field, said] of refusals) {
      const res = await submit(h, conversationId, choice, picked).expect(200);
      expect(res.body.response_action, `${choice}`).to.equal('errors');
      expect(Object.keys(res.body.errors)).to.deep.equal([field]);
      expect(res.body.errors[field]).to.contain(said);
    }
    expect((await h.store.getConversation(conversationId))!.status).to.equal('assigned');

    const at = Math.floor(now / 1000) + 5 * 24 * 3600;
    await submit(h, conversationId, 'pick', at).expect(200);
    await h.idle();
    expect((await h.store.getConversation(conversationId))!.followUpAt).to.equal(at * 1000);
  });

  it("tomorrow morning and next week are 09:00 in the team's time zone (the opening hours')", async () => {
    const week = Object.fromEntries(
      ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, '00:00-24:00']),
    );
    const h = await startSlackHarness({
      env: { ROUTING_POLICY: JSON.stringify({ hours: { timeZone: 'America/New_York', week } }) },
    });
    try {
      const { conversationId } = await adaOwnsMary(h, ADA, BOB);
      const values = choices(await openForm(h, conversationId)).map(([v]) => v);
      // 09:00 in New York in January is 14:00 UTC; it is Monday 04:00 there now.
      expect(values[0]).to.equal(`at:${Date.parse('2026-01-06T14:00:00Z')}`);
      expect(values[2]).to.equal(`at:${Date.parse('2026-01-12T14:00:00Z')}`);
    } finally {
      await h.close();
    }
  });

  it('from a card whose conversation was resolved meanwhile: no form, the agent is told when it was resolved', async () => {
    const h = sb();
    const { ada, conversationId } = await adaOwnsMary(h, ADA, BOB);
    const resolvedAt = h.clock.now();
    await h.sb.router.resolve(ada.id, conversationId);
    await h.idle();
    expect(await openForm(h, conversationId)).to.equal(undefined);
    const told = h.slack.ok('chat.postEphemeral', (a) => a.user === ADA).map((c) => String(c.args.text));
    expect(told).to.deep.equal([
      `This conversation was resolved ${slackDate(resolvedAt)} by you. Nothing was sent or changed.`,
    ]);
  });
});
