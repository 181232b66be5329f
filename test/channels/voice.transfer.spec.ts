// A caller on the line with an agent who hands the conversation to a colleague: once the colleague accepts,
// the caller is put through to them (the live call gets new TwiML over the real REST client, against the
// Twilio stand-in); the conversation notes it. Webhooks signed as Twilio signs them.
import { expect } from 'chai';
import type { Agent } from '../../shared/model.js';
import { only, parseTwiml, pathOf, queryOf, verbs } from '../support/twiml.js';
import {
  callStatus,
  dialResult,
  incomingCall,
  localPath,
  newCall,
  type TwilioHarness,
  useTwilioHarness,
} from './twilio-harness.js';

const CALLER = '+14155550123';

describe('Voice channel: a hand-off during a call puts the caller through', () => {
  const h = useTwilioHarness();

  /** A caller Ana picked up: the call and its conversation. */
  async function onTheLineWithAna(harness: TwilioHarness, ana: Agent) {
    const call = newCall(CALLER);
    const root = await harness.twiml('/twilio/voice', incomingCall(call));
    const dial = only(root, 'Dial');
    expect(queryOf(dial.attrs.action).agent).to.equal(ana.id);
    await harness.twiml(
      localPath(only(root, 'Client').attrs.statusCallback),
      callStatus(newCall(CALLER, 'client:ana'), 'in-progress', { ParentCallSid: call.CallSid }),
    );
    return { call, conversationId: queryOf(dial.attrs.action).conversation!, anaDial: dial.attrs.action };
  }

  const notes = async (conversationId: string) =>
    (await h().store.listMessages(conversationId))
      .filter((m) => m.direction === 'internal')
      .map((m) => m.text);

  it('the colleague accepts: their phone rings for the caller, who hears so; picking up makes it theirs on the line', async () => {
    const ana = await h().agent('Ana', { clientIdentity: 'ana' });
    const bea = await h().agent('Bea', { clientIdentity: 'bea' });
    const { call, conversationId } = await onTheLineWithAna(h(), ana);
    await h().sb.router.handoff(ana.id, conversationId, bea.id, 'billing question');
    await h().idle();
    expect(h().standIn.callUpdates()).to.deep.equal([]); // offered only: still with Ana
    // Bea, offered it, learns a caller is on the line.
    expect((await notes(conversationId)).at(-1)).to.equal(
      'The caller is on the line with Ana: if Bea accepts, their phone rings for the caller at once.',
    );
    await h().sb.router.acceptHandoff(bea.id, conversationId);
    await h().idle();

    const [update, ...more] = h().standIn.callUpdates();
    expect(more).to.deep.equal([]);
    expect(update?.sid).to.equal(call.CallSid);
    const twiml = parseTwiml(String(update!.params.Twiml));
    expect(verbs(twiml)).to.deep.equal(['Say', 'Dial']);
    expect(only(twiml, 'Say').text).to.equal('Putting you through to Bea now.');
    expect(only(twiml, 'Client').text).to.equal('bea');
    const dial = only(twiml, 'Dial');
    expect(pathOf(dial.attrs.action)).to.equal('/twilio/voice/dial');
    expect(queryOf(dial.attrs.action)).to.deep.equal({ conversation: conversationId, agent: bea.id });
    expect((await notes(conversationId)).at(-1)).to.equal('The caller is put through to Bea.');

    // Bea picks up: on the line with the caller, and the call is hers from then on.
    await h().twiml(
      localPath(only(twiml, 'Client').attrs.statusCallback),
      callStatus(newCall(CALLER, 'client:bea'), 'in-progress', { ParentCallSid: call.CallSid }),
    );
    const conv = await h().store.getConversation(conversationId);
    expect([conv?.status, conv?.ownerId]).to.deep.equal(['assigned', bea.id]);
    // Later changes do not move it again.
    await h().sb.router.note(bea.id, conversationId, 'sorted the invoice');
    await h().idle();
    expect(h().standIn.callUpdates()).to.have.length(1);
    const after = await h().twiml(localPath(dial.attrs.action), dialResult(call, 'completed'));
    expect(verbs(after)).to.deep.equal(['Hangup']);
  });

  it('the colleague does not pick up: they are set away, and the caller is not left ringing', async () => {
    const ana = await h().agent('Ana', { clientIdentity: 'ana' });
    const bea = await h().agent('Bea', { clientIdentity: 'bea' });
    const { call, conversationId, anaDial } = await onTheLineWithAna(h(), ana);
    await h().sb.router.handoff(ana.id, conversationId, bea.id, 'billing question');
    await h().sb.router.acceptHandoff(bea.id, conversationId);
    await h().idle();
    // Twilio asks Ana's <Dial action> as the call moves to the new TwiML: it goes on with Bea's.
    const moved = await h().twiml(localPath(anaDial), dialResult(call, 'completed'));
    expect(verbs(moved)).to.deep.equal(['Say', 'Dial']);
    const twiml = parseTwiml(String(h().standIn.callUpdates()[0]!.params.Twiml));
    const next = await h().twiml(localPath(only(twiml, 'Dial').attrs.action), dialResult(call, 'no-answer'));
    expect((await h().store.getAgent(bea.id))?.status).to.equal('away');
    // Bea stays the owner; Ana, free again, covers the call while Bea is away.
    expect(verbs(next)).to.deep.equal(['Dial']);
    expect(only(next, 'Client').text).to.equal('ana');
    const conv = await h().store.getConversation(conversationId);
    expect([conv?.ownerId, conv?.cover?.agentId]).to.deep.equal([bea.id, ana.id]);
  });

  it('handed on again: the colleague who picked up hands it to a third, and the caller is put through again', async () => {
    const ana = await h().agent('Ana', { clientIdentity: 'ana' });
    const bea = await h().agent('Bea', { clientIdentity: 'bea' });
    const cy = await h().agent('Cy', { clientIdentity: 'cy' });
    const { call, conversationId, anaDial } = await onTheLineWithAna(h(), ana);
    await h().sb.router.handoff(ana.id, conversationId, bea.id, 'billing question');
    await h().sb.router.acceptHandoff(bea.id, conversationId);
    await h().idle();
    await h().twiml(localPath(anaDial), dialResult(call, 'completed'));
    const toBea = parseTwiml(String(h().standIn.callUpdates()[0]!.params.Twiml));
    await h().twiml(
      localPath(only(toBea, 'Client').attrs.statusCallback),
      callStatus(newCall(CALLER, 'client:bea'), 'in-progress', { ParentCallSid: call.CallSid }),
    );
    await h().sb.router.handoff(bea.id, conversationId, cy.id, 'refund');
    await h().sb.router.acceptHandoff(cy.id, conversationId);
    await h().idle();
    const updates = h().standIn.callUpdates();
    expect(updates).to.have.length(2);
    expect(only(parseTwiml(String(updates[1]!.params.Twiml)), 'Client').text).to.equal('cy');
    expect((await notes(conversationId)).at(-1)).to.equal('The caller is put through to Cy.');
  });

  it('a colleague with nothing to ring, or Twilio refusing the update: the caller stays with the agent, noted once', async () => {
    const ana = await h().agent('Ana', { clientIdentity: 'ana' });
    const cy = await h().agent('Cy');
    const first = await onTheLineWithAna(h(), ana);
    await h().sb.router.handoff(ana.id, first.conversationId, cy.id, 'over to you');
    await h().sb.router.acceptHandoff(cy.id, first.conversationId);
    await h().sb.router.note(cy.id, first.conversationId, 'on it');
    await h().idle();
    expect(h().standIn.callUpdates()).to.deep.equal([]);
    const said = (await notes(first.conversationId)).filter((t) => t.startsWith('The caller stays'));
    expect(said).to.deep.equal([
      'The caller stays on the line with Ana: Cy has no phone or Twilio Client identity to ring.',
    ]);
  });

  it('Twilio refusing the update: said once, and the caller stays with the agent', async () => {
    const ana = await h().agent('Ana', { clientIdentity: 'ana', capacity: { voice: 2 } });
    const bea = await h().agent('Bea', { clientIdentity: 'bea' });
    const { conversationId } = await onTheLineWithAna(h(), ana);
    h().standIn.failNext('call-update', { status: 500, code: 20500, message: 'Internal Server Error' });
    await h().sb.router.handoff(ana.id, conversationId, bea.id, 'billing question');
    await h().sb.router.acceptHandoff(bea.id, conversationId);
    await h().sb.router.note(bea.id, conversationId, 'on it');
    await h().idle();
    expect(h().standIn.callUpdates()).to.deep.equal([]);
    expect((await notes(conversationId)).filter((t) => t.startsWith('The caller could not'))).to.deep.equal([
      'The caller could not be put through to Bea; they are still on the line with Ana.',
    ]);
  });

  it('the caller hangs up just as the colleague accepts: noted as such, not as still on the line', async () => {
    const ana = await h().agent('Ana', { clientIdentity: 'ana' });
    const bea = await h().agent('Bea', { clientIdentity: 'bea' });
    const { call, conversationId } = await onTheLineWithAna(h(), ana);
    h().standIn.endCall(call.CallSid);
    await h().sb.router.handoff(ana.id, conversationId, bea.id, 'billing question');
    await h().sb.router.acceptHandoff(bea.id, conversationId);
    await h().idle();
    expect((await notes(conversationId)).at(-1)).to.equal(
      'The caller hung up before they could be put through to Bea.',
    );
  });
});
