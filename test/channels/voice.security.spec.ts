// Every Twilio webhook is verified with the twilio package against PUBLIC_URL + path:
// a missing or wrong signature is 403 and logged; a signed but malformed request is 400;
// nothing is stored for either.
import { expect } from 'chai';
import request from 'supertest';
import twilio from 'twilio';
import { SAY } from '../../channels/voice/twiml.js';
import { defaultPolicy, fillText, parsePolicy, TEXT_CAP } from '../../routing/policy.js';
import { all, verbs } from '../support/twiml.js';
import { AUTH_TOKEN, incomingCall, newCall, PUBLIC_URL, useTwilioHarness } from './twilio-harness.js';

const CALLER = '+14155550123';

describe('Voice channel: signatures and bad input', () => {
  const h = useTwilioHarness();

  async function nothingStored(): Promise<void> {
    expect(await h().store.listConversations({})).to.deep.equal([]);
  }

  it('a forged signature gets 403, is logged, and nothing is stored', async () => {
    const params = incomingCall(newCall(CALLER));
    const forged = twilio.getExpectedTwilioSignature(
      'not-the-auth-token-0123456789',
      `${PUBLIC_URL}/twilio/voice`,
      params,
    );
    const res = await h().webhook('/twilio/voice', params, { signature: forged });
    expect(res.status).to.equal(403);
    expect(h().logs.map((l) => [l.msg, l.signature])).to.deep.include([
      'twilio: webhook refused: bad signature',
      'wrong',
    ]);
    await nothingStored();
  });

  it('a missing signature gets 403', async () => {
    const res = await h().webhook('/twilio/voice', incomingCall(newCall(CALLER)), { signature: null });
    expect(res.status).to.equal(403);
    expect(h().logs.map((l) => l.signature)).to.deep.equal(['missing']);
    await nothingStored();
  });

  it('a signature over another URL (the host the server sees, not PUBLIC_URL) gets 403', async () => {
    const res = await h().webhook('/twilio/voice', incomingCall(newCall(CALLER)), {
      signedUrl: 'http://127.0.0.1/twilio/voice',
    });
    expect(res.status).to.equal(403);
    await nothingStored();
  });

  it('a tampered parameter breaks the signature: 403', async () => {
    const params = incomingCall(newCall(CALLER));
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, `${PUBLIC_URL}/twilio/voice`, params);
    const res = await h().webhook('/twilio/voice', { ...params, From: '+14155550999' }, { signature });
    expect(res.status).to.equal(403);
    await nothingStored();
  });

  it('parameters Twilio adds later are signed and accepted', async () => {
    const root = await h().twiml('/twilio/voice', incomingCall(newCall(CALLER), { SomethingNew: 'yes' }));
    expect(verbs(root)).to.deep.equal(['Say', 'Enqueue']);
  });

  it('a signed request without a CallSid, or with a malformed one, gets 400 naming the field', async () => {
    const { CallSid: _omit, ...noSid } = incomingCall(newCall(CALLER));
    const missing = await h().webhook('/twilio/voice', noSid);
    expect([missing.status, missing.text]).to.deep.equal([400, 'call: CallSid: is required']);
    const bad = await h().webhook(
      '/twilio/voice',
      incomingCall({ CallSid: 'CA123', From: CALLER, To: '+14155550100' }),
    );
    expect(bad.status).to.equal(400);
    expect(bad.text).to.contain('CallSid');
    await nothingStored();
  });

  it('a callback URL with a bad query gets 400', async () => {
    const res = await h().webhook('/twilio/voice/wait?conversation=', incomingCall(newCall(CALLER)));
    expect([res.status, res.text]).to.deep.equal([
      400,
      'query: conversation: Too small: expected string to have >=1 characters',
    ]);
  });

  it('a body that is not a form is not read: signed over its fields it gets 403, signed over nothing 400', async () => {
    const params = incomingCall(newCall(CALLER));
    const url = `${PUBLIC_URL}/twilio/voice`;
    const json = await request(h().local)
      .post('/twilio/voice')
      .set('X-Twilio-Signature', twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params))
      .type('json')
      .send(JSON.stringify(params));
    expect(json.status).to.equal(403);
    const empty = await request(h().local)
      .post('/twilio/voice')
      .set('X-Twilio-Signature', twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, {}))
      .type('json')
      .send(JSON.stringify(params));
    expect(empty.status).to.equal(400);
    await nothingStored();
  });

  it('an oversized body gets 413 and the process carries on', async () => {
    const res = await h().webhook('/twilio/voice', {
      ...incomingCall(newCall(CALLER)),
      Junk: 'x'.repeat(70_000),
    });
    expect(res.status).to.equal(413);
    const ok = await h().twiml('/twilio/voice', incomingCall(newCall(CALLER)));
    expect(verbs(ok)).to.deep.equal(['Say', 'Enqueue']);
  });

  it('an unknown path under /twilio is 403 unsigned and 404 signed', async () => {
    expect((await h().webhook('/twilio/nope', {}, { signature: null })).status).to.equal(403);
    expect((await h().webhook('/twilio/nope', { a: 'b' })).status).to.equal(404);
  });

  it('every sentence Switchboard says is within the cap', () => {
    for (const text of [
      ...Object.values(defaultPolicy().texts),
      SAY.callbackTaken,
      SAY.callbackConnecting,
      SAY.callbackRetry(120),
      SAY.callbackRetry(120, true),
      fillText(defaultPolicy().texts.callbackConfirmed, {
        digits: '0 1 2 3',
        when: fillText(defaultPolicy().texts.callbackWithin, { wait: '119 minutes' }),
      }),
      SAY.callbackFailed,
    ]) {
      expect(text.length, text).to.be.at.most(TEXT_CAP);
    }
  });
});

describe('Voice channel: a wait notice configured to the cap', () => {
  const long = `${'Thank you for calling; '.repeat(7)}you are number {position}, within {wait}.`;
  const h = useTwilioHarness({
    env: { ROUTING_POLICY: JSON.stringify({ texts: { waitNotice: long.slice(0, 200) } }) },
  });

  it('is still said as one sentence under the cap', async () => {
    expect(parsePolicy({ texts: { waitNotice: long.slice(0, 200) } }).texts.waitNotice.length).to.equal(200);
    // Ana is ringing for the first caller, so the second waits and hears the notice.
    await h().agent('Ana', { clientIdentity: 'ana', capacity: { voice: 1 } });
    expect(verbs(await h().twiml('/twilio/voice', incomingCall(newCall('+14155550144'))))).to.deep.equal([
      'Dial',
    ]);
    const root = await h().twiml('/twilio/voice', incomingCall(newCall(CALLER)));
    const says = all(root, 'Say');
    expect(says).to.have.length(1);
    expect(says[0]!.text.length).to.be.at.most(TEXT_CAP);
  });
});
