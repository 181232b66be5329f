import { expect } from 'chai';
import { StoreUnavailableError } from '../../shared/errors.js';
import { OneRunAtATime } from '../../shared/runs.js';

function recorder() {
  const lines: string[] = [];
  return {
    lines,
    log: {
      info: (msg: string) => void lines.push(`info ${msg}`),
      warn: (_: object, msg: string) => void lines.push(`warn ${msg}`),
      error: (_: object, msg: string) => void lines.push(`error ${msg}`),
    },
  };
}

describe('OneRunAtATime', () => {
  it('runs one at a time: a call while one runs waits for it, then runs anew', async () => {
    const { log } = recorder();
    const runs = new OneRunAtATime<number>({ log, failed: 'failed', works: 'works', stopped: () => false });
    const order: string[] = [];
    let release!: () => void;
    const first = runs.run(async () => {
      order.push('first starts');
      await new Promise<void>((r) => {
        release = r;
      });
      order.push('first ends');
      return 1;
    }, 0);
    expect(runs.busy).to.equal(true);
    const second = runs.run(async () => {
      order.push('second starts');
      return 2;
    }, 0);
    await Promise.resolve();
    release();
    expect(await Promise.all([first, second])).to.deep.equal([1, 2]);
    expect(order).to.deep.equal(['first starts', 'first ends', 'second starts']);
    expect(runs.busy).to.equal(false);
  });

  it('logs a failure once until a run works again, which it says; a failure once stopped is not logged', async () => {
    const { log, lines } = recorder();
    let stopped = false;
    const runs = new OneRunAtATime<string>({
      log,
      failed: 'could not',
      works: 'works again',
      stopped: () => stopped,
    });
    const fail = async (): Promise<string> => {
      throw new StoreUnavailableError('redis is away');
    };
    expect(await runs.run(fail, 'none')).to.equal('none');
    expect(await runs.run(fail, 'none')).to.equal('none');
    expect(await runs.run(async () => 'ok', 'none')).to.equal('ok');
    expect(lines).to.deep.equal(['warn could not', 'info works again']);
    stopped = true;
    expect(await runs.run(async () => 'never run', 'none')).to.equal('none');
    expect(lines).to.have.length(2);
  });
});
