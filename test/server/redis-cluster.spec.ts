// The Redis Cluster helpers on their own: the URL of a master found in CLUSTER SLOTS keeps what the
// URL it was found from says (scheme, user, password, database), and logs never show a password.
import { expect } from 'chai';
import { nodeUrl, safeUrl } from '../../server/redis-cluster.js';

describe('redis cluster URLs', () => {
  it('a master’s URL keeps the scheme, user, password and database of the one it was found from', () => {
    expect(nodeUrl('redis://127.0.0.1:7000', '10.0.0.2', 7001)).to.equal('redis://10.0.0.2:7001');
    expect(nodeUrl('rediss://app:s3cret@cache.example.com:6380/0', '10.0.0.2', 6379)).to.equal(
      'rediss://app:s3cret@10.0.0.2:6379/0',
    );
    // A node that does not know its own address answers '' (or '?'): the host we reached is kept.
    expect(nodeUrl('redis://cache.example.com:7000', '', 7002)).to.equal('redis://cache.example.com:7002');
    expect(nodeUrl('redis://cache.example.com:7000', '?', 7002)).to.equal('redis://cache.example.com:7002');
    expect(nodeUrl('redis://127.0.0.1:7000', '::1', 7003)).to.equal('redis://[::1]:7003');
  });

  it('a URL in a log or an error has no password', () => {
    expect(safeUrl('rediss://app:s3cret@cache.example.com:6380')).to.equal(
      'rediss://app:***@cache.example.com:6380',
    );
    expect(safeUrl('redis://127.0.0.1:6379')).to.equal('redis://127.0.0.1:6379');
    expect(safeUrl('not a url')).to.equal('the Redis URL');
  });
});
