// The embedded default: two demo agents so a newcomer can chat with themselves at once. Each is available while
// their console is open (away, "console closed", until it opens), so a customer never goes to a demo agent
// nobody is looking at.
import { CONSOLE_CLOSED } from '../channels/web/namespace.js';
import type { Router } from '../routing/router.js';
import type { Agent } from '../shared/model.js';
import { agentToken, type TokenSigner } from '../shared/tokens.js';

export async function createDemoAgents(
  router: Router,
  tokens: TokenSigner,
): Promise<Array<{ agent: Agent; token: string }>> {
  const out: Array<{ agent: Agent; token: string }> = [];
  for (const name of ['Ada (demo)', 'Grace (demo)']) {
    const created = await router.createAgent({ name, skills: { support: 5 }, status: 'offline' });
    const agent = await router.setAgentStatus(created.id, 'away', CONSOLE_CLOSED);
    out.push({ agent, token: agentToken(tokens, agent) });
  }
  return out;
}
