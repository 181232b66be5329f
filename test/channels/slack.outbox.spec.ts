// The Slack outbox on its own, with a scripted Web API client and a fake clock:
// pacing per channel, Retry-After, retries of transient failures, order, close.
import { webApi } from '@slack/bolt';
import { expect } from 'chai';
import { OutboxClosedError, SlackOutbox } from '../../channels/slack/outbox.js';

type Answer = Record<string, unknown> | Error;

/** Timers that fire only when the test runs them, in due order. */
class FakeTime {
  t = 0;
  readonly waits: number[] = [];
  readonly #timers: Array<{ at: number; resolve: () => void }> = [];
  now = () => this.t;
  wait = (ms: number) => {
    this.waits.push(ms);
    return new Promise<void>((resolve) => this.#timers.push({ at: this.t + ms, resolve }));
  };
  /** Let everything run, firing timers in order, until nothing is left to do. */
  async run(): Promise<void> {
    for (;;) {
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      this.#timers.sort((a, b) => a.at - b.at);
      const next = this.#timers.shift();
      if (!next) return;
      this.t = Math.max(this.t, next.at);
      next.resolve();
    }
  }
}

/** A Web API client that answers from a script per method and records when each call was made. */
function scriptedClient(time: FakeTime, script: Record<string, Answer[]> = {}) {
  const calls: Array<{ method: string; args: Record<string, unknown>; at: number }> = [];
  const client = {
    async apiCall(method: string, args: Record<string, unknown>) {
      calls.push({ method, args, at: time.now() });
      const answer = script[method]?.shift() ?? { ok: true, ts: `${calls.length}.000000` };
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { client: client as unknown as InstanceType<typeof webApi.WebClient>, calls };
}

describe('Slack outbox', () => {
  it('keeps messages to one channel about a second apart, in order, without holding other channels up', async () => {
    const time = new FakeTime();
    const { client, calls } = scriptedClient(time);
    const outbox = new SlackOutbox({ client, now: time.now, wait: time.wait });
    const sent = [
      outbox.post('chat.postMessage', { channel: 'D1', text: 'a1' }),
      outbox.post('chat.postMessage', { channel: 'D1', text: 'a2' }),
      outbox.post('chat.postMessage', { channel: 'D2', text: 'b1' }),
      outbox.post('chat.update', { channel: 'D1', ts: '1.0', text: 'a3' }),
      outbox.post('chat.postMessage', { channel: 'D2', text: 'b2' }),
    ];
    await time.run();
    await Promise.all(sent);
    expect(calls.map((c) => [c.args.text, c.at])).to.deep.equal([
      ['a1', 0],
      ['b1', 0],
      ['a2', 1000],
      ['b2', 1000],
      ['a3', 2000],
    ]);
    // The spacing holds across bursts too: a message right after the last one waits its turn.
    time.t = 2500;
    const late = outbox.post('chat.postMessage', { channel: 'D1', text: 'a4' });
    await time.run();
    await late;
    expect(calls.at(-1)).to.deep.include({ at: 3000 });
    expect(calls.at(-1)!.args.text).to.equal('a4');
  });

  it('the spacing is injectable: 0 sends at once', async () => {
    const time = new FakeTime();
    const { client, calls } = scriptedClient(time);
    const outbox = new SlackOutbox({ client, now: time.now, wait: time.wait, paceMs: 0 });
    const sent = [1, 2, 3].map((n) => outbox.post('chat.postMessage', { channel: 'D1', text: String(n) }));
    await time.run();
    await Promise.all(sent);
    expect(calls.map((c) => c.at)).to.deep.equal([0, 0, 0]);
    expect(time.waits).to.deep.equal([]);
  });

  it('on 429 waits the Retry-After Slack gave, then sends the same call again; other calls of that method wait too', async () => {
    const time = new FakeTime();
    const { client, calls } = scriptedClient(time, {
      'chat.postMessage': [new webApi.WebAPIRateLimitedError(3)],
    });
    const outbox = new SlackOutbox({ client, now: time.now, wait: time.wait });
    const first = outbox.post('chat.postMessage', { channel: 'D1', text: 'limited' });
    await new Promise((r) => setImmediate(r));
    const other = outbox.post('chat.postMessage', { channel: 'D2', text: 'other channel' });
    const publish = outbox.call('views.publish', { user_id: 'U1', view: { type: 'home', blocks: [] } });
    await time.run();
    expect(await first).to.deep.equal({ ok: true, ts: '3.000000' });
    await other;
    await publish;
    expect(calls.map((c) => [c.method, c.args.text ?? null, c.at])).to.deep.equal([
      ['chat.postMessage', 'limited', 0],
      ['views.publish', null, 0],
      ['chat.postMessage', 'limited', 3000],
      ['chat.postMessage', 'other channel', 3000],
    ]);
    expect(time.waits).to.include(3000);
  });

  it('a rate limit never drops a message, however often it comes', async () => {
    const time = new FakeTime();
    const limited = Array.from({ length: 6 }, () => new webApi.WebAPIRateLimitedError(1));
    const { client, calls } = scriptedClient(time, { 'chat.postMessage': limited });
    const outbox = new SlackOutbox({ client, now: time.now, wait: time.wait, maxAttempts: 2 });
    const sent = outbox.post('chat.postMessage', { channel: 'D1', text: 'persistent' });
    await time.run();
    expect(await sent).to.deep.equal({ ok: true, ts: '7.000000' });
    expect(calls).to.have.length(7);
  });

  it('retries a network failure or a 5xx with backoff, then gives up; a Slack error is final at once', async () => {
    const time = new FakeTime();
    const down = () => new webApi.WebAPIRequestError(new Error('connect ECONNREFUSED'));
    const { client, calls } = scriptedClient(time, {
      'chat.postMessage': [down(), new webApi.WebAPIHTTPError(502, 'Bad Gateway', {}, '')],
      'chat.update': [down(), down(), down()],
      'reactions.add': [new webApi.WebAPIPlatformError({ ok: false, error: 'already_reacted' })],
    });
    const outbox = new SlackOutbox({ client, now: time.now, wait: time.wait, paceMs: 0, maxAttempts: 3 });
    const recovered = outbox.post('chat.postMessage', { channel: 'D1', text: 'eventually' });
    const lost = outbox.call('chat.update', { channel: 'D2', ts: '1.0' });
    const final = outbox.call('reactions.add', { channel: 'D3', timestamp: '1.0', name: 'x' });
    const caught = Promise.all([lost.catch((e: unknown) => e), final.catch((e: unknown) => e)]);
    await time.run();
    expect((await recovered).ok).to.equal(true);
    const [lostErr, finalErr] = await caught;
    expect(lostErr).to.be.instanceOf(webApi.WebAPIRequestError);
    expect(finalErr).to.be.instanceOf(webApi.WebAPIPlatformError);
    expect(calls.filter((c) => c.method === 'chat.postMessage').map((c) => c.at)).to.deep.equal([
      0, 500, 1500,
    ]);
    expect(calls.filter((c) => c.method === 'chat.update').map((c) => c.at)).to.deep.equal([0, 500, 1500]);
    expect(calls.filter((c) => c.method === 'reactions.add')).to.have.length(1);
  });

  it('a failed call does not stop the ones queued behind it', async () => {
    const time = new FakeTime();
    const { client, calls } = scriptedClient(time, {
      'chat.postMessage': [new webApi.WebAPIPlatformError({ ok: false, error: 'channel_not_found' })],
    });
    const outbox = new SlackOutbox({ client, now: time.now, wait: time.wait, paceMs: 10 });
    const bad = outbox.post('chat.postMessage', { channel: 'D1', text: 'bad' }).catch((e: unknown) => e);
    const good = outbox.post('chat.postMessage', { channel: 'D1', text: 'good' });
    await time.run();
    expect(await bad).to.be.instanceOf(webApi.WebAPIPlatformError);
    expect((await good).ok).to.equal(true);
    expect(calls.map((c) => [c.args.text, c.at])).to.deep.equal([
      ['bad', 0],
      ['good', 10],
    ]);
  });

  it('idle() waits for what is queued; close() refuses new calls and rejects those still waiting', async () => {
    const time = new FakeTime();
    const { client, calls } = scriptedClient(time);
    const outbox = new SlackOutbox({ client, now: time.now, wait: time.wait });
    await outbox.idle();
    const first = outbox.post('chat.postMessage', { channel: 'D1', text: '1' });
    const second = outbox.post('chat.postMessage', { channel: 'D1', text: '2' }).catch((e: unknown) => e);
    await first;
    outbox.close();
    await time.run();
    expect(await second).to.be.instanceOf(OutboxClosedError);
    const refused = await outbox.call('auth.test', {}).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(OutboxClosedError);
    expect(calls.map((c) => c.args.text)).to.deep.equal(['1']);
    await outbox.idle();
  });
});
