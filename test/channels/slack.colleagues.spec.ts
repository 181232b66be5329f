// Hand-off and consult pickers in Slack offer the whole team by name, marked
// available or away: a colleague who works only in the web console (no Slack
// account) can be chosen, and gets the offer or the invitation in their console.
import { expect } from 'chai';
import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import { ACTION, FIELD, VIEW } from '../../channels/slack/blocks.js';
import type { Agent } from '../../shared/model.js';
import {
  adaOwnsMary,
  blockActions,
  blockSuggestion,
  cardRoleLine,
  cardTsOf,
  dmOf,
  pressCard,
  type SlackHarness,
  shownCard,
  useSlackHarness,
  viewSubmission,
} from './slack-harness.js';

const ADA = 'U0ADA00001';
const BOB = 'U0BOB00001';
const CAT = 'U0CAT00001';
// biome-ignore lint/suspicious/noExplicitAny: Block Kit JSON and socket payloads as received
type Json = any;

/** Grace, who works only in the web console: created by the admin API, her console connected. */
async function graceInTheConsole(h: SlackHarness): Promise<{ grace: Agent; socket: Socket; heard: Json[] }> {
  const res = await request(h.url)
    .post('/api/agents')
    .set('Authorization', `Bearer ${h.config.adminToken}`)
    .send({ name: 'Grace' })
    .expect(201);
  const socket = io(`${h.url}/agent`, {
    auth: { token: res.body.token },
    forceNew: true,
    transports: ['websocket'],
    reconnection: false,
  });
  const heard: Json[] = [];
  socket.onAny((event: string, payload: Json) => heard.push({ event, payload }));
  await new Promise((resolve, reject) => {
    socket.once('hello', resolve);
    socket.once('connect_error', reject);
  });
  const ack = await socket.timeout(3000).emitWithAck('status', { status: 'available' });
  expect(ack.ok).to.equal(true);
  return { grace: res.body.agent, socket, heard };
}

/** What a console heard of `event`, once it has. */
async function heardOf(h: SlackHarness, heard: Json[], event: string): Promise<Json> {
  for (let i = 0; i < 100; i++) {
    await h.idle();
    const found = heard.find((e) => e.event === event);
    if (found) return found.payload;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`the console never heard ${event}`);
}

/** A select's option groups: [label, [option text, value]…]. */
function groups(select: Json): Array<[string, Array<[string, string]>]> {
  return select.option_groups.map((g: Json) => [
    g.label.text,
    g.options.map((o: Json) => [o.text.text, o.value]),
  ]);
}

describe('Slack console: colleagues in the web console', () => {
  const sb = useSlackHarness();

  it('Hand off lists the team by name (a web-console colleague too, the away marked, nobody offline); offered to her, her console gets it, and she takes it', async () => {
    const h = sb();
    const { ada, bob, conversationId } = await adaOwnsMary(h, ADA, BOB);
    const { grace, socket, heard } = await graceInTheConsole(h);
    try {
      const cat = await h.agent('Cat', CAT, { status: 'away' });
      await h.agent('Dan', null, { status: 'offline' });
      await pressCard(h, ADA, ACTION.handoff, conversationId);
      const view = h.slack.ok('views.open').at(-1)!.args.view;
      const target = view.blocks.find((b: Json) => b.block_id === FIELD.handoffTarget.block);
      expect(target.element.type).to.equal('static_select');
      expect(groups(target.element)).to.deep.equal([
        [
          'Available',
          [
            ['Bob', bob.id],
            ['Grace', grace.id],
          ],
        ],
        ['Away', [['Cat (away)', cat.id]]],
      ]);
      expect(ada.id).not.to.be.oneOf(
        target.element.option_groups.flatMap((g: Json) => g.options.map((o: Json) => o.value)),
      );

      await h
        .interact(
          viewSubmission(ADA, VIEW.handoff, conversationId, {
            [FIELD.handoffTarget.block]: {
              [FIELD.handoffTarget.action]: { type: 'static_select', selected_option: { value: grace.id } },
            },
            [FIELD.handoffNote.block]: {
              [FIELD.handoffNote.action]: { type: 'plain_text_input', value: 'She needs a new label' },
            },
          }),
        )
        .expect(200);
      const offer = await heardOf(h, heard, 'handoff.offer');
      expect(offer).to.deep.include({ conversationId, note: 'She needs a new label' });
      expect(offer.from).to.deep.equal({ id: ada.id, name: 'Ada' });

      const accepted = await socket.timeout(3000).emitWithAck('handoff.accept', { conversationId });
      expect(accepted.ok).to.equal(true);
      await h.idle();
      expect((await h.store.getConversation(conversationId))!.ownerId).to.equal(grace.id);
      expect(cardRoleLine(shownCard(h, ADA))).to.equal(
        'Now owned by *Grace*. This thread no longer gets updates.',
      );
    } finally {
      socket.disconnect();
    }
  });

  it('Consult invites a web-console colleague picked by name: her console is invited; a pick not of the team, or of oneself, is refused in words', async () => {
    const h = sb();
    const { ada, conversationId } = await adaOwnsMary(h, ADA, BOB);
    const { grace, socket, heard } = await graceInTheConsole(h);
    try {
      const consult = await pressCard(h, ADA, ACTION.consult, conversationId);
      const picker = consult.picker!;
      expect(
        groups(picker.section.accessory).flatMap(([, options]) => options.map(([name]) => name)),
      ).to.deep.equal(['Bob', 'Grace']);
      // Not one of the team (a forged or outdated value): said, nothing done.
      await consult.pick('ag_nobody');
      await consult.pick(ada.id);
      expect(
        h.slack.ok('chat.postEphemeral', (a) => a.user === ADA).map((c) => String(c.args.text)),
      ).to.deep.equal([
        'That person is not linked to a Switchboard agent.',
        'Pick a colleague, not yourself.',
      ]);

      await consult.pick(grace.id);
      const invite = await heardOf(h, heard, 'consult.invite');
      expect(invite).to.deep.equal({ conversationId, from: { id: ada.id, name: 'Ada' } });
      expect((await h.store.getConversation(conversationId))!.invited).to.deep.equal([grace.id]);
      expect(String(h.slack.ok('chat.update', (a) => a.ts === picker.ts).at(-1)!.args.text)).to.equal(
        'Invited *Grace* to help.',
      );
    } finally {
      socket.disconnect();
    }
  });

  it('with everyone else offline, Consult and Hand off say nobody can take it, with nothing to pick', async () => {
    const h = sb();
    const { bob, conversationId } = await adaOwnsMary(h, ADA, BOB);
    await h.sb.router.setAgentStatus(bob.id, 'offline');
    const threadTs = cardTsOf(h, ADA);
    for (const actionId of [ACTION.consult, ACTION.handoff])
      expect((await pressCard(h, ADA, actionId, conversationId)).picker).to.equal(null);
    const picker = h.slack
      .ok('chat.postMessage', (a) => a.thread_ts === threadTs && Array.isArray(a.blocks))
      .at(-1)!;
    expect(picker.args.text).to.equal(
      'Consult: nobody else on the team can be asked now (everyone else is offline). Try again when a colleague is back.',
    );
    expect(JSON.stringify(picker.args.blocks)).not.to.contain(ACTION.consultPick);
    const view = h.slack.ok('views.open').at(-1)!.args.view;
    expect(view.submit).to.equal(undefined);
    expect(JSON.stringify(view.blocks)).to.contain('Nobody else on the team can take *Mary Major* now');
  });

  it('a team of 150: Hand off and Consult search the team as the agent types (Slack options requests, signed); the 140th agent is offered, picked, and takes it', async () => {
    const h = sb();
    const { ada, conversationId } = await adaOwnsMary(h, ADA, BOB);
    // 147 more (web-console colleagues, a fifth of them away), and the 140th of the team, Noor, in Slack.
    const NOOR = 'U0NOOR0001';
    let noor: Agent | null = null;
    for (let n = 3; n <= 150; n++) {
      const name = `Teammate ${String(n).padStart(3, '0')}`;
      if (n === 140)
        noor = await h.sb.router.createAgent({ name: 'Noor Haddad', status: 'available', slackUserId: NOOR });
      else await h.sb.router.createAgent({ name, status: n % 5 === 0 ? 'away' : 'available' });
    }
    const team = await h.store.listAgents();
    expect(team.length).to.equal(150);
    const idOf = (name: string) => team.find((a) => a.name === name)!.id;

    // The form's select is searchable: Slack asks for its options as Ada types.
    await pressCard(h, ADA, ACTION.handoff, conversationId);
    const view = h.slack.ok('views.open').at(-1)!.args.view;
    const target = view.blocks.find((b: Json) => b.block_id === FIELD.handoffTarget.block);
    expect(target.element).to.deep.include({
      type: 'external_select',
      action_id: FIELD.handoffTarget.action,
    });
    expect(target.element.option_groups).to.equal(undefined);
    const suggest = (value: string, user = ADA) =>
      h
        .interact(
          blockSuggestion({
            user,
            actionId: target.element.action_id,
            blockId: target.block_id,
            value,
            view: { callback_id: view.callback_id, private_metadata: view.private_metadata },
          }),
        )
        .expect(200);
    // Opened with nothing typed: the first 100 of the team, available first; never Ada herself.
    const all = (await suggest('')).body;
    const offered = all.option_groups.flatMap((g: Json) => g.options.map((o: Json) => o.value));
    expect(offered).to.have.length(100);
    expect(offered).not.to.include(ada.id);
    expect(all.option_groups.map((g: Json) => g.label.text)).to.deep.equal(['Available']);
    // Typed, in any case: those whose name holds it.
    expect(groups((await suggest('hADd')).body)).to.deep.equal([['Available', [['Noor Haddad', noor!.id]]]]);
    expect(groups((await suggest('teammate 14')).body)).to.deep.equal([
      [
        'Available',
        [141, 142, 143, 144, 146, 147, 148, 149].map((n) => [`Teammate ${n}`, idOf(`Teammate ${n}`)]),
      ],
      ['Away', [['Teammate 145 (away)', idOf('Teammate 145')]]],
    ]);
    expect((await suggest('nobody by that name')).body).to.deep.equal({ options: [] });
    // Someone linked to no agent is offered nobody; an unsigned request is refused.
    expect((await suggest('hadd', 'U0STRANGER1')).body).to.deep.equal({ options: [] });
    await h
      .interact(
        blockSuggestion({
          user: ADA,
          actionId: target.element.action_id,
          blockId: target.block_id,
          value: 'hadd',
        }),
        {
          signature: 'v0=0000',
        },
      )
      .expect(401);

    await h
      .interact(
        viewSubmission(ADA, VIEW.handoff, conversationId, {
          [FIELD.handoffTarget.block]: {
            [FIELD.handoffTarget.action]: {
              type: 'external_select',
              selected_option: { text: { type: 'plain_text', text: 'Noor Haddad' }, value: noor!.id },
            },
          },
          [FIELD.handoffNote.block]: {
            [FIELD.handoffNote.action]: { type: 'plain_text_input', value: 'Her parcel is late' },
          },
        }),
      )
      .expect(200);
    await h.idle();
    expect((await h.store.getConversation(conversationId))!.handoff?.to).to.equal(noor!.id);
    await h
      .interact(
        blockActions({
          user: NOOR,
          actionId: ACTION.accept,
          value: conversationId,
          channel: dmOf(NOOR),
          messageTs: cardTsOf(h, NOOR),
        }),
      )
      .expect(200);
    await h.idle();
    expect((await h.store.getConversation(conversationId))!.ownerId).to.equal(noor!.id);
  });

  it('a team of 150: Consult searches the team in the thread; the colleague picked is invited', async () => {
    const h = sb();
    const { conversationId } = await adaOwnsMary(h, ADA, BOB);
    let target: Agent | null = null;
    for (let n = 3; n <= 150; n++) {
      const agent = await h.sb.router.createAgent({
        name: n === 140 ? 'Noor Haddad' : `Teammate ${n}`,
        status: 'available',
      });
      if (n === 140) target = agent;
    }
    const consult = await pressCard(h, ADA, ACTION.consult, conversationId);
    const picker = consult.picker!;
    expect(picker.section.accessory).to.deep.include({
      type: 'external_select',
      action_id: ACTION.consultPick,
    });
    const answer = await h
      .interact(
        blockSuggestion({
          user: ADA,
          actionId: ACTION.consultPick,
          blockId: picker.blockId,
          value: 'noor',
          channel: dmOf(ADA),
          messageTs: picker.ts,
          threadTs: picker.threadTs,
        }),
      )
      .expect(200);
    expect(groups(answer.body)).to.deep.equal([['Available', [['Noor Haddad', target!.id]]]]);
    await consult.pick(target!.id, 'external_select');
    expect((await h.store.getConversation(conversationId))!.invited).to.deep.equal([target!.id]);
  });

  it('a picker or form from before the team was offered (a Slack user picked) still works', async () => {
    const h = sb();
    const { bob, conversationId } = await adaOwnsMary(h, ADA, BOB);
    await h
      .interact(
        viewSubmission(ADA, VIEW.handoff, conversationId, {
          [FIELD.handoffTarget.block]: {
            [FIELD.handoffTarget.action]: { type: 'users_select', selected_user: BOB },
          },
          [FIELD.handoffNote.block]: {
            [FIELD.handoffNote.action]: { type: 'plain_text_input', value: 'yours?' },
          },
        }),
      )
      .expect(200);
    await h.idle();
    expect((await h.store.getConversation(conversationId))!.handoff?.to).to.equal(bob.id);
  });
});
