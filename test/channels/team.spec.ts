// The team's live view as channels/team.ts reads it from the store, and what Slack's team channel is told
// when a caller's call back is at risk: a caller who asked for a call back is shown the time they were
// told for it, not the wait quoted before they asked.
import { expect } from 'chai';
import { atRiskText } from '../../channels/slack/alerts.js';
import { slackDate } from '../../channels/slack/text.js';
import { type DayFigures, readLiveView } from '../../channels/team.js';
import { harness, SECOND } from '../routing/harness.js';

const day = async (): Promise<DayFigures> => ({
  since: 0,
  timeToHumanSeconds: { p50: null, p90: null, samples: 0 },
  quotes: { kept: 0, broken: 0, keptShare: null, pessimism: null },
  conversations: { queued: 0, assigned: 0, resolved: 0, abandoned: 0 },
});

describe('the team view (channels/team.ts)', () => {
  it('a caller waiting for a call back shows the call back time; at risk, the team channel hears of it', async () => {
    const h = harness();
    const ana = await h.agent('Ana', { capacity: { voice: 1 } });
    const busy = await h.contact({ channel: 'voice', from: '+14155550101' });
    await h.router.acceptOffer(ana.id, busy.conversation.id);
    const call = await h.contact({ channel: 'voice', from: '+14155550102' });
    const promise = await h.router.requestCallback(call.conversation.id);
    await h.router.liveContactEnded(call.conversation.id);

    let view = await readLiveView(h.store, day, null, h.clock.now());
    expect(view.waiting.map((w) => [w.conversationId, w.customer, w.channel, w.quoted])).to.deep.equal([
      [
        call.conversation.id,
        '+14155550102',
        'voice',
        { dueAt: promise.dueAt, kind: 'callback', late: false },
      ],
    ]);
    expect(view.channels.voice).to.deep.equal({
      on: true,
      waiting: 1,
      longestWaitSeconds: 0,
      agentsFree: 0,
      freeSlots: 0,
      inProgress: 1,
    });

    // 553 s on, the call back is at risk: the caller is told a new time, and the team what stands.
    await h.advance(553 * SECOND);
    const [risk] = h.eventsOf('promise.at_risk');
    expect(risk?.promise.id).to.equal(promise.id);
    view = await readLiveView(h.store, day, null, h.clock.now());
    expect(view.waiting[0]?.quoted).to.deep.equal({
      dueAt: risk!.revised!.dueAt,
      kind: 'callback',
      late: false,
    });
    const conversation = await h.store.getConversation(call.conversation.id);
    expect(atRiskText(risk!, conversation, view.waiting[0]!.customer, view)).to.equal(
      [
        `:hourglass_flowing_sand: *+14155550102* (phone) will wait for the call back they were promised past the time they were told (${slackDate(promise.dueAt)}). They were told ${slackDate(risk!.revised!.dueAt)} now.`,
        'phone now: 1 waiting, longest 9 min · nobody free. `/switchboard team` shows the whole team.',
      ].join('\n'),
    );
  });
});
