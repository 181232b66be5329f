// The web console in a real browser, with calls through Twilio (the stand-in): a call ringing the agent says it is
// a call, and a call back says so, since picking it up rings the customer next; accepting it in the console and
// then picking up the phone puts the agent through to the customer.
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { SAY } from '../../channels/voice/twiml.js';
import type { Agent } from '../../shared/model.js';
import {
  callStatus,
  gathered,
  incomingCall,
  incomingSms,
  legPicksUp,
  newCall,
  newSms,
  queueResult,
  SECOND,
  useTwilioHarness,
} from '../channels/twilio-harness.js';
import { launchChromium } from '../support/chromium.js';
import { only, queryOf, verbs } from '../support/twiml.js';

describe('e2e: calls in the web console in Chromium', function () {
  this.timeout(120_000);
  const h = useTwilioHarness();
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  /** The agent's web console, open in Chromium once it greets them; `el` finds its parts by data-sb. */
  async function consoleOf(agent: Agent) {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('pageerror', (err) => {
      throw err;
    });
    await page.goto(`${h().local}/console?token=${h().sb.tokens.sign('agent', agent.id)}`);
    const el = (name: string) => page.locator(`[data-sb="${name}"]`);
    await el('agent-name').filter({ hasText: agent.name }).waitFor();
    return { page, el };
  }

  it('says "Incoming call", and for a call back says the phone rings first; Accept then picking up dials the customer', async () => {
    const ana = await h().agent('Ana', { clientIdentity: 'ana', capacity: { voice: 1 } });
    const { el } = await consoleOf(ana);

    // A live call rings her.
    const busy = only(await h().twiml('/twilio/voice', incomingCall(newCall('+14155550181'))), 'Dial');
    const busyId = queryOf(busy.attrs.action).conversation!;
    await el('offer-text').waitFor();
    expect(await el('offer-text').textContent()).to.match(/^Incoming call from \+14155550181 — answer by /);
    await el('offer-accept').click();
    await el('offer-text').waitFor({ state: 'detached' });

    // A second caller asks for a call back and hangs up.
    const caller = newCall('+14155550182');
    const enqueue = only(await h().twiml('/twilio/voice', incomingCall(caller)), 'Enqueue');
    const waitingId = queryOf(enqueue.attrs.waitUrl).conversation!;
    h().clock.advance(SECOND);
    await h().twiml(`/twilio/voice/gather?conversation=${waitingId}`, gathered(caller, '1'));
    await h().twiml(`/twilio/voice/queue?conversation=${waitingId}`, queueResult(caller, 'leave'));
    await h().twiml('/twilio/voice/status', callStatus(caller, 'completed'));

    // Ana resolves the first: the call back is offered to her, and her phone is rung for it.
    await h().sb.router.resolve(ana.id, busyId);
    await h().idle();
    await el('offer-text').waitFor();
    expect(await el('offer-text').textContent()).to.match(
      /^Call back \+14155550182: your phone rings now; pick it up and Switchboard dials them — answer by /,
    );
    const [leg] = h().standIn.calls();
    expect(leg?.params.To).to.equal('client:ana');
    await el('offer-accept').click();
    await el('offer-text').waitFor({ state: 'detached' });
    // Then she picks up: put through to the customer.
    const onLeg = await legPicksUp(h(), leg!);
    expect(verbs(onLeg)).to.deep.equal(['Say', 'Dial']);
    expect(only(onLeg, 'Say').text).to.equal(SAY.callbackConnecting);
    expect(only(onLeg, 'Number').text).to.equal(caller.From);
  });

  it('names a caller who hid their number "Hidden number"; Call them rings the agent for a customer with a number', async () => {
    const ana = await h().agent('Ana', { clientIdentity: 'ana', capacity: { voice: 1, sms: 3 } });
    const { page, el } = await consoleOf(ana);

    // A caller who withheld their number rings her: said as such, never by the call's id.
    const hidden = newCall('anonymous');
    const dial = only(await h().twiml('/twilio/voice', incomingCall(hidden)), 'Dial');
    const hiddenId = queryOf(dial.attrs.action).conversation!;
    await el('offer-text').waitFor();
    // Told apart from other hidden callers by the end of their customer id.
    const hiddenName = `Hidden number ${(await h().store.getConversation(hiddenId))!.customerId.slice(-4)}`;
    expect(await el('offer-text').textContent()).to.match(
      new RegExp(`^Incoming call from ${hiddenName} — answer by `),
    );
    await el('offer-accept').click();
    await page.locator('#conv-title', { hasText: hiddenName }).waitFor();
    expect(await page.locator('body').textContent()).not.to.contain(hidden.CallSid);
    // Nobody to call back, nor a block that could reach their next call.
    expect(await el('call').isHidden()).to.equal(true);
    expect(await el('block').isHidden()).to.equal(true);
    expect(await page.locator('body').textContent()).to.contain(
      'the caller withheld their number: no reply can reach them',
    );
    await h().sb.router.resolve(ana.id, hiddenId);

    // A texter: she can phone them.
    await h().twiml('/twilio/sms', incomingSms(newSms('+14155550190', 'can you ring me?')));
    const [texted] = await h().store.listConversations({ status: 'assigned' });
    await page.locator(`[data-conversation-id="${texted!.id}"]`).click();
    await page.locator('#conv-title', { hasText: '+14155550190' }).waitFor();
    await el('call').waitFor();
    await el('call').click();
    await page
      .locator('#notice', {
        hasText: 'Your phone rings now: pick it up and Switchboard dials the customer at +14155550190.',
      })
      .waitFor();
    const [leg] = h().standIn.calls();
    expect(leg?.params.To).to.equal('client:ana');
    await page.locator('[data-sb="messages"]', { hasText: "Ana's phone rings first" }).waitFor();
  });

  it('accepting a hand-off with no room left says so in words, not with ids', async () => {
    const ana = await h().agent('Ana', { clientIdentity: 'ana', capacity: { voice: 1 } });
    const first = only(await h().twiml('/twilio/voice', incomingCall(newCall('+14155550191'))), 'Dial');
    await h().sb.router.acceptOffer(ana.id, queryOf(first.attrs.action).conversation!);
    const bea = await h().agent('Bea', { clientIdentity: 'bea', capacity: { voice: 1 } });
    const second = only(await h().twiml('/twilio/voice', incomingCall(newCall('+14155550192'))), 'Dial');
    const secondId = queryOf(second.attrs.action).conversation!;
    await h().sb.router.acceptOffer(bea.id, secondId);
    // Bea's one voice slot is taken: Ana offers her the other call anyway.
    const { page, el } = await consoleOf(bea);
    await h().sb.router.handoff(ana.id, queryOf(first.attrs.action).conversation!, bea.id, 'your customer');
    await el('handoff-accept').click();
    await el('error').waitFor();
    expect(await page.locator('#error-text').textContent()).to.equal(
      'You have no room for another voice conversation now. A place is kept for it: accept once you finish one.',
    );
  });
});
