// The email content store (raw messages, attachment bytes, what a reply needs):
// the same behaviour in memory and in Redis, where every process shares one
// budget and reads what another process kept.
import { expect } from 'chai';
import { createClient } from 'redis';
import { type ContentStore, type EmailContent, MemoryContentStore } from '../../channels/content.js';
import { RedisContentStore } from '../../channels/redis-content.js';
import { CorruptRecordError } from '../../shared/errors.js';
import { deletePrefix, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';
import { rejection } from '../support/rejection.js';

const entry = (bytes: number, attachments: EmailContent['attachments'] = []): EmailContent => ({
  raw: Buffer.alloc(bytes, 7),
  messageId: '<x@y>',
  replyTo: 'a@b.c',
  references: ['<r1@y>', '<r2@y>'],
  attachments,
});

function contract(name: string, make: (maxBytes: number) => Promise<ContentStore>) {
  describe(`email content store: ${name}`, () => {
    it('keeps what a reply needs and the bytes, binary as received', async () => {
      const store = await make(10_000);
      const bytes = Buffer.from([0, 255, 1, 128, 10, 13]);
      await store.put('m1', {
        ...entry(100),
        attachments: [
          { name: 'scan.png', type: 'image/png', size: 6, content: bytes },
          { name: 'huge.mov', type: 'video/quicktime', size: 50_000_000, content: null },
        ],
      });
      const got = await store.get('m1');
      expect(got?.raw.equals(Buffer.alloc(100, 7))).to.equal(true);
      expect([got?.messageId, got?.replyTo, got?.references]).to.deep.equal([
        '<x@y>',
        'a@b.c',
        ['<r1@y>', '<r2@y>'],
      ]);
      expect(
        got?.attachments.map((a) => [a.name, a.type, a.size, a.content?.toString('hex') ?? null]),
      ).to.deep.equal([
        ['scan.png', 'image/png', 6, '00ff01800a0d'],
        ['huge.mov', 'video/quicktime', 50_000_000, null],
      ]);
      expect(await store.get('m-none')).to.equal(null);
      // What files it holds, without their bytes.
      expect(await store.files('m1')).to.deep.equal([
        { name: 'scan.png', type: 'image/png', size: 6, kept: true },
        { name: 'huge.mov', type: 'video/quicktime', size: 50_000_000, kept: false },
      ]);
      expect(await store.files('m-none')).to.equal(null);
    });

    it('stays within its byte budget by dropping the oldest entries; one larger than the budget is not kept', async () => {
      const store = await make(1000);
      await store.put('m1', entry(400));
      await store.put(
        'm2',
        entry(300, [{ name: 'a', type: 'text/plain', size: 100, content: Buffer.alloc(100) }]),
      );
      await store.put('m3', entry(400));
      expect(await store.get('m1')).to.equal(null);
      expect((await store.get('m2'))?.raw.length).to.equal(300);
      expect((await store.get('m3'))?.raw.length).to.equal(400);
      await store.put('huge', entry(2000));
      expect(await store.get('huge')).to.equal(null);
      expect((await store.get('m3'))?.raw.length).to.equal(400);
      // Put again under the same id: replaced, counted once, and now the newest.
      await store.put('m3', entry(500));
      await store.put('m4', entry(200));
      expect((await store.get('m3'))?.raw.length).to.equal(500);
      expect(await store.get('m2')).to.equal(null);
      expect((await store.get('m4'))?.raw.length).to.equal(200);
    });

    it('says whether it kept an entry, and how many bytes each holds: 0 for one without any, null when not kept', async () => {
      const store = await make(1000);
      expect(await store.put('m1', entry(400))).to.equal(true);
      expect(await store.put('huge', entry(2000))).to.equal(false);
      // A mail too large to keep is kept as what a reply needs only: no bytes.
      expect(
        await store.put('huge', {
          ...entry(0),
          attachments: [{ name: 'a', type: 'x/y', size: 5000, content: null }],
        }),
      ).to.equal(true);
      expect(await store.held(['m1', 'huge', 'm-none'])).to.deep.equal([400, 0, null]);
      expect(await store.held([])).to.deep.equal([]);
      expect(store.maxBytes).to.equal(1000);
      expect((await store.get('huge'))?.replyTo).to.equal('a@b.c');
    });

    it('forgets entries on request, and their bytes no longer count against the budget', async () => {
      const store = await make(1000);
      await store.put('m1', entry(400));
      await store.put(
        'm2',
        entry(300, [{ name: 'a', type: 'text/plain', size: 100, content: Buffer.alloc(100) }]),
      );
      await store.put('m3', entry(200));
      expect(await store.delete(['m2', 'm-none', 'm3'])).to.equal(2);
      expect(await store.get('m2')).to.equal(null);
      expect(await store.files('m3')).to.equal(null);
      expect(await store.delete([])).to.equal(0);
      // 400 are held: 600 more fit without m1 going.
      await store.put('m4', entry(600));
      expect((await store.get('m1'))?.raw.length).to.equal(400);
      expect((await store.get('m4'))?.raw.length).to.equal(600);
      // Many at once (the Redis store deletes 256 a script).
      const many = Array.from({ length: 300 }, (_, i) => `x${i}`);
      for (const id of many.slice(0, 3)) await store.put(id, entry(0));
      expect(await store.delete(['m1', ...many])).to.equal(4);
      await store.put('m5', entry(400));
      expect((await store.get('m4'))?.raw.length).to.equal(600);
    });
  });
}

contract('memory', async (maxBytes) => new MemoryContentStore(maxBytes));

describe('email content store in Redis', () => {
  const opened: Array<{ store: RedisContentStore; prefix: string }> = [];
  let url: string;
  before(async () => {
    url = await sharedRedisUrl();
  });
  afterEach(async () => {
    for (const { store, prefix } of opened.splice(0)) {
      await store.close();
      await deletePrefix(url, prefix);
    }
  });
  const open = async (
    maxBytes: number,
    prefix = uniquePrefix('email'),
    namespace: 'email' | 'chat' = 'email',
  ) => {
    const store = await RedisContentStore.connect({ url, prefix, maxBytes, namespace });
    opened.push({ store, prefix });
    return store;
  };

  contract('redis', (maxBytes) => open(maxBytes));

  it('is shared: what one process kept, another reads, and the budget counts both', async () => {
    const prefix = uniquePrefix('email');
    const a = await open(1000, prefix);
    const b = await open(1000, prefix);
    await a.put('m1', entry(600));
    expect((await b.get('m1'))?.raw.length).to.equal(600);
    await b.put('m2', entry(600));
    expect(await a.get('m1')).to.equal(null);
    expect((await a.get('m2'))?.raw.length).to.equal(600);
  });

  it("chat visitors' files are kept apart from email, each within its own budget", async () => {
    const prefix = uniquePrefix('email');
    const email = await open(1000, prefix);
    const chat = await open(1000, prefix, 'chat');
    expect(chat.key('content', 'up_1')).to.match(/:chat:content:up_1$/);
    await email.put('same', entry(600));
    await chat.put('same', entry(700));
    expect((await email.get('same'))?.raw.length).to.equal(600);
    expect((await chat.get('same'))?.raw.length).to.equal(700);
    await chat.put('up_2', entry(600));
    expect(await chat.get('same')).to.equal(null);
    expect((await email.get('same'))?.raw.length).to.equal(600);
  });

  it('an entry whose metadata cannot be read is a CorruptRecordError naming its key', async () => {
    const store = await open(1000);
    await store.put('m1', entry(10));
    const raw = createClient({ url });
    await raw.connect();
    await raw.hSet(store.key('content', 'm1'), 'meta', '{"messageId": 5}');
    raw.destroy();
    const err = await rejection<CorruptRecordError>(store.get('m1'));
    expect(err).to.be.instanceOf(CorruptRecordError);
    expect(err.message).to.contain(store.key('content', 'm1'));
  });
});
