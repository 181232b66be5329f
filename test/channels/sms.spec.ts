// Text messages through Twilio: signed webhooks in Twilio's parameter sets, TwiML
// read as XML, replies through the real REST client against the local stand-in.
import { request } from 'node:http';
import { expect } from 'chai';
import supertest from 'supertest';
import twilio from 'twilio';
import { messageTwiml, SMS_LEASE_MS, split } from '../../channels/sms/channel.js';
import { humanDuration } from '../../routing/estimate.js';
import { only, queryOf, verbs } from '../support/twiml.js';
import {
  ACCOUNT_SID,
  AUTH_TOKEN,
  dialResult,
  incomingCall,
  incomingSms,
  localPath,
  messageStatus,
  newCall,
  newSms,
  OUR_NUMBER,
  PUBLIC_URL,
  SECOND,
  type TwilioHarness,
  useTwilioHarness,
} from './twilio-harness.js';

const TEXTER = '+14155550142';

/** POST `chunks` to `path` as a chunked body (no Content-Length), a pause between chunks; the status and text. */
function postChunked(
  local: string,
  path: string,
  chunks: string[],
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${local}${path}`,
      { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    const write = (i: number): void => {
      if (i === chunks.length) {
        req.end();
        return;
      }
      if (!req.write(chunks[i]!)) req.once('drain', () => setTimeout(() => write(i + 1), 5));
      else setTimeout(() => write(i + 1), 5);
    };
    write(0);
  });
}

/** The messages the stand-in accepted, with their SIDs. */
/** Every messages.create the stand-in answered, failed ones too. */
const tries = (h: TwilioHarness) => h.standIn.requests.filter((r) => r.resource === 'messages');

function sent(h: TwilioHarness): Array<{ sid: string; params: Record<string, string | string[]> }> {
  return h.standIn.requests
    .filter((r) => r.resource === 'messages' && r.status === 201)
    .map((r) => ({ sid: r.sid!, params: r.params }));
}

describe('SMS channel (Twilio)', () => {
  const h = useTwilioHarness();

  describe('incoming', () => {
    it('a signed webhook that arrives in pieces (chunked, no Content-Length) is read whole', async () => {
      await h().agent('Ana');
      const params = incomingSms(newSms(TEXTER, 'in three pieces'));
      const body = new URLSearchParams(params as Record<string, string>).toString();
      const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, `${PUBLIC_URL}/twilio/sms`, params);
      const third = Math.ceil(body.length / 3);
      const res = await postChunked(
        h().local,
        '/twilio/sms',
        [body.slice(0, third), body.slice(third, 2 * third), body.slice(2 * third)],
        { 'x-twilio-signature': signature },
      );
      expect(res.status).to.equal(200);
      const [conv] = await h().store.listConversations({});
      const texts = (await h().store.listMessages(conv!.id)).map((m) => m.text);
      expect(texts).to.deep.equal(['in three pieces']);
    });

    it('a chunked body past the limit gets 413 and the next webhook is answered', async () => {
      const big = Array.from({ length: 10 }, () => `Junk=${'x'.repeat(8000)}&`);
      const res = await postChunked(h().local, '/twilio/sms', big, { 'x-twilio-signature': 'whatever' });
      expect([res.status, res.text]).to.deep.equal([413, 'the body is too large']);
      const ok = await h().webhook('/twilio/sms', incomingSms(newSms(TEXTER, 'still here')));
      expect(ok.status).to.equal(200);
    });

    it('after a chat with the same (identified) phone number, reaches the chat owner in the same conversation', async () => {
      const ana = await h().agent('Ana');
      await h().agent('Bea');
      const chat = await h().sb.router.contact({
        channel: 'chat',
        from: 'visitor-7',
        text: 'hello',
        externalId: 'c1',
      });
      expect(chat.outcome).to.deep.equal({ type: 'assigned', agentId: ana.id });
      await h().sb.router.identify(
        chat.customer.id,
        { name: 'Kim', phone: '(415) 555-0142' },
        'chat:prechat',
      );

      const root = await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'on my phone now')));
      expect(verbs(root)).to.deep.equal([]);

      const conv = await h().store.getConversation(chat.conversation.id);
      expect([conv?.ownerId, conv?.channels, conv?.lastChannel]).to.deep.equal([
        ana.id,
        ['chat', 'sms'],
        'sms',
      ]);
      const inbound = (await h().store.listMessages(chat.conversation.id)).filter(
        (m) => m.direction === 'in',
      );
      expect(inbound.map((m) => [m.channel, m.text])).to.deep.equal([
        ['chat', 'hello'],
        ['sms', 'on my phone now'],
      ]);
      expect(await h().store.listConversations({})).to.have.length(1);
    });

    it('a new conversation is routed as usual and answered with empty TwiML', async () => {
      const ana = await h().agent('Ana');
      const root = await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'hi')));
      expect(root.children).to.deep.equal([]);
      const [conv] = await h().store.listConversations({});
      expect([conv?.status, conv?.ownerId]).to.deep.equal(['assigned', ana.id]);
    });

    it('an empty or blank text with no picture is ignored: nothing stored, no place taken, nothing said', async () => {
      await h().agent('Ana', { capacity: { voice: 0, sms: 0, chat: 0, email: 0 } });
      for (const body of ['', '   ', '\u200b\n']) {
        const root = await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, body)));
        expect(root.children, JSON.stringify(body)).to.deep.equal([]);
      }
      expect(await h().store.listConversations({})).to.deep.equal([]);
      // Words are read, and wait for a person.
      await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'still there?')));
      expect(await h().store.listConversations({})).to.have.length(1);
    });

    it('a WhatsApp message to our number is answered there that we cannot take it; nothing stored or routed', async () => {
      await h().agent('Ana');
      const root = await h().twiml(
        '/twilio/sms',
        incomingSms(newSms('whatsapp:+14155553001', 'hi, where is my order?')),
      );
      expect(only(root, 'Message').text).to.equal(
        'Sorry, we cannot answer WhatsApp messages here. Please send us a text message (SMS) or call this number.',
      );
      expect(await h().store.listConversations({})).to.deep.equal([]);
      expect(await h().store.findCustomer({ channel: 'phone', address: '+14155553001' })).to.equal(null);
    });

    it('a texter whose person is away or offline is told how long it waits for them, then a colleague; no time promised beyond', async () => {
      const ana = await h().agent('Ana');
      await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'hi')));
      await h().sb.router.setAgentStatus(ana.id, 'away', 'lunch');
      const away = await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'are you there?')));
      const sticky = h().sb.router.policy.stickyWaitSeconds.sms;
      const wait = humanDuration(sticky);
      expect(only(away, 'Message').text).to.equal(
        `Ana is away right now. If they are not back within ${wait}, your message goes to the next free colleague.`,
      );
      // Back and gone again, offline this time: a new wait, said as such.
      await h().sb.router.setAgentStatus(ana.id, 'available');
      h().clock.advance(60 * SECOND);
      await h().sb.router.setAgentStatus(ana.id, 'offline');
      const offline = await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'hello?')));
      expect(only(offline, 'Message').text).to.equal(
        `Ana is not available right now. In about ${wait}, your message goes to the next free colleague.`,
      );
    });

    it('one acknowledgement with the place and the pessimistic wait when it has to wait, once per wait', async () => {
      await h().agent('Ana', { capacity: { sms: 1 } });
      await h().twiml('/twilio/sms', incomingSms(newSms('+14155550101', 'first')));
      h().clock.advance(SECOND);

      const root = await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'anyone there?')));
      expect(verbs(root)).to.deep.equal(['Message']);
      expect(only(root, 'Message').text).to.match(
        /^You are number 1 in line; a person will be with you within \d+ (minutes|hours)\.$/,
      );
      const again = await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'hello?')));
      expect(verbs(again)).to.deep.equal([]);
      // The agent sees what the texter was told: in the history, sent by the TwiML, not sent again by REST.
      const waiting = await h().store.listConversations({ status: 'queued' });
      const history = await h().store.listMessages(waiting[0]!.id);
      expect(history.map((m) => [m.author.type, m.text, m.delivery.state])).to.deep.equal([
        ['customer', 'anyone there?', 'delivered'],
        ['system', only(root, 'Message').text, 'sent'],
        ['customer', 'hello?', 'delivered'],
      ]);
      await h().sb.twilio!.idle();
      expect(h().standIn.requests.filter((r) => r.resource === 'messages')).to.deep.equal([]);
    });

    it('a caller on hold who texts is answered by text, and the history says it went by text', async () => {
      const ana = await h().agent('Ana', { phone: '+14155550901', capacity: { voice: 1, sms: 1 } });
      const busy = newCall('+14155550101');
      const ringing = only(await h().twiml('/twilio/voice', incomingCall(busy)), 'Dial');
      await h().sb.router.acceptOffer(ana.id, queryOf(ringing.attrs.action!).conversation!);
      h().clock.advance(SECOND);
      const call = newCall(TEXTER);
      const held = await h().twiml('/twilio/voice', incomingCall(call));
      expect(verbs(held)).to.deep.equal(['Say', 'Enqueue']);

      const root = await h().twiml(
        '/twilio/sms',
        incomingSms(newSms(TEXTER, "I'm the one on hold: the boiler")),
      );
      expect(verbs(root)).to.deep.equal(['Message']);
      const waiting = (await h().store.listConversations({ status: 'queued' }))[0]!;
      const history = await h().store.listMessages(waiting.id);
      expect(history.map((m) => [m.direction, m.channel, m.text])).to.deep.equal([
        ['in', 'voice', 'Phone call'],
        ['in', 'sms', "I'm the one on hold: the boiler"],
        ['out', 'sms', only(root, 'Message').text],
      ]);
      await h().sb.twilio!.idle();
      expect(h().standIn.requests.filter((r) => r.resource === 'messages')).to.deep.equal([]);
    });

    it('with nobody who can answer, the acknowledgement says so without inventing a wait', async () => {
      // The only agent is on a break: nobody can answer now (not "everyone is busy": nobody is serving anyone).
      await h().agent('Ana', { status: 'away' });
      const root = await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'hi')));
      expect(only(root, 'Message').text).to.equal(h().sb.router.policy.texts.nobodyFree);
    });

    it('with nobody working at all, the acknowledgement says so', async () => {
      const root = await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'hi')));
      expect(only(root, 'Message').text).to.equal(
        'Nobody is working right now; a person will answer as soon as someone is back. You keep your place.',
      );
    });

    it('a replayed MessageSid is stored and routed once', async () => {
      const ana = await h().agent('Ana');
      const sms = newSms(TEXTER, 'once');
      await h().twiml('/twilio/sms', incomingSms(sms));
      const replay = await h().twiml('/twilio/sms', incomingSms(sms));
      expect(replay.children).to.deep.equal([]);
      const [conv] = await h().store.listConversations({});
      expect((await h().store.listMessages(conv!.id)).map((m) => m.text)).to.deep.equal(['once']);
      // Told once, and again marked as such (its first process may have died before telling anyone).
      expect(
        h()
          .eventsOf('message.received')
          .map((e) => e.again ?? false),
      ).to.deep.equal([false, true]);
      expect(h().eventsOf('conversation.assigned')).to.have.length(1);
      expect((await h().store.getAgent(ana.id))?.load.sms).to.equal(1);
    });

    it('a replayed text still waiting, whose first delivery was not answered, is told the wait once', async () => {
      const sms = newSms(TEXTER, 'anyone?');
      // The first delivery was stored and routed (nobody free), and its answer never reached Twilio.
      await h().sb.router.contact({
        channel: 'sms',
        from: TEXTER,
        to: OUR_NUMBER,
        text: 'anyone?',
        externalId: String(sms.MessageSid),
      });
      const replay = await h().twiml('/twilio/sms', incomingSms(sms));
      expect(only(replay, 'Message').text).to.match(/^Nobody is working right now; /);
      const again = await h().twiml('/twilio/sms', incomingSms(sms));
      expect(again.children).to.deep.equal([]);
      const [conv] = await h().store.listConversations({});
      const told = (await h().store.listMessages(conv!.id)).filter((m) => m.author.type === 'system');
      expect(told.map((m) => m.delivery.state)).to.deep.equal(['sent']);
    });

    it('texted pictures and files are fetched from Twilio and kept: the message carries them as files', async () => {
      await h().agent('Ana');
      const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
      const pdf = Buffer.from('%PDF-1.4 a receipt');
      const sms = newSms(TEXTER, 'see attached');
      const media: Array<[string, string]> = [
        [h().standIn.addMedia(png, 'image/png', String(sms.MessageSid)), 'image/png'],
        [h().standIn.addMedia(pdf, 'application/pdf', String(sms.MessageSid)), 'application/pdf'],
      ];
      await h().twiml('/twilio/sms', incomingSms(sms, media));
      const [conv] = await h().store.listConversations({});
      const [message] = await h().store.listMessages(conv!.id);
      // The files are the message's; the text is the customer's words alone.
      expect(message?.text).to.equal('see attached');
      expect(message?.attachments.map((a) => [a.name, a.type, a.size])).to.deep.equal([
        ['mms-1.png', 'image/png', png.length],
        ['mms-2.pdf', 'application/pdf', pdf.length],
      ]);
      for (const [i, bytes] of [png, pdf].entries()) {
        const url = message!.attachments[i]!.url!;
        expect(url.startsWith(`${PUBLIC_URL}/chat/files/`)).to.equal(true);
        const got = await supertest(h().local).get(localPath(url)).buffer(true).expect(200);
        expect(Buffer.compare(got.body as Buffer, bytes)).to.equal(0);
      }
      // Twilio delivering the text again: the same message, nothing fetched or kept again.
      await h().twiml('/twilio/sms', incomingSms(sms, media));
      expect(await h().store.listMessages(conv!.id)).to.have.length(1);
      // The credentials went to Twilio's API link, never to the file host it redirected to.
      const asked = (resource: string) =>
        h()
          .standIn.requests.filter((r) => r.resource === resource)
          .map((r) => [r.status, r.authorized]);
      expect(asked('media')).to.deep.equal([
        [307, true],
        [307, true],
      ]);
      expect(asked('media-file')).to.deep.equal([
        [200, false],
        [200, false],
      ]);
    });

    it("a blocked customer's text is answered with empty TwiML: not stored, not routed, its pictures never fetched", async () => {
      const ana = await h().agent('Ana');
      await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'first')));
      const [conv] = await h().store.listConversations({});
      await h().sb.router.blockFromConversation(ana.id, conv!.id, 'spam');
      const before = await h().store.listMessages(conv!.id);

      const plain = await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'again')));
      expect(plain.children).to.deep.equal([]);
      const sms = newSms(TEXTER, 'and a picture');
      const picture = h().standIn.addMedia(
        Buffer.from('89504e47', 'hex'),
        'image/png',
        String(sms.MessageSid),
      );
      const withMedia = await h().twiml('/twilio/sms', incomingSms(sms, [[picture, 'image/png']]));
      expect(withMedia.children).to.deep.equal([]);

      expect((await h().store.listConversations({})).map((c) => [c.id, c.status])).to.deep.equal([
        [conv!.id, 'resolved'],
      ]);
      expect(await h().store.listMessages(conv!.id)).to.deep.equal(before);
      expect(h().standIn.requests.filter((r) => r.resource === 'media')).to.deep.equal([]);
      expect(
        h()
          .eventsOf('contact.blocked')
          .map((e) => e.channel),
      ).to.deep.equal(['sms', 'sms']);
      // Lifted: their next text is a conversation again.
      await h().sb.router.unblockCustomer(conv!.customerId, 'admin');
      await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'sorry')));
      expect(await h().store.listConversations({ status: 'assigned' })).to.have.length(1);
    });

    it("media Switchboard cannot keep (not Twilio's host, gone from Twilio) stay links, listed in the text", async () => {
      await h().agent('Ana');
      const sms = newSms(TEXTER, 'see attached');
      const gone = `${h().standIn.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${sms.MessageSid}/Media/ME${'0'.repeat(32)}`;
      const media: Array<[string, string]> = [
        ['https://media.example.com/Media/ME1', 'image/jpeg'],
        [gone, 'application/pdf'],
      ];
      await h().twiml('/twilio/sms', incomingSms(sms, media));
      const [conv] = await h().store.listConversations({});
      const [message] = await h().store.listMessages(conv!.id);
      expect(message?.text).to.equal(
        `see attached\n[image/jpeg] ${media[0]![0]}\n[application/pdf] ${media[1]![0]}`,
      );
      expect(message?.attachments.map((a) => [a.type, a.url, a.size])).to.deep.equal(
        media.map(([u, t]) => [t, u, 0]),
      );
      // Nothing was asked of the other host; Twilio's answered 404.
      expect(
        h()
          .standIn.requests.filter((r) => r.resource === 'media')
          .map((r) => r.status),
      ).to.deep.equal([404]);
    });

    it('our own number writing to us is dropped as an echo', async () => {
      const root = await h().twiml('/twilio/sms', incomingSms(newSms(OUR_NUMBER, 'echo')));
      expect(root.children).to.deep.equal([]);
      expect(await h().store.listConversations({})).to.deep.equal([]);
    });

    it('a forged signature gets 403; a signed message without From gets 400; nothing is stored', async () => {
      const params = incomingSms(newSms(TEXTER, 'hi'));
      const forged = twilio.getExpectedTwilioSignature(
        'another-auth-token-0123456789',
        `${PUBLIC_URL}/twilio/sms`,
        params,
      );
      expect((await h().webhook('/twilio/sms', params, { signature: forged })).status).to.equal(403);
      const { From: _from, ...noFrom } = params;
      const bad = await h().webhook('/twilio/sms', noFrom);
      expect([bad.status, bad.text]).to.deep.equal([400, 'message: From: is required']);
      const notPhone = await h().webhook('/twilio/sms', { ...params, From: 'ALPHA' });
      expect(notPhone.status).to.equal(400);
      expect(await h().store.listConversations({})).to.deep.equal([]);
      expect(twilio.validateRequest(AUTH_TOKEN, forged, `${PUBLIC_URL}/twilio/sms`, params)).to.equal(false);
    });

    it('a webhook set to HTTP GET gets 405 saying to set POST; media counted without links get 400; nothing is stored', async () => {
      const get = await supertest(h().local)
        .get('/twilio/sms')
        .query(incomingSms(newSms(TEXTER, 'hi')));
      expect([get.status, get.headers.allow, get.text]).to.deep.equal([
        405,
        'POST',
        "Switchboard takes Twilio's webhooks as HTTP POST: set the number's webhook method to POST",
      ]);
      const counted = await h().webhook('/twilio/sms', { ...incomingSms(newSms(TEXTER, '')), NumMedia: '2' });
      expect([counted.status, counted.text]).to.deep.equal([
        400,
        'message: MediaUrl0: must be a link (NumMedia is 2)',
      ]);
      expect(await h().store.listConversations({})).to.deep.equal([]);
    });
  });

  describe('outgoing', () => {
    async function owned(): Promise<{ agentId: string; conversationId: string }> {
      const ana = await h().agent('Ana');
      await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'help')));
      const [conv] = await h().store.listConversations({});
      return { agentId: ana.id, conversationId: conv!.id };
    }

    it("an agent's file goes out as MMS: Twilio is given its link under PUBLIC_URL, which opens it", async () => {
      const { agentId, conversationId } = await owned();
      const form = Buffer.from('%PDF-1.4 returns form');
      const token = h().sb.tokens.sign('agent', agentId);
      const up = await supertest(h().local)
        .post('/chat/files')
        .set('Authorization', `Bearer ${token}`)
        .set('Content-Type', 'application/pdf')
        .set('X-File-Name', 'returns form.pdf')
        .send(form)
        .expect(201);
      const files = await h().sb.files!.attachments({ agent: agentId }, [up.body.file.upload]);
      await h().sb.router.reply(agentId, conversationId, 'The form to fill in', 'r-mms', files);
      await h().idle();
      const [out] = sent(h());
      expect(out?.params.Body).to.equal('The form to fill in');
      const media = [out?.params.MediaUrl].flat();
      expect(media).to.have.length(1);
      expect(String(media[0]).startsWith(`${PUBLIC_URL}/chat/files/`)).to.equal(true);
      const got = await supertest(h().local)
        .get(localPath(String(media[0])))
        .buffer(true)
        .expect(200);
      expect(Buffer.compare(got.body as Buffer, form)).to.equal(0);
    });

    it('an agent writes first by text: messages.create to the number they gave (the customer has two), the next message there too, and the answer comes back to them', async () => {
      const ana = await h().agent('Ana');
      await h().agent('Bea');
      // A customer known by two numbers: the text goes to the one Ana gives.
      const known = await h().sb.router.contact({
        channel: 'sms',
        from: '+14155550177',
        text: 'hi',
        externalId: 'k1',
      });
      await h().sb.router.resolve(known.conversation.ownerId!, known.conversation.id);
      await h().sb.store.linkIdentity(known.customer.id, { channel: 'phone', address: TEXTER });
      const wrote = await h().sb.router.writeTo(ana.id, {
        channel: 'sms',
        to: '(415) 555-0142',
        text: 'Your parcel is here.',
      });
      expect(wrote.conversation.customerId).to.equal(known.customer.id);
      await h().idle();
      const out = sent(h()).at(-1);
      expect([out?.params.To, out?.params.From, out?.params.Body]).to.deep.equal([
        TEXTER,
        OUR_NUMBER,
        'Your parcel is here.',
      ]);
      // A second message before they answer goes to the same number.
      await h().sb.router.reply(ana.id, wrote.conversation.id, 'At the front desk.');
      await h().idle();
      expect(sent(h()).at(-1)?.params.To).to.equal(TEXTER);
      const root = await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'Thanks!')));
      expect(verbs(root)).to.deep.equal([]);
      const conv = await h().store.getConversation(wrote.conversation.id);
      expect([conv?.ownerId, conv?.status]).to.deep.equal([ana.id, 'assigned']);
      const texts = (await h().store.listMessages(wrote.conversation.id)).map((m) => [m.direction, m.text]);
      expect(texts).to.deep.equal([
        ['out', 'Your parcel is here.'],
        ['out', 'At the front desk.'],
        ['in', 'Thanks!'],
      ]);
    });

    it('STOP: kept, not routed, the agent told; a reply fails at once saying why, writing first is refused; START lifts it', async () => {
      const { agentId, conversationId } = await owned();
      const stop = await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, ' stop ')));
      // No wait sentence, nothing routed: Twilio confirms the opt-out to them itself.
      expect(verbs(stop)).to.deep.equal([]);
      expect(await h().store.textOptOut(TEXTER)).to.be.a('number');
      const messages = await h().store.listMessages(conversationId);
      expect(messages.map((m) => [m.direction, m.text])).to.deep.equal([
        ['in', 'help'],
        [
          'internal',
          `The customer texted STOP from ${TEXTER}: no text goes to that number until they text START. Answer them another way, or wait for them.`,
        ],
      ]);
      expect((await h().store.listConversations({})).length).to.equal(1);

      const before = tries(h()).length;
      const reply = await h().sb.router.reply(agentId, conversationId, 'Are you still there?');
      await h().idle();
      expect(tries(h()).length).to.equal(before);
      const failed = await h().store.getMessage(reply.id);
      expect([failed?.delivery.state, failed?.delivery.reason]).to.deep.equal([
        'failed',
        `${TEXTER} texted STOP: no text goes to it until they text START`,
      ]);
      await h().sb.router.resolve(agentId, conversationId);
      const refused = await h()
        .sb.router.writeTo(agentId, { channel: 'sms', to: TEXTER, text: 'One more thing' })
        .then(
          () => null,
          (err: { code: string; message: string }) => [err.code, err.message],
        );
      expect(refused).to.deep.equal([
        'opted_out',
        `${TEXTER} texted STOP: no text goes to it until they text START`,
      ]);
      expect((await h().store.listConversations({})).length).to.equal(1);

      // Advanced Opt-Out names its own keyword: START by OptOutType, whatever the word.
      const start = await h().twiml('/twilio/sms', {
        ...incomingSms(newSms(TEXTER, 'ARRIBA')),
        OptOutType: 'START',
      });
      expect(verbs(start)).to.deep.equal([]);
      expect(await h().store.textOptOut(TEXTER)).to.equal(null);
      const wrote = await h().sb.router.writeTo(agentId, {
        channel: 'sms',
        to: TEXTER,
        text: 'Welcome back',
      });
      await h().idle();
      expect((await h().store.getMessage(wrote.message.id))?.delivery.state).to.equal('sent');
      // HELP is a question for a person: routed as any text.
      await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'HELP')));
      expect((await h().store.listMessages(wrote.conversation.id)).at(-1)?.text).to.equal('HELP');
    });

    it('an agent reply goes out with messages.create and a status callback; delivery updates the message', async () => {
      const { agentId, conversationId } = await owned();
      const reply = await h().sb.router.reply(agentId, conversationId, 'On it!', 'r1');
      await h().idle();
      const [out] = sent(h());
      expect([out?.params.To, out?.params.From, out?.params.Body]).to.deep.equal([
        TEXTER,
        OUR_NUMBER,
        'On it!',
      ]);
      const callback = String(out?.params.StatusCallback);
      expect(localPath(callback)).to.equal(`/twilio/sms/status?message=${reply.id}&attempt=1`);
      expect((await h().store.getMessage(reply.id))?.delivery.state).to.equal('sent');

      await h().twiml(localPath(callback), messageStatus(out!.sid, TEXTER, 'sent'));
      await h().twiml(localPath(callback), messageStatus(out!.sid, TEXTER, 'delivered'));
      const message = await h().store.getMessage(reply.id);
      expect([message?.delivery.state, message?.delivery.attempts]).to.deep.equal(['delivered', 1]);
      expect(
        h()
          .eventsOf('message.delivery')
          .map((e) => e.message.delivery.state),
      ).to.deep.equal(['sent', 'delivered']);
    });

    it('a failed send is retried with backoff, and each failure is shown to the agent', async () => {
      const { agentId, conversationId } = await owned();
      h().standIn.failNext('messages', { status: 503, code: 20503, message: 'Service Unavailable' }, 2);
      const reply = await h().sb.router.reply(agentId, conversationId, 'retry me');
      await h().idle();
      // The retries wait in the store as the message's delivery timer: 2 s, then 4 s.
      await h().later(1999);
      expect(tries(h())).to.have.length(1);
      await h().later(1);
      expect(tries(h())).to.have.length(2);
      await h().later(3999);
      expect(tries(h())).to.have.length(2);
      await h().later(1);
      expect(
        h()
          .eventsOf('message.delivery')
          .map((e) => [e.message.delivery.state, e.message.delivery.attempts, e.message.delivery.reason]),
      ).to.deep.equal([
        ['failed', 1, 'Twilio 20503: Service Unavailable (HTTP 503); retrying (attempt 1 of 4)'],
        ['failed', 2, 'Twilio 20503: Service Unavailable (HTTP 503); retrying (attempt 2 of 4)'],
        ['sent', 3, undefined],
      ]);
      expect(sent(h()).map((m) => m.params.Body)).to.deep.equal(['retry me']);
      expect(localPath(String(sent(h())[0]!.params.StatusCallback))).to.equal(
        `/twilio/sms/status?message=${reply.id}&attempt=3`,
      );
      // Sent: nothing more is due.
      await h().later(60_000);
      expect(tries(h())).to.have.length(3);
    });

    it('too many requests at once (429) is tried again at once by the SDK, not shown as a failure', async () => {
      const { agentId, conversationId } = await owned();
      h().standIn.failNext('messages', { status: 429, code: 20429, message: 'Too Many Requests' }, 2);
      const reply = await h().sb.router.reply(agentId, conversationId, 'busy line');
      await h().idle();
      const message = await h().store.getMessage(reply.id);
      expect([message?.delivery.state, message?.delivery.attempts]).to.deep.equal(['sent', 1]);
      expect(tries(h())).to.have.length(3);
      expect(sent(h()).map((m) => m.params.Body)).to.deep.equal(['busy line']);
    });

    it('a refusal that cannot succeed is not retried; the reason is shown', async () => {
      const { agentId, conversationId } = await owned();
      h().standIn.failNext('messages', {
        status: 400,
        code: 21211,
        message: "The 'To' number is not a valid phone number.",
      });
      const reply = await h().sb.router.reply(agentId, conversationId, 'hello');
      await h().idle();
      await h().later(60_000);
      expect(tries(h())).to.have.length(1);
      const message = await h().store.getMessage(reply.id);
      expect([message?.delivery.state, message?.delivery.reason]).to.deep.equal([
        'failed',
        "Twilio 21211: The 'To' number is not a valid phone number. (HTTP 400); gave up after 1 attempt",
      ]);
    });

    it('an undelivered report is retried with a new send, once; reports of an older attempt are ignored', async () => {
      const { agentId, conversationId } = await owned();
      const reply = await h().sb.router.reply(agentId, conversationId, 'are you there?');
      await h().idle();
      const [first] = sent(h());
      const firstCallback = localPath(String(first?.params.StatusCallback));
      await h().twiml(firstCallback, messageStatus(first!.sid, TEXTER, 'undelivered', '30003'));
      // Twilio, or a second process it reached, repeats the report: still one retry.
      await h().twiml(firstCallback, messageStatus(first!.sid, TEXTER, 'undelivered', '30003'));
      await h().later(1999);
      expect(sent(h())).to.have.length(1);
      await h().later(1);
      expect(sent(h())).to.have.length(2);
      const second = sent(h())[1];
      expect(localPath(String(second?.params.StatusCallback))).to.equal(
        `/twilio/sms/status?message=${reply.id}&attempt=2`,
      );
      expect(
        h()
          .eventsOf('message.delivery')
          .map((e) => e.message.delivery.reason)
          .filter(Boolean),
      ).to.deep.equal([
        'Twilio 30003: undelivered; retrying (attempt 1 of 4)',
        'Twilio 30003: undelivered; retrying (attempt 1 of 4)',
      ]);

      // Attempt 2 is under way: a late report of attempt 1 changes nothing and starts no retry.
      await h().twiml(firstCallback, messageStatus(first!.sid, TEXTER, 'failed', '30003'));
      expect((await h().store.getMessage(reply.id))?.delivery.state).to.equal('sent');
      await h().later(60_000);
      expect(sent(h())).to.have.length(2);
      await h().twiml(
        localPath(String(second?.params.StatusCallback)),
        messageStatus(second!.sid, TEXTER, 'delivered'),
      );
      expect((await h().store.getMessage(reply.id))?.delivery).to.deep.include({
        state: 'delivered',
        attempts: 2,
      });
    });

    it('a text whose process died before sending it is sent here when its lease runs out', async () => {
      const { agentId, conversationId } = await owned();
      // What a process that died right after storing an agent's reply leaves: the message and its lease.
      const now = h().clock.now();
      await h().store.appendMessage(
        {
          id: 'msg_orphan',
          conversationId,
          direction: 'out',
          channel: 'sms',
          author: { type: 'agent', id: agentId, name: 'Ana' },
          text: 'still there?',
          attachments: [],
          at: now,
          delivery: { state: 'pending', attempts: 0, at: now },
        },
        { deliveryDueAt: now + SMS_LEASE_MS },
      );
      await h().later(SMS_LEASE_MS - 1);
      expect(sent(h())).to.have.length(0);
      await h().later(1);
      expect(sent(h()).map((m) => [m.params.Body, localPath(String(m.params.StatusCallback))])).to.deep.equal(
        [['still there?', '/twilio/sms/status?message=msg_orphan&attempt=1']],
      );
      expect((await h().store.getMessage('msg_orphan'))?.delivery).to.deep.include({
        state: 'sent',
        attempts: 1,
      });
      await h().later(SMS_LEASE_MS);
      expect(sent(h())).to.have.length(1);
    });

    it('a reply on a conversation last used by phone goes out as a text to the caller', async () => {
      const ana = await h().agent('Ana', { clientIdentity: 'ana' });
      const call = newCall(TEXTER);
      const dial = only(await h().twiml('/twilio/voice', incomingCall(call)), 'Dial');
      await h().twiml(localPath(dial.attrs.action), dialResult(call, 'completed'));
      const [conv] = await h().store.listConversations({});
      expect([conv?.ownerId, conv?.lastChannel]).to.deep.equal([ana.id, 'voice']);
      await h().sb.router.reply(ana.id, conv!.id, 'Following up on our call.');
      await h().idle();
      expect(sent(h()).map((m) => [m.params.To, m.params.Body])).to.deep.equal([
        [TEXTER, 'Following up on our call.'],
      ]);
    });

    it('a reply goes out from the number of ours the customer texted, not TWILIO_FROM_NUMBER, in any process', async () => {
      const ana = await h().agent('Ana');
      const spanish = '+14155550111';
      await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'hola, mi pedido no llegó', spanish)));
      const [conv] = await h().store.listConversations({});
      expect((await h().store.listMessages(conv!.id)).map((m) => m.via)).to.deep.equal([spanish]);
      await h().sb.router.reply(ana.id, conv!.id, 'Lo miro ahora.');
      await h().idle();
      // They write to our main number next: the answer comes from it.
      await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'and in English?')));
      await h().sb.router.reply(ana.id, conv!.id, 'Of course.');
      await h().idle();
      expect(sent(h()).map((m) => [m.params.From, m.params.To, m.params.Body])).to.deep.equal([
        [spanish, TEXTER, 'Lo miro ahora.'],
        [OUR_NUMBER, TEXTER, 'Of course.'],
      ]);
    });

    it('a reply goes to the number the customer last texted from, though they have another', async () => {
      const { agentId, conversationId } = await owned();
      const [conv] = await h().store.listConversations({});
      // They also have a second phone (given in a form), first known as their other number, and text from it.
      const second = '+14155550199';
      await h().sb.router.identify(conv!.customerId, { phone: second }, 'form');
      expect((await h().store.getCustomer(conv!.customerId))?.identities.map((i) => i.address)).to.deep.equal(
        [TEXTER, second],
      );
      await h().twiml('/twilio/sms', incomingSms(newSms(second, 'texting from my other phone')));
      expect((await h().store.listMessages(conversationId)).map((m) => [m.text, m.from])).to.deep.equal([
        ['help', TEXTER],
        ['texting from my other phone', second],
      ]);
      await h().sb.router.reply(agentId, conversationId, 'Got it');
      await h().idle();
      expect(sent(h()).map((m) => [m.params.To, m.params.Body])).to.deep.equal([[second, 'Got it']]);
    });

    it('a reply longer than one SMS goes out in parts; the last part carries the status callback', async () => {
      const { agentId, conversationId } = await owned();
      const text = `${'word '.repeat(400)}end`;
      await h().sb.router.reply(agentId, conversationId, text);
      await h().idle();
      const parts = sent(h());
      expect(parts).to.have.length(2);
      expect(parts.map((p) => String(p.params.Body).length <= 1600)).to.deep.equal([true, true]);
      expect(parts.map((p) => p.params.Body).join(' ')).to.equal(text.replace(/\s+/g, ' '));
      expect(parts.map((p) => p.params.StatusCallback === undefined)).to.deep.equal([true, false]);
    });

    it('a reply in parts whose second part fails is retried from that part: the first is not sent twice', async () => {
      const { agentId, conversationId } = await owned();
      h().standIn.failNext('messages', { status: 503, code: 20503, message: 'Service Unavailable' }, 1, 1);
      const text = `${'word '.repeat(400)}end`;
      await h().sb.router.reply(agentId, conversationId, text);
      await h().idle();
      await h().later(2000);
      const parts = sent(h()).map((p) => String(p.params.Body));
      expect(parts).to.have.length(2);
      expect(parts.join(' ')).to.equal(text.replace(/\s+/g, ' '));
      expect(tries(h())).to.have.length(3);
    });

    it('a long reply is never cut inside an emoji or an accented letter', () => {
      const family = '👩‍👩‍👧‍👦';
      const text = `a${family.repeat(200)}`;
      const parts = split(text, 1600);
      expect(parts.join('')).to.equal(text);
      for (const part of parts) {
        expect(part.length).to.be.at.most(1600);
        // Each part is whole families (after the first letter): no lone half of one.
        expect(part.replace(/^a/, '').split(family).join('')).to.equal('');
      }
      const accented = `${'e\u0301'.repeat(1000)}`;
      for (const part of split(accented, 1600)) expect(part.startsWith('\u0301')).to.equal(false);
    });

    it('a status report with an unknown status is refused with 400 and changes nothing', async () => {
      const { agentId, conversationId } = await owned();
      const reply = await h().sb.router.reply(agentId, conversationId, 'ok');
      await h().idle();
      const [out] = sent(h());
      const res = await h().webhook(
        localPath(String(out?.params.StatusCallback)),
        messageStatus(out!.sid, TEXTER, 'exploded'),
      );
      expect(res.status).to.equal(400);
      expect(res.text).to.match(/^message status: MessageStatus: /);
      expect((await h().store.getMessage(reply.id))?.delivery.state).to.equal('sent');
    });
  });
});

describe('SMS channel: TwiML', () => {
  it("the acknowledgement is the string the twilio package's MessagingResponse writes", () => {
    for (const text of [
      'You are number 3 in line; a person will be with you within 9 minutes.',
      '',
      'a & b < c > d " e \' f ]]> &amp;',
      'line\nbreak\r\ntab\t',
      'émoji 😀 ünïcode',
    ]) {
      const response = new twilio.twiml.MessagingResponse();
      response.message(text);
      expect(messageTwiml(text), text).to.equal(response.toString());
    }
  });

  it('a text XML cannot carry is refused as the package refuses it', () => {
    expect(() => messageTwiml('bell \u0007')).to.throw(/Invalid character/);
    expect(() => messageTwiml('lone \ud800 half')).to.throw(/Invalid character/);
  });
});

describe('SMS channel: Twilio off', () => {
  const h = useTwilioHarness({ env: { TWILIO_ACCOUNT_SID: '', TWILIO_AUTH_TOKEN: '' } });

  it('says so at start, and mounts no /twilio routes', async () => {
    expect(h().config.twilio).to.equal(null);
    expect(h().config.off).to.include(
      'Twilio voice and SMS: off (set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to turn it on)',
    );
    expect(h().sb.twilio).to.equal(null);
    const res = await h().webhook('/twilio/sms', incomingSms(newSms(TEXTER, 'hi')));
    expect([res.status, res.body.error?.code]).to.deep.equal([404, 'not_found']);
  });
});

describe('SMS channel (Twilio): opening hours', () => {
  // The manual clock starts on Monday 5 January 2026, 09:00 UTC: 10:00 in Berlin, which opens on Tuesdays only.
  const h = useTwilioHarness({
    env: {
      ROUTING_POLICY: JSON.stringify({ hours: { timeZone: 'Europe/Berlin', week: { tue: '08:30-17:00' } } }),
    },
  });

  it('a text outside them, with nobody available, is told when a person will be there and no wait is promised', async () => {
    const root = await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'hi')));
    // Tuesday 08:30 in Berlin is 22 h 30 min away: far enough off to be said as a day and time.
    expect(only(root, 'Message').text).to.equal(
      'We are closed right now and open again on Tuesday 6 January at 08:30 (Berlin time); a person will answer then. You keep your place.',
    );
    const [conv] = await h().store.listConversations({});
    expect(await h().store.listPromises(conv!.id)).to.deep.equal([]);
  });
});

describe('SMS channel (Twilio): opening hours with a public holiday', () => {
  // Monday 5 January 2026, 10:00 in Berlin; open Tuesdays and Wednesdays, but Tuesday the 6th is a holiday.
  const h = useTwilioHarness({
    env: {
      ROUTING_POLICY: JSON.stringify({
        hours: {
          timeZone: 'Europe/Berlin',
          week: { tue: '08:30-17:00', wed: '08:30-17:00' },
          dates: { '2026-01-06': 'closed' },
        },
      }),
    },
  });

  it('a text the day before the holiday is told the day after it, not the holiday', async () => {
    const root = await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'hi')));
    // Wednesday 08:30 in Berlin is 46 h 30 min away.
    expect(only(root, 'Message').text).to.equal(
      'We are closed right now and open again on Wednesday 7 January at 08:30 (Berlin time); a person will answer then. You keep your place.',
    );
  });
});

describe('SMS channel (Twilio) without TWILIO_FROM_NUMBER', () => {
  const h = useTwilioHarness({ env: { TWILIO_FROM_NUMBER: '' } });

  it('answers texts, but an agent cannot start one: not offered, and refused by name (channel_off)', async () => {
    const ana = await h().agent('Ana');
    const root = await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'hi')));
    expect(verbs(root)).to.deep.equal([]);
    expect(h().sb.router.writesOn).to.not.include('sms');
    const refused = await h()
      .sb.router.writeTo(ana.id, { channel: 'sms', to: '+14155550199', text: 'Hello' })
      .then(
        () => null,
        (err: { code: string; message: string }) => [err.code, err.message],
      );
    expect(refused).to.deep.equal([
      'channel_off',
      'texts cannot start here: set TWILIO_FROM_NUMBER, the number they go out from',
    ]);
    expect((await h().store.listConversations({})).length).to.equal(1);
  });
});
