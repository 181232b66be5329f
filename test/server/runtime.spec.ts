// The server runs with the same Node.js flags however it is started: `npm start`,
// the Dockerfile, the benchmark and the child processes of the multi-process tests
// (which import SERVER_NODE_FLAGS).
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { SERVER_NODE_FLAGS } from '../../server/runtime.js';

const root = new URL('../../', import.meta.url);
const read = (file: string): string => readFileSync(new URL(file, root), 'utf8');

describe('server runtime flags', () => {
  it('npm start, npm run bench and the Dockerfile pass SERVER_NODE_FLAGS to node', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(SERVER_NODE_FLAGS.length).to.be.greaterThan(0);
    for (const name of ['start', 'bench']) {
      expect(scripts[name], name).to.match(/^node /);
      for (const flag of SERVER_NODE_FLAGS) expect(scripts[name], name).to.include(` ${flag} `);
    }
    const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'));
    expect(cmd, 'the Dockerfile has a CMD in exec form').to.not.equal(null);
    const args = JSON.parse(cmd![1]!) as string[];
    expect(args[0]).to.equal('node');
    expect(args.slice(1, 1 + SERVER_NODE_FLAGS.length)).to.deep.equal([...SERVER_NODE_FLAGS]);
    expect(args.slice(-3)).to.deep.equal(['--import', 'tsx', 'server/main.ts']);
  });
});
