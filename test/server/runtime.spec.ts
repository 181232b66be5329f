// The server runs with the same Node.js flags however it is started: `npm start`,
// the Dockerfile, the benchmark and the child processes of the multi-process tests
// (which import SERVER_NODE_FLAGS); and `npm start` stops when it is told to.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { SERVER_NODE_FLAGS } from '../../server/runtime.js';
import { until } from '../support/cluster.js';
import { freePort } from '../support/redis-server.js';

const root = new URL('../../', import.meta.url);
const read = (file: string): string => readFileSync(new URL(file, root), 'utf8');

describe('server runtime flags', () => {
  it('npm start, npm run bench and the Dockerfile pass SERVER_NODE_FLAGS to node', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(SERVER_NODE_FLAGS.length).to.be.greaterThan(0);
    for (const name of ['start', 'bench']) {
      expect(scripts[name], name).to.match(name === 'start' ? /^exec node / : /^node /);
      for (const flag of SERVER_NODE_FLAGS) expect(scripts[name], name).to.include(` ${flag} `);
    }
    const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'));
    expect(cmd, 'the Dockerfile has a CMD in exec form').to.not.equal(null);
    const args = JSON.parse(cmd![1]!) as string[];
    expect(args[0]).to.equal('node');
    expect(args.slice(1, 1 + SERVER_NODE_FLAGS.length)).to.deep.equal([...SERVER_NODE_FLAGS]);
    expect(args.slice(-3)).to.deep.equal(['--import', 'tsx', 'server/main.ts']);
  });

  it("npm start stops cleanly on SIGTERM sent to npm (a supervisor, a script's kill), leaving no server running", async function () {
    this.timeout(60_000);
    const port = await freePort();
    // Its own process group: whatever is left of it is killed at the end, whether or not it stopped.
    const npm = spawn('npm', ['start'], {
      cwd: fileURLToPath(root),
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        PORT: String(port),
        HOST: '127.0.0.1',
        DEMO_AGENTS: 'off',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    npm.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const answers = () =>
      fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      );
    try {
      await until(answers, 'the server answering', 30_000, 100);
      npm.kill('SIGTERM');
      await until(async () => !(await answers()), 'the server gone after SIGTERM to npm', 15_000, 100);
      expect(out).to.include('shutting down');
    } finally {
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        // all gone
      }
    }
  });
});
