// Twilio against several server processes (test/support/cluster.ts): two processes with Twilio on, its REST API the
// local stand-in; webhooks signed as Twilio signs them and posted to the process the load balancer would pick; and
// agents who take calls with their console on one.
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import twilio from 'twilio';
import type { Agent } from '../../shared/model.js';
import { ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, type Params, PUBLIC_URL } from '../channels/twilio-harness.js';
import { Cluster, type Node, next } from './cluster.js';
import { sharedRedisUrl, uniquePrefix } from './redis-server.js';
import { TwilioStandIn } from './twilio-standin.js';
import { parseTwiml, type Node as TwimlNode } from './twiml.js';

/** POST a webhook to `node`, signed as Twilio signs it (over PUBLIC_URL), and parse the TwiML it answers with. */
export async function twimlAt(node: Node, path: string, params: Params): Promise<TwimlNode> {
  const res = await fetch(`${node.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilio.getExpectedTwilioSignature(AUTH_TOKEN, `${PUBLIC_URL}${path}`, params),
    },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  expect(res.status, `${path}: ${text}`).to.equal(200);
  return parseTwiml(text);
}

/** An agent with one voice line and a Twilio Client identity, available, with their console on node `on`. */
export async function voiceAgent(
  c: Cluster,
  on: number,
  name: string,
): Promise<{ agent: Agent; console: Socket }> {
  const created = await c.nodes[on]!.api<{ agent: Agent; token: string }>('POST', '/agents', {
    name,
    capacity: { voice: 1 },
    clientIdentity: name.toLowerCase(),
    status: 'available',
  });
  expect(created.status, JSON.stringify(created.body)).to.equal(201);
  const console = c.socket(on, '/agent', { token: created.body.token });
  await next(console, 'hello');
  return { agent: created.body.agent, console };
}

/**
 * Call inside a describe(): a start of two server processes on the shared Redis (under a key prefix of their own,
 * named after `name`) with Twilio on, its REST API a stand-in of the test's own; `env` adds to their environment.
 * Both are closed after each test.
 */
export function useTwilioCluster(
  name: string,
): (env?: Record<string, string>) => Promise<{ c: Cluster; twilioApi: TwilioStandIn }> {
  let cluster: Cluster | null = null;
  let standIn: TwilioStandIn | null = null;
  afterEach(async () => {
    await cluster?.close();
    await standIn?.close();
    cluster = null;
    standIn = null;
  });
  return async (env = {}) => {
    const twilioApi = await TwilioStandIn.start(ACCOUNT_SID, AUTH_TOKEN);
    standIn = twilioApi;
    const c = await Cluster.start({
      nodes: 2,
      redisUrl: await sharedRedisUrl(),
      prefix: uniquePrefix(name),
      env: {
        PUBLIC_URL,
        TWILIO_ACCOUNT_SID: ACCOUNT_SID,
        TWILIO_AUTH_TOKEN: AUTH_TOKEN,
        TWILIO_FROM_NUMBER: OUR_NUMBER,
        TWILIO_API_URL: twilioApi.url,
        ...env,
      },
    });
    cluster = c;
    return { c, twilioApi };
  };
}
