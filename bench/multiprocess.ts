// Scale-out benchmark: the same chat load against 1, 2 and 3 server processes
// (child processes running server/main.ts) sharing one Redis. For each process
// count, a fresh key prefix, 20 agents (chat capacity 3 each) at web consoles
// spread over the processes, who resolve each conversation as soon as it is
// theirs; then `contacts` chat visitors, spread over the processes, each
// connecting, sending one message and waiting for its ack, `concurrency` at a time.
//
//   npm run bench -- --multiprocess [--processes 1,2,3] [--contacts 1500] [--concurrency 60]
//                                   [--agents 20] [--quick] [--json]
//   (or: npx tsx bench/multiprocess.ts …)
//
// Redis: REDIS_URL, else 127.0.0.1:6379 when it answers, else a redis-server of
// its own. Reports per process count: contacts per second (acknowledged), ack
// latency p50/p99 (message sent → ack), time to a human p50/p99 (message sent →
// the agent's console shows the conversation), and the server processes' CPU per
// contact. The load generator runs on the same machine: on a 2-core machine,
// more processes than cores share the same CPUs with it.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { Cluster, next, pool } from '../test/support/cluster.js';
import { sharedRedisUrl, uniquePrefix } from '../test/support/redis-server.js';
import { quantile } from './stats.js';

interface Options {
  processes: number[];
  contacts: number;
  concurrency: number;
  agents: number;
  json: boolean;
}

interface Row {
  scenario: 'multiprocess';
  processes: number;
  contacts: number;
  perSec: number;
  ackP50Ms: number;
  ackP99Ms: number;
  humanP50Ms: number;
  humanP99Ms: number;
  serverCpuMsPerContact: number;
  failed: number;
}

const USAGE =
  'usage: npm run bench -- --multiprocess [--processes 1,2,3] [--contacts 1500] [--concurrency 60] [--agents 20] [--quick] [--json]';

function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const opts: Options = {
    processes: [1, 2, 3],
    contacts: quick ? 600 : 1500,
    concurrency: 60,
    agents: 20,
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? (arg.split('=', 2) as [string, string]) : [arg, undefined];
    const ints = (): number[] => {
      const raw = inline ?? argv[++i] ?? '';
      const out = raw.split(',').map(Number);
      if (out.some((n) => !Number.isInteger(n) || n <= 0))
        throw new Error(`${flag}: "${raw}" is not a list of positive whole numbers\n${USAGE}`);
      return out;
    };
    switch (flag) {
      case '--multiprocess':
      case '--quick':
        break;
      case '--processes':
        opts.processes = ints();
        break;
      case '--contacts':
        opts.contacts = ints()[0]!;
        break;
      case '--concurrency':
        opts.concurrency = ints()[0]!;
        break;
      case '--agents':
        opts.agents = ints()[0]!;
        break;
      case '--json':
        opts.json = true;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  return opts;
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

const log = (line: string) => process.stderr.write(`${line}\n`);

async function runOne(processes: number, opts: Options): Promise<Row> {
  const c = await Cluster.start({
    nodes: processes,
    redisUrl: await sharedRedisUrl(),
    prefix: uniquePrefix('bench'),
  });
  try {
    // Agents at consoles spread over the processes; each resolves a conversation as soon as it is theirs.
    const shownAt = new Map<string, number>();
    await pool(opts.agents, 5, async (i) => {
      const on = i % processes;
      const { token } = await c.createAgent(on, `Agent ${i}`, { chat: 3 });
      const socket = c.socket(on, '/agent', { token });
      socket.on('assigned', (view: { conversation: { id: string } }) => {
        const id = view.conversation.id;
        shownAt.set(id, performance.now());
        socket.emit('resolve', { conversationId: id });
      });
      await next(socket, 'hello');
    });

    const cpuBefore = c.nodes.map((n) => cpuSeconds(n.pid));
    const ackMs: number[] = [];
    const sentAt = new Map<string, number>();
    let failed = 0;
    const t0 = performance.now();
    await pool(opts.contacts, opts.concurrency, async (i) => {
      const socket = c.socket(i % processes, '/chat', {});
      try {
        await next(socket, 'session', () => true, 30_000);
        const sent = performance.now();
        const ack = (await socket
          .timeout(30_000)
          .emitWithAck('message', { text: `Hello ${i}`, clientMessageId: `b${i}` })) as {
          ok: boolean;
          conversationId?: string;
        };
        if (!ack.ok || !ack.conversationId) throw new Error('refused');
        ackMs.push(performance.now() - sent);
        sentAt.set(ack.conversationId, sent);
      } catch {
        failed++;
      } finally {
        c.forget(socket);
      }
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = c.nodes.reduce((sum, n, i) => sum + cpuSeconds(n.pid) - cpuBefore[i]!, 0);
    // Give the last assignments a moment to reach the consoles.
    const deadline = Date.now() + 10_000;
    while ([...sentAt.keys()].some((id) => !shownAt.has(id)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const human = [...sentAt].flatMap(([id, at]) => (shownAt.has(id) ? [shownAt.get(id)! - at] : []));
    const sortedAck = Float64Array.from(ackMs).sort();
    const sortedHuman = Float64Array.from(human).sort();
    return {
      scenario: 'multiprocess',
      processes,
      contacts: opts.contacts,
      perSec: (opts.contacts - failed) / seconds,
      ackP50Ms: quantile(sortedAck, 0.5),
      ackP99Ms: quantile(sortedAck, 0.99),
      humanP50Ms: quantile(sortedHuman, 0.5),
      humanP99Ms: quantile(sortedHuman, 0.99),
      serverCpuMsPerContact: (cpu * 1000) / opts.contacts,
      failed,
    };
  } finally {
    await c.close();
  }
}

export async function runMultiprocessBench(argv: string[]): Promise<void> {
  let opts: Options;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const loadBefore = loadavg()[0]!;
  const rows: Row[] = [];
  for (const n of opts.processes) {
    log(`bench: multiprocess, ${n} process${n === 1 ? '' : 'es'}, ${opts.contacts} chat contacts …`);
    const row = await runOne(n, opts);
    rows.push(row);
    if (opts.json) console.log(JSON.stringify(row));
  }
  if (!opts.json) {
    console.log(
      `\nScale-out benchmark: ${opts.contacts} chat contacts, ${opts.concurrency} at a time, ${opts.agents} agents; ` +
        `node ${process.version}, ${cpus().length} CPUs, load average ${loadBefore.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end`,
    );
    const f = (v: number, d = 1) => v.toFixed(d).padStart(8);
    console.log(
      'processes  contacts/s  ack p50  ack p99  human p50  human p99  server cpu ms/contact  failed',
    );
    for (const r of rows) {
      console.log(
        `${String(r.processes).padStart(9)}  ${f(r.perSec).padStart(10)} ${f(r.ackP50Ms)} ${f(r.ackP99Ms)}  ${f(r.humanP50Ms).padStart(9)}  ${f(r.humanP99Ms).padStart(9)}  ${f(r.serverCpuMsPerContact, 2).padStart(21)}  ${String(r.failed).padStart(6)}`,
      );
    }
    console.log(
      'ack: message sent → ack; human: message sent → the agent console shows the conversation (ms).\n' +
        'The load generator shares the machine: with more processes than free cores, rows show contention, not scaling.',
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runMultiprocessBench(process.argv.slice(2));
  process.exit(0);
}
