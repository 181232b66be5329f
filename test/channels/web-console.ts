// A web console at the socket (namespace /agent), for the console's specs: an agent created through the real
// app, connected with their token, and the `hello` it was sent.
import type { Socket } from 'socket.io-client';
import type { Agent } from '../../shared/model.js';
import { type Harness, type Json, once } from '../server/harness.js';

export interface Console {
  agent: Agent;
  token: string;
  socket: Socket;
  hello: Json;
}

export async function agentConsole(
  h: Harness,
  name: string,
  input: Parameters<Harness['createAgent']>[1] = {},
): Promise<Console> {
  const { agent, token } = await h.createAgent(name, input);
  const socket = h.agentSocket(token);
  const hello = await once(socket, 'hello');
  return { agent, token, socket, hello };
}
