// The team channel in Slack hears when missed rings leave a caller waiting with
// nobody available: who is away and why (a missed call and when), who declined,
// at most once a minute. Real app, signed Twilio webhooks, Slack and Twilio stand-ins.
import { expect } from 'chai';
import { parseTwiml, queryOf } from '../support/twiml.js';
import { PUBLIC_URL, type SlackHarness, startSlackHarness, TWILIO_SID } from './slack-harness.js';

const TEAM = 'C0TEAM0001';
const OUR_NUMBER = '+14155550100';

/** A call from `from` comes in; the `<Dial>` it is given, as Twilio would post its action. */
async function callIn(h: SlackHarness, from: string, sid: string) {
  const params = {
    AccountSid: TWILIO_SID,
    CallSid: sid,
    CallStatus: 'ringing',
    From: from,
    To: OUR_NUMBER,
    Direction: 'inbound',
  };
  const res = await h.twilioWebhook('/twilio/voice', params).expect(200);
  return { params, root: parseTwiml(res.text) };
}

/** The `<Dial>` ends with `status`: the TwiML that comes next. */
async function dialEnds(h: SlackHarness, action: string, params: Record<string, string>, status: string) {
  const u = new URL(action);
  expect(`${u.protocol}//${u.host}`).to.equal(PUBLIC_URL);
  const res = await h
    .twilioWebhook(`${u.pathname}${u.search}`, {
      ...params,
      CallStatus: 'in-progress',
      DialCallStatus: status,
      DialCallSid: `CA${'e'.repeat(32)}`,
    })
    .expect(200);
  return parseTwiml(res.text);
}

const dialAction = (root: ReturnType<typeof parseTwiml>) =>
  root.children.find((c) => c.name === 'Dial')?.attrs.action ?? '';

describe('Slack team channel: a caller nobody is available for', () => {
  let h: SlackHarness;
  beforeEach(async () => {
    h = await startSlackHarness({ twilio: true, env: { SLACK_TEAM_CHANNEL: TEAM } });
  });
  afterEach(() => h.close());

  it('is posted when missed rings leave nobody to ring, with who is away and why, at most once a minute', async () => {
    await h.agent('Ana', null, { phone: '+14155550901' });
    await h.agent('Bo', null, { phone: '+14155550902' });
    const { params, root } = await callIn(h, '+14155552001', `CA${'1'.repeat(32)}`);
    const at = new Date(h.clock.now()).toISOString().slice(11, 16);
    const toBo = await dialEnds(h, dialAction(root), params, 'no-answer');
    expect(queryOf(dialAction(toBo)).conversation).to.be.a('string');
    const held = await dialEnds(h, dialAction(toBo), params, 'busy');
    expect(held.children.map((c) => c.name)).to.deep.equal(['Say', 'Enqueue']);
    await h.idle();
    const posts = h.slack.ok('chat.postMessage', (a) => a.channel === TEAM).map((c) => String(c.args.text));
    expect(posts).to.have.length(1);
    expect(posts[0]!.split('\n')[0]).to.equal(
      `:rotating_light: *+14155552001* (phone) is waiting and nobody is available to take it: Ana (missed a call at ${at}) is away; Bo declined it. Make yourself available to take it.`,
    );

    // A second caller rings Bo (free for them), who misses it within the minute: not posted again.
    const second = await callIn(h, '+14155552002', `CA${'2'.repeat(32)}`);
    const againHeld = await dialEnds(h, dialAction(second.root), second.params, 'no-answer');
    expect(againHeld.children.map((c) => c.name)).to.deep.equal(['Say', 'Enqueue']);
    await h.idle();
    expect(h.slack.ok('chat.postMessage', (a) => a.channel === TEAM)).to.have.length(1);
  });
});
