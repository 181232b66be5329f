// Files a chat visitor sends: uploaded over HTTP (POST /chat/files), attached to a message by the handle the
// upload answered with, shown to the agent and the visitor as a signed link, served sandboxed.
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { emitAck, type Harness, type Json, once, pending, useHarness } from '../server/harness.js';
import { emailEnv, useSink } from './email-harness.js';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

async function visitor(h: Harness): Promise<{ v: Socket; token: string }> {
  const v = h.visitor();
  const session = await once<{ visitorToken: string }>(v, 'session');
  return { v, token: session.visitorToken };
}

function upload(h: Harness, token: string | null, body: Buffer, name = 'receipt.png', type = 'image/png') {
  const req = h
    .http()
    .post('/chat/files')
    .set('Content-Type', type)
    .set('X-File-Name', encodeURIComponent(name));
  if (token !== null) req.set('Authorization', `Bearer ${token}`);
  return req.send(body);
}

const pathOf = (url: string) => new URL(url).pathname;

describe('/chat files', () => {
  describe('on (here at most 2,048 bytes a file)', () => {
    const sb = useHarness({ env: { CHAT_FILE_MAX_BYTES: '2048' } });

    it('a visitor uploads a picture and sends it: the agent gets it as a link that opens it, and so does the visitor', async () => {
      const h = sb();
      const { agent, token: agentToken } = await h.createAgent('Ada');
      const ada = h.agentSocket(agentToken);
      await once(ada, 'hello');
      const { v, token } = await visitor(h);
      const up = await upload(h, token, PNG, 'damaged box.png').expect(201);
      expect(up.headers['access-control-allow-origin']).to.equal('*');
      expect(up.body.file).to.include({ name: 'damaged box.png', type: 'image/png', size: PNG.length });
      expect(up.body.file.upload).to.be.a('string');

      const ack = await emitAck(v, 'message', {
        text: 'it came like this',
        clientMessageId: 'f-1',
        files: [up.body.file.upload],
      });
      expect(ack.ok).to.equal(true);
      const view = await once(ada, 'assigned');
      expect(view.conversation.ownerId).to.equal(agent.id);
      const [file] = view.messages[0].attachments;
      expect(file).to.include({ name: 'damaged box.png', type: 'image/png', size: PNG.length });
      expect(file.url).to.match(/^http:\/\/localhost:\d+\/chat\/files\/\S+$/);

      // The visitor's own message, echoed back, carries it too.
      const echoed = pending<Json>(v, 'message').find((m) => m.id === ack.messageId);
      expect(echoed?.attachments).to.deep.equal([file]);

      const got = await h.http().get(pathOf(file.url)).buffer(true).expect(200);
      expect(Buffer.compare(got.body as Buffer, PNG)).to.equal(0);
      expect(got.headers['content-type']).to.equal('image/png');
      expect(got.headers['content-disposition']).to.match(/^inline; filename="damaged box.png"/);
      expect(got.headers['content-security-policy']).to.contain('sandbox');
      expect(got.headers['x-content-type-options']).to.equal('nosniff');
      expect(got.headers['cross-origin-resource-policy']).to.equal('cross-origin');

      // Stored with the message: the API shows it as the consoles do.
      const stored = (await h.admin.get(`/api/conversations/${ack.conversationId}`).expect(200)).body;
      expect(stored.messages[0].attachments).to.deep.equal([file]);
    });

    it("the owner blocks the visitor from the console: the conversation closes; the visitor's messages and files are refused", async () => {
      const h = sb();
      const { agent, token: agentToken } = await h.createAgent('Ada');
      const ada = h.agentSocket(agentToken);
      await once(ada, 'hello');
      const { v, token } = await visitor(h);
      const first = await emitAck(v, 'message', { text: 'you are useless', clientMessageId: 'b-1' });
      const view = await once(ada, 'assigned');
      expect(view.conversation.id).to.equal(first.conversationId);

      // Nobody but its owner may block from it, and a reason too long is named.
      const long = await emitAck(ada, 'block', {
        conversationId: first.conversationId,
        reason: 'x'.repeat(501),
      });
      expect(long).to.deep.include({ ok: false });
      expect(long.error).to.include({ code: 'invalid_input', field: 'reason' });
      const blocked = await emitAck(ada, 'block', {
        conversationId: first.conversationId,
        reason: 'insults',
      });
      expect(blocked).to.deep.equal({ ok: true, closed: [first.conversationId] });
      const conversation = await h.store.getConversation(first.conversationId);
      expect(conversation?.status).to.equal('resolved');
      const customer = await h.store.getCustomer(conversation!.customerId);
      expect(customer?.blocked).to.include({ by: agent.id, reason: 'insults' });

      const refused = await emitAck(v, 'message', { text: 'hello?', clientMessageId: 'b-2' });
      expect(refused).to.deep.equal({
        ok: false,
        error: { code: 'blocked', message: 'this conversation is closed' },
      });
      const up = await upload(h, token, PNG).expect(403);
      expect(up.body.error).to.deep.include({ code: 'blocked' });
      expect((await h.store.listMessages(first.conversationId)).map((m) => m.text)).to.deep.equal([
        'you are useless',
      ]);
      expect(await h.store.listConversations({})).to.have.length(1);
    });

    it('a file alone is a message; anything but a picture or plain text downloads', async () => {
      const h = sb();
      const { v, token } = await visitor(h);
      const pdf = Buffer.from('%PDF-1.4 not really');
      const up = await upload(h, token, pdf, 'invoice.pdf', 'application/pdf').expect(201);
      const ack = await emitAck(v, 'message', { clientMessageId: 'f-2', files: [up.body.file.upload] });
      expect(ack.ok).to.equal(true);
      const [message] = (await h.admin.get(`/api/conversations/${ack.conversationId}`).expect(200)).body
        .messages;
      expect(message.text).to.equal('');
      const got = await h.http().get(pathOf(message.attachments[0].url)).buffer(true).expect(200);
      expect(got.headers['content-type']).to.equal('application/octet-stream');
      expect(got.headers['content-disposition']).to.match(/^attachment; filename="?invoice\.pdf"?/);
    });

    it('refuses an upload without a visitor token, too large, empty, or badly named, and says which', async () => {
      const h = sb();
      const { token } = await visitor(h);
      const none = await upload(h, null, PNG).expect(401);
      expect(none.body.error.code).to.equal('unauthorized');
      expect(none.headers['access-control-allow-origin']).to.equal('*');
      await upload(h, 'v_forged.abc', PNG).expect(401);
      const big = await upload(h, token, Buffer.alloc(2049, 1)).expect(413);
      expect(big.body.error).to.deep.equal({
        code: 'too_large',
        message: 'the file is larger than 2048 bytes',
      });
      const empty = await upload(h, token, Buffer.alloc(0)).expect(400);
      expect(empty.body.error.field).to.equal('body');
      const unnamed = await upload(h, token, PNG, '').expect(400);
      expect(unnamed.body.error).to.include({
        field: 'X-File-Name',
        message: 'X-File-Name: must not be empty',
      });
      const typed = await upload(h, token, PNG, 'a.png', 'not a type').expect(400);
      expect(typed.body.error.field).to.equal('Content-Type');
      // A name with a path in it keeps only a name.
      const pathy = await upload(h, token, PNG, '../../etc/passwd').expect(201);
      expect(pathy.body.file.name).to.equal('.._.._etc_passwd');
    });

    it('answers the browser preflight of another website', async () => {
      const h = sb();
      const res = await h
        .http()
        .options('/chat/files')
        .set('Origin', 'https://shop.example.com')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization, content-type, x-file-name')
        .expect(204);
      expect(res.headers['access-control-allow-origin']).to.equal('*');
      expect(res.headers['access-control-allow-headers']).to.match(/X-File-Name/);
    });

    it("a visitor cannot attach another visitor's upload, nor a forged handle, and nothing is stored", async () => {
      const h = sb();
      const a = await visitor(h);
      const b = await visitor(h);
      const up = await upload(h, a.token, PNG).expect(201);
      const theirs = await emitAck(b.v, 'message', {
        text: 'look',
        clientMessageId: 'x',
        files: [up.body.file.upload],
      });
      expect(theirs.ok).to.equal(false);
      expect(theirs.error).to.include({ code: 'invalid_input', field: 'files.0' });
      const forged = await emitAck(a.v, 'message', {
        text: 'look',
        clientMessageId: 'y',
        files: ['up_x.forged'],
      });
      expect(forged.error.field).to.equal('files.0');
      const tooMany = await emitAck(a.v, 'message', { clientMessageId: 'z', files: Array(6).fill('f') });
      expect(tooMany.error.field).to.equal('files');
      const blank = await emitAck(a.v, 'message', { text: '  ', clientMessageId: 'w' });
      expect(blank.error).to.include({ field: 'text', message: 'message: text: must not be empty' });
      expect((await h.admin.get('/api/conversations').expect(200)).body.conversations).to.have.length(0);
    });

    it('a link that is not ours is 404; an upload the store no longer keeps is 410 and cannot be attached', async () => {
      const h = sb();
      await h.http().get('/chat/files/nope.nope').expect(404);
      // A link signed for an email attachment opens no chat file.
      const emailLink = h.sb.tokens.sign('attachment', 'up_x:0');
      await h.http().get(`/chat/files/${emailLink}`).expect(404);
      const missing = h.sb.tokens.sign('file', 'up_gone:0');
      const gone = await h.http().get(`/chat/files/${missing}`).expect(410);
      expect(gone.body.error.message).to.contain('CHAT_FILES_STORE_MAX_BYTES');
      const { v, token } = await visitor(h);
      const visitorId = h.sb.tokens.verify('visitor', token)!;
      const stale = h.sb.tokens.sign('upload', `visitor:${visitorId}:up_gone`);
      const ack = await emitAck(v, 'message', { clientMessageId: 's', files: [stale] });
      expect(ack.error).to.include({
        field: 'files.0',
        message: 'files.0: is no longer kept; upload it again',
      });
    });
  });

  describe('sent by an agent from the web console', () => {
    const sink = useSink();
    const sb = useHarness({ env: emailEnv(sink, { CHAT_FILE_MAX_BYTES: '2048' }) });

    /** An agent with a console, and a conversation of theirs that came in on `channel`. */
    async function owned(h: Harness, channel: 'chat' | 'voice' | 'email') {
      const { agent, token } = await h.createAgent('Ada', {
        capacity: { chat: 3, voice: 1, sms: 3, email: 3 },
      });
      const ada = h.agentSocket(token);
      await once(ada, 'hello');
      let v: Socket | null = null;
      let conversationId: string;
      if (channel === 'chat') {
        v = (await visitor(h)).v;
        conversationId = (await emitAck(v, 'message', { text: 'which form?', clientMessageId: 'q' }))
          .conversationId;
      } else {
        const from = channel === 'voice' ? '+14155550123' : 'dee@example.com';
        const result = await h.sb.router.contact({
          channel,
          from,
          text: 'which form?',
          externalId: `ext-${channel}`,
        });
        conversationId = result.conversation.id;
      }
      // A call rings first: she answers it.
      if (channel === 'voice')
        expect((await emitAck(ada, 'offer.accept', { conversationId })).ok).to.equal(true);
      await once(ada, 'assigned');
      return { agent, token, ada, v, conversationId };
    }

    it('the visitor gets it in the widget; the file opens; a visitor cannot attach it, nor the agent theirs', async () => {
      const h = sb();
      const { token, ada, v, conversationId } = await owned(h, 'chat');
      const up = await upload(h, token, PNG, 'label.png').expect(201);
      const sent = await emitAck(ada, 'reply', {
        conversationId,
        text: 'Print this label',
        clientMessageId: 'r1',
        files: [up.body.file.upload],
      });
      expect(sent.ok, JSON.stringify(sent)).to.equal(true);
      const shown = await once<Json>(v!, 'message', (m) => m.direction === 'out');
      expect(shown.text).to.equal('Print this label');
      expect(shown.attachments[0]).to.include({ name: 'label.png', type: 'image/png', size: PNG.length });
      const got = await h.http().get(pathOf(shown.attachments[0].url)).buffer(true).expect(200);
      expect(Buffer.compare(got.body as Buffer, PNG)).to.equal(0);

      const theirs = await emitAck(v!, 'message', { clientMessageId: 'steal', files: [up.body.file.upload] });
      expect(theirs.error.field).to.equal('files.0');
      const { visitorToken } = await once<Json>(h.visitor(), 'session');
      const visitorUpload = await upload(h, visitorToken, PNG).expect(201);
      const notMine = await emitAck(ada, 'reply', {
        conversationId,
        clientMessageId: 'r2',
        files: [visitorUpload.body.file.upload],
      });
      expect(notMine.error).to.include({ field: 'files.0', message: 'files.0: is not a file you uploaded' });
    });

    it('a console link renewed since cannot upload', async () => {
      const h = sb();
      const { agent, token } = await owned(h, 'chat');
      await h.admin.post(`/api/agents/${agent.id}/token`).expect(200);
      await upload(h, token, PNG).expect(401);
    });

    it('a call cannot carry a file: refused by name, nothing sent', async () => {
      const h = sb();
      const { token, ada, conversationId } = await owned(h, 'voice');
      const up = await upload(h, token, PNG).expect(201);
      const refused = await emitAck(ada, 'reply', {
        conversationId,
        clientMessageId: 'r',
        files: [up.body.file.upload],
      });
      expect(refused.error).to.include({
        field: 'files',
        message: 'files: a call cannot carry files; send them by text or email',
      });
      const stored = await h.sb.store.listMessages(conversationId);
      expect(stored.filter((m) => m.direction === 'out')).to.have.length(0);
    });

    it('by email it goes as an attachment of the reply', async () => {
      const h = sb();
      const { token, ada, conversationId } = await owned(h, 'email');
      const csv = Buffer.from('sku,qty\nlid,1\n');
      const up = await upload(h, token, csv, 'order.csv', 'text/csv').expect(201);
      const sent = await emitAck(ada, 'reply', {
        conversationId,
        clientMessageId: 'e1',
        files: [up.body.file.upload],
      });
      expect(sent.ok, JSON.stringify(sent)).to.equal(true);
      const { mail } = await sink().next();
      expect(mail.to && 'text' in mail.to ? mail.to.text : '').to.contain('dee@example.com');
      const [file] = mail.attachments;
      expect([file?.filename, file?.contentType]).to.deep.equal(['order.csv', 'text/csv']);
      expect(file?.content.toString()).to.equal(csv.toString());
    });
  });

  describe('off (CHAT_FILE_MAX_BYTES=0)', () => {
    const sb = useHarness({ env: { CHAT_FILE_MAX_BYTES: '0' } });

    it('there is no upload route and a message with files is refused by name', async () => {
      const h = sb();
      const { v, token } = await visitor(h);
      await upload(h, token, PNG).expect(404);
      const ack = await emitAck(v, 'message', { text: 'hi', clientMessageId: 'o', files: ['x'] });
      expect(ack.error.field).to.equal('files');
    });
  });
});
