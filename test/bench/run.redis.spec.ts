// The routing benchmark on the Redis store, run as `npm run bench` runs it (a child
// process), small: its --json line carries Redis's work per decision with
// --redis-stats, and it leaves no keys behind.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { createClient } from 'redis';
import { useRedis } from '../routing/redis-harness.js';

const run = promisify(execFile);

describe('bench/run on the Redis store', () => {
  const redis = useRedis();

  it('--redis-stats reports the scripts and calls per timed decision, and the keys are gone afterwards', async function () {
    this.timeout(120_000);
    const args = [
      '--import',
      'tsx',
      'bench/run.ts',
      '--store',
      'redis',
      '--scenario',
      'claim',
      '--agents',
      '20',
    ];
    args.push('--waiting', '30', '--reps', '1', '--steps', '30', '--warmup', '5', '--json', '--redis-stats');
    const running = run(process.execPath, args, { env: { ...process.env, REDIS_URL: redis.url() } });
    const pid = running.child.pid;
    expect(pid).to.be.a('number');
    const { stdout } = await running;
    const line = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      scenario: string;
      store: string;
      redisPerDecision?: Array<{ command: string; calls: number; usec: number }>;
      redisCpu?: { userUsec: number; sysUsec: number; busy: number };
      processCpuUsec?: number;
    };
    expect([line.scenario, line.store]).to.deep.equal(['claim', 'redis']);
    const per = new Map((line.redisPerDecision ?? []).map((c) => [c.command, c]));
    // Every claim decision is one resolve script (a ringing call adds its answer), reading records with GET;
    // on this Redis (7, functions) each runs as FCALL.
    const scripts = per.get('fcall');
    expect(per.has('evalsha')).to.equal(false);
    expect(scripts?.calls).to.be.within(1, 2);
    expect(scripts?.usec).to.be.greaterThan(0);
    expect(per.get('get')?.calls).to.be.greaterThan(0);
    expect(per.has('info')).to.equal(false);
    // The server's CPU over the timed batches (INFO cpu) and this process's, per decision.
    expect(line.redisCpu?.userUsec).to.be.a('number').at.least(0);
    expect(line.redisCpu?.sysUsec).to.be.a('number').at.least(0);
    expect(line.redisCpu!.userUsec + line.redisCpu!.sysUsec).to.be.greaterThan(0);
    expect(line.redisCpu?.busy).to.be.a('number').greaterThan(0);
    expect(line.processCpuUsec).to.be.a('number').greaterThan(0);

    const client = createClient({ url: redis.url() });
    client.on('error', () => {});
    await client.connect();
    try {
      const left = await client.keys(`{sb:bench-${pid}-*`);
      expect(left).to.deep.equal([]);
    } finally {
      client.destroy();
    }
  });
});
