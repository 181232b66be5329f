// HTTP benchmark: signed incoming-SMS webhooks at a fixed rate against a running
// server. Starts `server/main.ts` in its own process (memory store, Twilio on, two
// demo agents), waits for /healthz, then drives POST /twilio/sms with autocannon
// at a fixed overall rate. Every request is a new message (fresh MessageSid) from
// one of a pool of customers, signed over PUBLIC_URL + path with the twilio package,
// exactly as Twilio signs it. Reports response-time percentiles; target p99 ≤ 20 ms
// at 500 requests/s.
//
//   npm run bench -- --twilio [--rate 500] [--duration 10] [--warmup 3] [--connections 20]
//                              [--customers 5000] [--json]
//   (or: npx tsx bench/twilio-sms.ts …)
//
// A baseline run of GET /healthz at the same rate follows, so that a busy machine
// shows as such rather than as webhook cost.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import twilio from 'twilio';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'bench-auth-token-0123456789abcdef';
/** What Twilio would sign: deliberately not the address the server listens on. */
const PUBLIC_URL = 'https://bench.switchboard.example';
const OUR_NUMBER = '+14155550100';
const TARGET_P99_MS = 20;

interface Options {
  rate: number;
  duration: number;
  warmup: number;
  connections: number;
  customers: number;
  json: boolean;
}

const USAGE =
  'usage: npm run bench -- --twilio [--rate 500] [--duration 10] [--warmup 3] [--connections 20] [--customers 5000] [--json]';

function parseArgs(argv: string[]): Options {
  const opts: Options = { rate: 500, duration: 10, warmup: 3, connections: 20, customers: 5000, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? (arg.split('=', 2) as [string, string]) : [arg, undefined];
    const int = (): number => {
      const raw = inline ?? argv[++i];
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${flag}: "${raw}" is not a whole number\n${USAGE}`);
      return n;
    };
    switch (flag) {
      case '--twilio':
        break;
      case '--rate':
        opts.rate = int();
        break;
      case '--duration':
        opts.duration = int();
        break;
      case '--warmup':
        opts.warmup = int();
        break;
      case '--connections':
        opts.connections = int();
        break;
      case '--customers':
        opts.customers = int();
        break;
      case '--json':
        opts.json = true;
        break;
      default:
        throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  if (opts.rate < 1 || opts.duration < 1 || opts.connections < 1 || opts.customers < 1)
    throw new Error(`--rate, --duration, --connections and --customers must be at least 1\n${USAGE}`);
  return opts;
}

/** CPU milliseconds a process has used (Linux /proc), or null elsewhere. */
function cpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function startServer(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'server/main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL,
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_FROM_NUMBER: OUR_NUMBER,
      LOG_LEVEL: 'warn',
      DEMO_AGENTS: 'on',
      ADMIN_TOKEN: 'bench-admin-token-0123456789',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${stderr}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not answer /healthz within 30 s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** A body and signature per request: a new MessageSid each time, customers drawn from a pool. */
function requestFactory(customers: number): () => { body: string; signature: string } {
  let n = 0;
  const url = `${PUBLIC_URL}/twilio/sms`;
  return () => {
    n++;
    const sid = `SM${randomBytes(16).toString('hex')}`;
    const from = `+1415${String(5_000_000 + (n % customers)).padStart(7, '0')}`;
    const params: Record<string, string> = {
      AccountSid: ACCOUNT_SID,
      ApiVersion: '2010-04-01',
      Body: `bench message ${n}`,
      From: from,
      FromCountry: 'US',
      MessageSid: sid,
      NumMedia: '0',
      NumSegments: '1',
      SmsMessageSid: sid,
      SmsSid: sid,
      SmsStatus: 'received',
      To: OUR_NUMBER,
      ToCountry: 'US',
    };
    return {
      body: new URLSearchParams(params).toString(),
      signature: twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params),
    };
  };
}

function drive(
  port: number,
  seconds: number,
  opts: Options,
  next: () => { body: string; signature: string },
) {
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: opts.connections,
    overallRate: opts.rate,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/twilio/sms',
        setupRequest: (req) => {
          const { body, signature } = next();
          return {
            ...req,
            body,
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              'x-twilio-signature': signature,
            },
          };
        },
      },
    ],
  });
}

export async function runTwilioSmsBench(argv: string[]): Promise<void> {
  let opts: Options;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const port = await freePort();
  process.stderr.write(`bench: starting the server on 127.0.0.1:${port} …\n`);
  const server = await startServer(port);
  try {
    const next = requestFactory(opts.customers);
    if (opts.warmup > 0) {
      process.stderr.write(`bench: warm-up ${opts.warmup} s at ${opts.rate} req/s …\n`);
      await drive(port, opts.warmup, opts, next);
    }
    process.stderr.write(`bench: measuring ${opts.duration} s at ${opts.rate} req/s …\n`);
    const cpuBefore = cpuMs(server.pid);
    const r = await drive(port, opts.duration, opts, next);
    const cpuAfter = cpuMs(server.pid);
    // The same load on GET /healthz: what this machine and HTTP stack cost without any webhook work.
    process.stderr.write(`bench: baseline GET /healthz ${opts.duration} s at ${opts.rate} req/s …\n`);
    const base = await autocannon({
      url: `http://127.0.0.1:${port}/healthz`,
      connections: opts.connections,
      overallRate: opts.rate,
      duration: opts.duration,
    });
    const result = {
      scenario: 'twilio-sms-webhook',
      rate: opts.rate,
      seconds: opts.duration,
      connections: opts.connections,
      requests: r.requests.total,
      achievedRate: Math.round(r.requests.total / opts.duration),
      p50Ms: r.latency.p50,
      p90Ms: r.latency.p90,
      p99Ms: r.latency.p99,
      maxMs: r.latency.max,
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
      serverCpuMsPerRequest:
        cpuBefore !== null && cpuAfter !== null && r.requests.total > 0
          ? Number(((cpuAfter - cpuBefore) / r.requests.total).toFixed(3))
          : null,
      baselineP50Ms: base.latency.p50,
      baselineP99Ms: base.latency.p99,
    };
    if (opts.json) {
      console.log(JSON.stringify(result));
    } else {
      console.log(
        `\nTwilio SMS webhook (signed POST /twilio/sms, new message each, ${opts.customers} customers, memory store)`,
      );
      console.log(
        `  ${result.requests} requests in ${opts.duration} s at ${opts.rate} req/s target (${result.achievedRate} req/s achieved), ${opts.connections} connections`,
      );
      console.log(
        `  response time p50 ${result.p50Ms} ms, p90 ${result.p90Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms`,
      );
      console.log(`  non-2xx ${result.non2xx}, errors ${result.errors}`);
      if (result.serverCpuMsPerRequest !== null)
        console.log(`  server CPU per request: ${result.serverCpuMsPerRequest} ms`);
      console.log(
        `  baseline GET /healthz at the same rate: p50 ${result.baselineP50Ms} ms, p99 ${result.baselineP99Ms} ms (machine and HTTP stack alone)`,
      );
      const ok = result.p99Ms <= TARGET_P99_MS && result.non2xx === 0 && result.errors === 0;
      console.log(`  target p99 ≤ ${TARGET_P99_MS} ms with every request answered: ${ok ? 'ok' : 'MISSED'}`);
    }
  } finally {
    await stopServer(server);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runTwilioSmsBench(process.argv.slice(2));
}
