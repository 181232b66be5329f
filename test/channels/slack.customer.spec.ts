// What a card says of the customer: the name and facts they give (the chat
// widget's identify) as they give them, a visitor who gave none, a block. Through
// the real app, Bolt and the Slack stand-in.
import { expect } from 'chai';
import { ACTION, FIELD, VIEW } from '../../channels/slack/blocks.js';
import {
  appHomeOpened,
  blockActions,
  cardButtons,
  cardRoleLine,
  cardThreadTexts,
  cardTsOf,
  dmOf,
  shownCard,
  startSlackHarness,
  TWILIO_SID,
  useSlackHarness,
  viewSubmission,
} from './slack-harness.js';

const ADA = 'U0ADA00001';
const BOB = 'U0BOB00001';

describe('Slack cards: who the customer is', () => {
  const sb = useSlackHarness();

  it("a name a visitor typed cannot mention @channel or fake a link in the card's notification", async () => {
    const h = sb();
    await h.agent('Ada', ADA);
    const visitor = await h.visitor();
    await visitor.identify({ name: '<!channel> <https://evil.example.com|Your manager> *urgent*' });
    await visitor.say('hello');
    await h.idle();
    expect(shownCard(h, ADA).text).to.equal(
      '&lt;!channel&gt; &lt;https://evil.example.com|Your manager&gt; *urgent* (chat) is yours',
    );
  });

  it('a chat visitor who gave no name is "Website visitor" and a short tag on the card, never their visitor id', async () => {
    const h = sb();
    await h.agent('Ada', ADA);
    const visitor = await h.visitor();
    await visitor.say('hello');
    await h.idle();
    const card = shownCard(h, ADA);
    const tag = visitor.customerId.slice(-4);
    expect(card.text).to.equal(`Website visitor ${tag} (chat) is yours`);
    expect(card.blocks[0].text.text).to.equal(`Website visitor ${tag}`);
    const everything = JSON.stringify(h.slack.calls.map((c) => c.args));
    const customer = await h.store.getCustomer(visitor.customerId);
    const visitorId = customer!.identities.find((i) => i.channel === 'chat')!.address;
    expect(everything).not.to.contain(visitorId);
  });

  it('a caller who withheld their number is "Hidden number" and a short tag on the card, never the call id', async () => {
    const h = await startSlackHarness({ twilio: true });
    try {
      const ada = await h.agent('Ada', ADA, { clientIdentity: 'ada' });
      const callSid = `CA${'7'.repeat(32)}`;
      await h
        .twilioWebhook('/twilio/voice', {
          CallSid: callSid,
          AccountSid: TWILIO_SID,
          From: 'anonymous',
          To: '+14155550100',
          CallStatus: 'ringing',
          Direction: 'inbound',
          ApiVersion: '2010-04-01',
        })
        .expect(200);
      const [conversation] = await h.store.listConversations({});
      await h.sb.router.acceptOffer(ada.id, conversation!.id);
      await h.idle();
      const tag = conversation!.customerId.slice(-4);
      const card = shownCard(h, ADA);
      expect(card.text).to.equal(`Hidden number ${tag} (phone) is yours`);
      expect(card.blocks[0].text.text).to.equal(`Hidden number ${tag}`);
      // No Block…: their next call would be someone new.
      expect(cardButtons(card)).to.include(ACTION.resolve);
      expect(cardButtons(card)).not.to.include(ACTION.block);
      expect(JSON.stringify(h.slack.calls.map((c) => c.args))).not.to.contain(callSid);
    } finally {
      await h.close();
    }
  });

  it('what the visitor says of themselves (identify) shows on the card: the name in its header, the facts under Already known', async () => {
    const h = sb();
    await h.agent('Ada', ADA);
    const visitor = await h.visitor();
    await visitor.say('hello');
    await h.idle();
    expect(shownCard(h, ADA).blocks.some((b) => JSON.stringify(b).includes('Already known'))).to.equal(false);
    await visitor.identify({ name: 'Mary Major', email: 'mary@example.com', phone: '+14155550123' });
    await h.idle();
    const card = shownCard(h, ADA);
    expect(card.text).to.equal('Mary Major (chat) is yours');
    expect(card.blocks[0].text.text).to.equal('Mary Major');
    const known = JSON.stringify(card.blocks.find((b) => JSON.stringify(b).includes('Already known')));
    expect(known).to.contain('mary@example.com');
    expect(known).to.contain('+14155550123');
  });

  it('Details… from Slack: what the customer told the agent shows on the card; a bad field or an address taken is said', async () => {
    const h = sb();
    await h.agent('Ada', ADA);
    // Another customer already gave this address.
    const bob = await h.visitor();
    await bob.identify({ name: 'Bob Stone', email: 'bob@example.com' });
    const mary = await h.visitor();
    const { conversationId } = await mary.say('hi, this is Mary Major, 415 555 0123');
    await h.idle();
    const threadTs = cardTsOf(h, ADA);
    expect(cardButtons(shownCard(h, ADA))).to.include(ACTION.details);
    await h
      .interact(
        blockActions({
          user: ADA,
          actionId: ACTION.details,
          value: conversationId,
          channel: dmOf(ADA),
          messageTs: threadTs,
        }),
      )
      .expect(200);
    expect(h.slack.ok('views.open').at(-1)!.args.view.callback_id).to.equal(VIEW.details);
    const form = (name: string, email: string, phone: string) =>
      viewSubmission(ADA, VIEW.details, conversationId, {
        [FIELD.detailsName.block]: { [FIELD.detailsName.action]: { type: 'plain_text_input', value: name } },
        [FIELD.detailsEmail.block]: {
          [FIELD.detailsEmail.action]: { type: 'plain_text_input', value: email },
        },
        [FIELD.detailsPhone.block]: {
          [FIELD.detailsPhone.action]: { type: 'plain_text_input', value: phone },
        },
      });
    // Nothing, or an address that is none: the form says which, and nothing is kept.
    const empty = await h.interact(form('', ' ', '')).expect(200);
    expect(empty.body).to.deep.equal({
      response_action: 'errors',
      errors: { [FIELD.detailsName.block]: 'Fill in a name, an email address or a phone number.' },
    });
    const bad = await h.interact(form('Mary Major', 'mary at home', 'soon')).expect(200);
    expect(Object.keys(bad.body.errors).sort()).to.deep.equal([
      FIELD.detailsEmail.block,
      FIELD.detailsPhone.block,
    ]);
    expect((await h.store.getCustomer(mary.customerId))!.facts).to.deep.equal({});

    await h.interact(form('Mary Major', 'bob@example.com', '415 555 0123')).expect(200);
    await h.idle();
    const card = shownCard(h, ADA);
    expect(card.text).to.equal('Mary Major (chat) is yours');
    const known = JSON.stringify(card.blocks.find((b) => JSON.stringify(b).includes('Already known')));
    expect(known).to.contain('+14155550123');
    expect(known).to.contain('agent Ada');
    const customer = (await h.store.getCustomer(mary.customerId))!;
    expect(customer.identities).to.deep.include({ channel: 'phone', address: '+14155550123' });
    expect(customer.identities.some((i) => i.channel === 'email')).to.equal(false);
    const told = h.slack.ok('chat.postEphemeral', (a) => a.user === ADA).map((c) => String(c.args.text));
    // Named in words, never by id.
    expect(told.join('\n')).not.to.contain(bob.customerId);
    expect(told).to.include(
      "bob@example.com is also another customer's (Bob Stone): it is not linked here; an admin can merge the two if they are the same person.",
    );
  });

  it('a finished card keeps no waiting clock; Home says a hand-off offered is offered, not helping; facts say where from in words', async () => {
    const h = sb();
    const ada = await h.agent('Ada', ADA);
    const bob = await h.agent('Bob', BOB);
    const mary = await h.visitor();
    await mary.identify({ name: 'Mary Major' });
    const { conversationId } = await mary.say('my parcel is late');
    await h.idle();
    const open = JSON.stringify(shownCard(h, ADA).blocks);
    expect(open).to.contain('Waiting so far');
    expect(open).to.contain('_(the chat form)_');
    await h.sb.router.handoff(ada.id, conversationId, bob.id, 'parcels are yours');
    await h.event(appHomeOpened(BOB)).expect(200);
    await h.idle();
    const home = JSON.stringify(h.slack.ok('views.publish', (a) => a.user_id === BOB).at(-1)!.args.view);
    expect(home).to.contain('offered to you');
    expect(home).not.to.contain('helping');
    await h.sb.router.declineHandoff(bob.id, conversationId);
    h.clock.advance(20 * 60_000);
    await h.sb.router.resolve(ada.id, conversationId);
    await h.idle();
    const done = JSON.stringify(shownCard(h, ADA).blocks);
    expect(done).not.to.contain('Waiting so far');
    expect(done).to.contain('*Status*\\nresolved');
  });

  it("a hand-off not yet answered is taken back from the card: the colleague's card says so, the owner may offer it again", async () => {
    const h = sb();
    const ada = await h.agent('Ada', ADA);
    const bob = await h.agent('Bob', BOB);
    const mary = await h.visitor();
    await mary.identify({ name: 'Mary Major' });
    const { conversationId } = await mary.say('refund please');
    await h.idle();
    await h.sb.router.handoff(ada.id, conversationId, bob.id, 'refunds are yours');
    await h.idle();
    expect(cardButtons(shownCard(h, ADA)))
      .to.include(ACTION.withdraw)
      .and.not.include(ACTION.handoff);
    await h
      .interact(
        blockActions({
          user: ADA,
          actionId: ACTION.withdraw,
          value: conversationId,
          channel: dmOf(ADA),
          messageTs: cardTsOf(h, ADA),
        }),
      )
      .expect(200);
    await h.idle();
    expect((await h.store.getConversation(conversationId))?.handoff).to.equal(null);
    expect(cardRoleLine(shownCard(h, BOB))).to.equal('*Ada* took this hand-off back; it stays theirs.');
    expect(cardButtons(shownCard(h, BOB))).to.deep.equal([]);
    expect(cardButtons(shownCard(h, ADA)))
      .to.include(ACTION.handoff)
      .and.not.include(ACTION.withdraw);
    expect(cardThreadTexts(h, ADA).at(-1)).to.equal('You took back the hand-off to *Bob*; it stays yours.');
  });

  it('Block… from Slack: the card and the thread say who blocked the customer and why (escaped), not that it was resolved', async () => {
    const h = sb();
    await h.agent('Ada', ADA);
    const mary = await h.visitor();
    await mary.identify({ name: 'Mary Major' });
    const { conversationId } = await mary.say('you are all useless');
    await h.idle();
    const threadTs = cardTsOf(h, ADA);
    await h
      .interact(
        blockActions({
          user: ADA,
          actionId: ACTION.block,
          value: conversationId,
          channel: dmOf(ADA),
          messageTs: threadTs,
        }),
      )
      .expect(200);
    await h
      .interact(
        viewSubmission(ADA, VIEW.block, conversationId, {
          [FIELD.blockReason.block]: {
            [FIELD.blockReason.action]: { type: 'plain_text_input', value: 'abusive <language> & threats' },
          },
        }),
      )
      .expect(200);
    await h.idle();
    expect((await h.store.getConversation(conversationId))!.status).to.equal('resolved');
    const said =
      '*Ada* blocked *Mary Major*: “abusive &lt;language&gt; &amp; threats”. The conversation is closed; what they send is no longer routed.';
    expect(cardThreadTexts(h, ADA).at(-1)).to.equal(`:no_entry: ${said}`);
    expect(cardThreadTexts(h, ADA).some((t) => t.includes('Resolved'))).to.equal(false);
    const card = shownCard(h, ADA);
    expect(card.blocks.find((b) => b.type === 'context').elements[0].text).to.equal(`:no_entry: ${said}`);
    expect(card.blocks.some((b) => b.type === 'actions')).to.equal(false);
  });
});
