import { expect } from 'chai';
import { agentToken, readAgentToken, TokenSigner } from '../../shared/tokens.js';

const SECRET = 'a-test-secret-of-at-least-32-characters';

describe('tokens', () => {
  const tokens = new TokenSigner(SECRET);

  it('verify gives back the signed id for its purpose only, and null for anything else', () => {
    const token = tokens.sign('visitor', 'cu_1');
    expect(tokens.verify('visitor', token)).to.equal('cu_1');
    expect(tokens.verify('agent', token)).to.equal(null);
    expect(new TokenSigner(`${SECRET}x`).verify('visitor', token)).to.equal(null);
    for (const bad of [undefined, null, 42, '', '.', 'cu_1', `${token}x`, 'x'.repeat(301), {}]) {
      expect(tokens.verify('visitor', bad), JSON.stringify(bad)).to.equal(null);
    }
  });

  it('an agent token signs the id alone until the links are renewed, then the id and the version', () => {
    expect(agentToken(tokens, { id: 'ag_1' })).to.equal(tokens.sign('agent', 'ag_1'));
    expect(agentToken(tokens, { id: 'ag_1', tokenVersion: 3 })).to.equal(tokens.sign('agent', 'ag_1:3'));
    expect(readAgentToken(tokens, agentToken(tokens, { id: 'ag_1' }))).to.deep.equal({
      agentId: 'ag_1',
      version: 0,
    });
    expect(readAgentToken(tokens, agentToken(tokens, { id: 'ag_1', tokenVersion: 3 }))).to.deep.equal({
      agentId: 'ag_1',
      version: 3,
    });
  });

  it('an agent token that is not signed, or signed for another purpose, names no agent', () => {
    expect(readAgentToken(tokens, tokens.sign('visitor', 'ag_1'))).to.equal(null);
    expect(readAgentToken(tokens, 'ag_1:3.forged')).to.equal(null);
    expect(readAgentToken(tokens, undefined)).to.equal(null);
    // A version that is not a positive number is part of the id (which no agent has), never version 0.
    expect(readAgentToken(tokens, tokens.sign('agent', 'ag_1:0'))).to.deep.equal({
      agentId: 'ag_1:0',
      version: 0,
    });
  });
});
