import { expect } from 'chai';
import { ID_PREFIX, newId, randomIds, sequentialIds } from '../../shared/ids.js';

describe('ids', () => {
  it('newId is the prefix and 16 base-36 characters', () => {
    const id = newId('cv');
    expect(/^cv_[0-9a-z]{16}$/.test(id)).to.equal(true);
    const many = new Set(Array.from({ length: 1000 }, () => newId('x')));
    expect(many.size).to.equal(1000);
    expect(/^pr_[0-9a-z]{16}$/.test(randomIds.next('pr'))).to.equal(true);
  });

  it('sequentialIds counts in base 36, padded, across prefixes', () => {
    const ids = sequentialIds();
    expect(ids.next(ID_PREFIX.customer)).to.equal('cu_000001');
    expect(ids.next(ID_PREFIX.conversation)).to.equal('cv_000002');
    for (let i = 3; i < 36; i++) ids.next('x');
    expect(ids.next(ID_PREFIX.message)).to.equal('msg_000010');
    // Each source counts on its own.
    expect(sequentialIds().next(ID_PREFIX.agent)).to.equal('ag_000001');
  });

  it('has one prefix per record kind', () => {
    expect(ID_PREFIX).to.deep.equal({
      customer: 'cu',
      conversation: 'cv',
      message: 'msg',
      agent: 'ag',
      promise: 'pr',
    });
  });
});
