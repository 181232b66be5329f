// What the channels share over HTTP (channels/http.ts): a bearer token read from its header, and a fetched
// body read up to a size, streamed without a declared length as Slack's and Twilio's file hosts may send it.
import { expect } from 'chai';
import { bearerToken, readAtMost } from '../../channels/http.js';

/** A response whose body comes in `parts` chunks of `size` bytes, with no Content-Length. */
function streamed(parts: number, size: number): Response {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === parts) return controller.close();
      sent++;
      controller.enqueue(new Uint8Array(size).fill(sent));
    },
  });
  return new Response(body);
}

describe('channels/http', () => {
  it('reads a streamed body up to its limit, and gives up past it without reading on', async () => {
    const within = await readAtMost(streamed(3, 4), 12);
    expect(within).to.deep.equal(Buffer.from([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]));
    const res = streamed(1000, 4);
    expect(await readAtMost(res, 10)).to.equal(null);
    // The body was cancelled, not left locked and half read.
    expect(res.body!.locked).to.equal(false);
    expect(await readAtMost(new Response(null), 10)).to.deep.equal(Buffer.alloc(0));
  });

  it('takes the token of a Bearer header only', () => {
    expect(bearerToken('Bearer abc.def')).to.equal('abc.def');
    expect(bearerToken('bearer  abc ')).to.equal('abc');
    expect(bearerToken('Basic abc')).to.equal(null);
    expect(bearerToken(undefined)).to.equal(null);
    expect(bearerToken('Bearer a b')).to.equal(null);
  });
});
