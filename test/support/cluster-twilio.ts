// Twilio against several server processes (test/support/cluster.ts): webhooks signed as Twilio signs them and
// posted to the process the load balancer would pick, and agents who take calls with their console on one.
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import twilio from 'twilio';
import type { Agent } from '../../shared/model.js';
import { AUTH_TOKEN, type Params, PUBLIC_URL } from '../channels/twilio-harness.js';
import { type Cluster, type Node, next } from './cluster.js';
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
