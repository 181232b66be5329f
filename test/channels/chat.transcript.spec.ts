// A chat visitor asks for the conversation by email (`/chat` `transcript.email`): it goes to the address they
// gave, with who said what and when, never an internal note; once in ten minutes; refused by name when it
// cannot go.
import { expect } from 'chai';
import { emitAck, type Harness, type Json, once, pending, SECOND, useHarness } from '../server/harness.js';
import { emailEnv, SUPPORT, useSink } from './email-harness.js';

/** A visitor who wrote (and gave `email`), Ada's console with her reply and an internal note. */
async function chatted(h: Harness, email: string | null) {
  const { token } = await h.createAgent('Ada');
  const ada = h.agentSocket(token);
  await once(ada, 'hello');
  const v = h.visitor();
  const session = await once<Json>(v, 'session');
  const sent = await emitAck(v, 'message', { text: 'my order is late', clientMessageId: 'm1' });
  if (email) expect((await emitAck(v, 'identify', { name: 'Dee', email })).ok).to.equal(true);
  await once(ada, 'assigned');
  const conversationId = sent.conversationId as string;
  expect(
    (await emitAck(ada, 'reply', { conversationId, text: 'It ships today.', clientMessageId: 'r1' })).ok,
  ).to.equal(true);
  expect((await emitAck(ada, 'note', { conversationId, text: 'customer sounded upset' })).ok).to.equal(true);
  return { v, session, conversationId, ada };
}

describe('/chat: the conversation by email', () => {
  describe('with email on', () => {
    const sink = useSink();
    const sb = useHarness({ env: emailEnv(sink) });

    it('goes to the address they gave, with who said what and when, no internal note; once in ten minutes', async () => {
      const h = sb();
      const { v, session, conversationId } = await chatted(h, 'Dee@Example.com');
      expect(session.transcripts).to.equal(true);
      const ack = await emitAck(v, 'transcript.email', {});
      expect(ack).to.deep.equal({ ok: true, sent: true, to: 'dee@example.com' });
      await h.sb.router.tick();
      await h.sb.email!.outbound.idle();
      const { envelope, mail } = await sink().next();
      expect(envelope.to).to.deep.equal(['dee@example.com']);
      expect(mail.text).to.contain('Here is our conversation, as you asked.');
      expect(mail.text).to.match(/You, \d{1,2} \w{3} \d{4}, \d\d:\d\d: my order is late/);
      expect(mail.text).to.match(/Ada, .*: It ships today\./);
      expect(mail.text).to.not.contain('upset');
      // The agents see it went, on the email channel.
      const copies = (await h.sb.store.listMessages(conversationId)).filter((m) => m.channel === 'email');
      expect(copies.map((m) => [m.direction, m.author.type])).to.deep.equal([['out', 'system']]);
      // The chat does not show the copy (it shows the conversation already), live or after a reload.
      const copy = (m: Json) => String(m.text).includes('Here is our conversation');
      expect(pending<Json>(v, 'message').some(copy)).to.equal(false);
      const reloaded = h.visitor(session.visitorToken);
      await once(reloaded, 'status');
      expect(pending<Json>(reloaded, 'message').map((m) => m.text)).to.include('It ships today.');
      expect(pending<Json>(reloaded, 'message').some(copy)).to.equal(false);

      // Asked again at once: nothing more goes; ten minutes later it goes again (without the first copy in it).
      expect(await emitAck(v, 'transcript.email')).to.deep.equal({
        ok: true,
        sent: false,
        to: 'dee@example.com',
      });
      h.clock.advance(10 * 60 * SECOND);
      expect((await emitAck(v, 'transcript.email', {})).sent).to.equal(true);
      await h.sb.router.tick();
      await h.sb.email!.outbound.idle();
      const again = await sink().next();
      expect(again.mail.text).to.not.contain('Here is our conversation, as you asked.\n\nHere is');
      expect(again.mail.text?.match(/Here is our conversation/g)).to.have.length(1);
    });

    it('refused by name: before an address is given, before anything was written, a bad payload, a blocked customer', async () => {
      const h = sb();
      const mailed = sink().mails.length;
      const early = h.visitor();
      await once(early, 'session');
      expect((await emitAck(early, 'transcript.email', {})).error.code).to.equal('no_email');
      await emitAck(early, 'identify', { email: 'early@example.com' });
      expect((await emitAck(early, 'transcript.email', {})).error.code).to.equal('no_conversation');
      // Written, but nobody answered yet: nothing goes (the address is not verified).
      await emitAck(early, 'message', { text: 'BUY CHEAP WATCHES at example.net', clientMessageId: 'spam' });
      expect((await emitAck(early, 'transcript.email', {})).error.code).to.equal('not_answered');

      const { v, session } = await chatted(h, null);
      const noEmail = await emitAck(v, 'transcript.email', {});
      expect(noEmail.ok).to.equal(false);
      expect(noEmail.error).to.deep.include({ code: 'no_email' });
      expect((await emitAck(v, 'transcript.email', { to: 'x@example.com' })).error.field).to.equal('to');
      await emitAck(v, 'identify', { email: 'dee@example.com' });
      await h.admin.post(`/api/customers/${session.customerId}/block`).send({}).expect(200);
      expect((await emitAck(v, 'transcript.email', {})).error.code).to.equal('blocked');
      expect(sink().mails).to.have.length(mailed);
    });
  });

  /**
   * The transcript of a resolved chat with its survey (Switchboard's own message, no author's name) in it: who
   * wrote each line and the subject, in the words of `policy` (the defaults when empty).
   */
  async function surveyed(h: Harness, sink: ReturnType<typeof useSink>) {
    const to = `dee-${h.clock.now()}@example.com`;
    const { v, conversationId, ada } = await chatted(h, to);
    expect((await emitAck(ada, 'resolve', { conversationId })).ok).to.equal(true);
    h.clock.advance(600 * SECOND);
    await h.sb.router.tick();
    expect((await emitAck(v, 'transcript.email', {})).sent).to.equal(true);
    await h.sb.router.tick();
    await h.sb.email!.outbound.idle();
    const mail = sink().mails.find(
      (m) => m.envelope.to[0] === to && m.mail.text?.includes('my order is late'),
    );
    expect(mail, 'the transcript').to.not.equal(undefined);
    return mail!.mail;
  }

  describe('with email on, in the English of the defaults', () => {
    const sink = useSink();
    const sb = useHarness({ env: emailEnv(sink) });

    it('the survey (no author) is "Our team", the visitor "You", the subject "Your chat with" the team', async () => {
      const mail = await surveyed(sb(), sink);
      expect(mail.subject).to.equal(`Your chat with ${SUPPORT.replace(/^.*@/, '')}`);
      expect(mail.text).to.match(/You, \d{1,2} \w{3} \d{4}, \d\d:\d\d: my order is late/);
      expect(mail.text).to.match(/Our team, .*: How did we do\?/);
    });
  });

  describe("with email on, in the policy's language (es)", () => {
    const sink = useSink();
    const sb = useHarness({
      env: emailEnv(sink, {
        ROUTING_POLICY: JSON.stringify({
          locale: 'es',
          texts: {
            transcript: 'Aquí está nuestra conversación.',
            survey: '¿Qué tal lo hicimos? Responde de 1 a 5.',
            you: 'Tú',
            ourTeam: 'Nuestro equipo',
            chatSubject: 'Tu chat con {team}',
          },
        }),
      }),
    });

    it('says "Tú", "Nuestro equipo" and "Tu chat con" the team, the dates in Spanish', async () => {
      const mail = await surveyed(sb(), sink);
      expect(mail.subject).to.equal(`Tu chat con ${SUPPORT.replace(/^.*@/, '')}`);
      expect(mail.text).to.contain('Aquí está nuestra conversación.');
      const month = new Intl.DateTimeFormat('es', { month: 'short', timeZone: 'UTC' }).format(
        sb().clock.now(),
      );
      expect(mail.text).to.match(
        new RegExp(`Tú, \\d{1,2} ${month} \\d{4}, \\d{1,2}:\\d\\d: my order is late`),
      );
      expect(mail.text).to.match(/Nuestro equipo, .*: ¿Qué tal lo hicimos\?/);
      expect(mail.text).to.not.match(/\bYou\b|Our team/);
    });
  });

  describe('with email off', () => {
    const sb = useHarness();

    it('the session says so, and asking is refused with email_off', async () => {
      const h = sb();
      const v = h.visitor();
      const session = await once<Json>(v, 'session');
      expect(session.transcripts).to.equal(false);
      await emitAck(v, 'message', { text: 'hi', clientMessageId: 'm1' });
      expect((await emitAck(v, 'transcript.email', {})).error.code).to.equal('email_off');
    });
  });
});
