// The embedded default: two demo agents so a newcomer can chat with themselves at once.
import type { Router } from '../routing/router.js';
import type { Agent } from '../shared/model.js';
import { agentToken, type TokenSigner } from '../shared/tokens.js';

export async function createDemoAgents(
  router: Router,
  tokens: TokenSigner,
): Promise<Array<{ agent: Agent; token: string }>> {
  const out: Array<{ agent: Agent; token: string }> = [];
  for (const name of ['Ada (demo)', 'Grace (demo)']) {
    const agent = await router.createAgent({ name, skills: { support: 5 }, status: 'available' });
    out.push({ agent, token: agentToken(tokens, agent) });
  }
  return out;
}
