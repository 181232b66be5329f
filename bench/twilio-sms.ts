// HTTP benchmark: signed incoming-SMS webhooks at a fixed rate against a running
// server. Starts `server/main.ts` in its own process (memory store, Twilio on, two
// demo agents), waits for /healthz, then drives POST /twilio/sms at a fixed rate
// with an open-loop paced generator. Every request is a new message (fresh
// MessageSid) from one of a pool of customers, signed over PUBLIC_URL + path with
// the twilio package, exactly as Twilio signs it. Target: p99 ≤ 20 ms at 500
// requests/s.
//
//   npm run bench -- --twilio [--rate 500] [--duration 10] [--warmup 3] [--runs 3]
//                              [--connections 64] [--customers 5000] [--profile DIR] [--json]
//   (or: npx tsx bench/twilio-sms.ts …)
//
// Each run is the webhook load, then GET /healthz at the same rate: the baseline
// shows what this machine and the HTTP stack cost without any webhook work, so a
// busy machine shows as such. Figures are medians across runs; the load average is
// printed with each run.
//
// The generator is open-loop: request i is due at start + i / rate whatever happened
// to the requests before it, and its response time is measured from that scheduled
// time, not from when it was actually written, so a stalled generator or server
// cannot hide queueing (no coordinated omission). Requests go out over a keep-alive
// pool of up to `--connections` sockets, so one slow response does not hold back
// the ones after it. Bodies and signatures are prepared before the clock starts.
// The generator runs in this process, whose event loop does nothing else meanwhile;
// how late it sends (timer granularity, a busy machine) is reported, and is part
// of the response times, never subtracted.
//
// autocannon (which this bench used before) is not fit for this: its `overallRate`
// gives each connection a budget per second that the connection spends back to
// back as fast as responses come, then idles until the next second, so "500/s"
// arrives as bursts of thousands per second in the first 100-300 ms of each second
// and measures queueing behind its own burst; and its coordinated-omission
// correction uses an expected interval of ceil(1 / per-connection rate) = 1 ms,
// adding a made-up sample for every millisecond of each response (over 5 samples
// per real request at 20 connections).
//
// Customers are taken in turn, so a customer's first message (a new customer,
// conversation and a TwiML acknowledgement) comes until the pool is used up, repeat
// texters after that; each run says how many first messages it had.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import twilio from 'twilio';
import { SERVER_NODE_FLAGS } from '../server/runtime.js';
import { median, quantile } from './stats.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'bench-auth-token-0123456789abcdef';
/** What Twilio would sign: deliberately not the address the server listens on. */
const PUBLIC_URL = 'https://bench.switchboard.example';
const OUR_NUMBER = '+14155550100';
const TARGET_P99_MS = 20;
/** A request still unanswered after this long counts as an error. */
const REQUEST_TIMEOUT_MS = 10_000;

interface Options {
  rate: number;
  duration: number;
  warmup: number;
  runs: number;
  connections: number;
  customers: number;
  profile: string | null;
  json: boolean;
}

const USAGE =
  'usage: npm run bench -- --twilio [--rate 500] [--duration 10] [--warmup 3] [--runs 3] [--connections 64] [--customers 5000] [--profile DIR] [--json]';

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    rate: 500,
    duration: 10,
    warmup: 3,
    runs: 3,
    connections: 64,
    customers: 5000,
    profile: null,
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? (arg.split('=', 2) as [string, string]) : [arg, undefined];
    const value = (): string => {
      const raw = inline ?? argv[++i];
      if (raw === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return raw;
    };
    const int = (): number => {
      const raw = value();
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
      case '--runs':
        opts.runs = int();
        break;
      case '--connections':
        opts.connections = int();
        break;
      case '--customers':
        opts.customers = int();
        break;
      case '--profile':
        opts.profile = resolve(value());
        break;
      case '--json':
        opts.json = true;
        break;
      default:
        throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  if (opts.rate < 1 || opts.duration < 1 || opts.runs < 1 || opts.connections < 1 || opts.customers < 1)
    throw new Error(`--rate, --duration, --runs, --connections and --customers must be at least 1\n${USAGE}`);
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

interface Server {
  child: ChildProcess;
  /** Lines the server has logged on stdout so far (it logs at the default level, info). */
  logLines(): number;
}

async function startServer(port: number, profileDir: string | null): Promise<Server> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_FROM_NUMBER: OUR_NUMBER,
    LOG_LEVEL: 'info', // the default: whatever a deployment logs per request is paid here too
    DEMO_AGENTS: 'on',
    ADMIN_TOKEN: 'bench-admin-token-0123456789',
  };
  delete env.REDIS_URL; // the embedded memory store, whatever the shell has
  const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const child = spawn(
    process.execPath,
    [...profile, ...SERVER_NODE_FLAGS, '--import', 'tsx', join(ROOT, 'server/main.ts')],
    {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let lines = 0;
  child.stdout?.on('data', (chunk: Buffer) => {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
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
      if (res.ok) return { child, logLines: () => lines };
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

export interface Req {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string | number>;
  body?: Buffer;
}

/** `count` signed webhooks: a new MessageSid each, customers drawn in turn from a pool. */
function smsRequests(count: number, customers: number, first: number): Req[] {
  const url = `${PUBLIC_URL}/twilio/sms`;
  const out: Req[] = [];
  for (let k = 0; k < count; k++) {
    const n = first + k;
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
    const body = Buffer.from(new URLSearchParams(params).toString());
    out.push({
      method: 'POST',
      path: '/twilio/sms',
      body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': body.length,
        'x-twilio-signature': twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params),
      },
    });
  }
  return out;
}

const HEALTHZ: Req = { method: 'GET', path: '/healthz', headers: {} };

export interface Phase {
  scheduled: number;
  /** Responses received (any status). */
  completed: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  /** Requests sent over the time between the first and the last scheduled send. */
  achievedRate: number;
  /** Response time from the scheduled send to the last byte of the response, ms. */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** How late the generator wrote requests after their scheduled time, ms. */
  sendLagP50Ms: number;
  sendLagP99Ms: number;
  /** Most sockets open at once. */
  socketsUsed: number;
  /** 1-minute load average before and after. */
  loadBefore: number;
  loadAfter: number;
}

/**
 * Open loop: request i is written at t0 + i·(1000/rate) ms whatever the responses to earlier ones
 * are doing; its response time counts from that scheduled instant. `pick(i)` gives request i.
 */
export function paced(
  agent: Agent,
  port: number,
  rate: number,
  seconds: number,
  pick: (i: number) => Req,
): Promise<Phase> {
  const total = rate * seconds;
  const interval = 1000 / rate;
  const latency = new Float64Array(total);
  const lag = new Float64Array(total);
  let completed = 0;
  let non2xx = 0;
  let errors = 0;
  let settled = 0;
  let sent = 0;
  let firstSend = 0;
  let lastSend = 0;
  const sockets = new Set<unknown>();
  const loadBefore = loadavg()[0]!;
  return new Promise((done) => {
    const finish = () => {
      const sorted = latency.slice(0, completed).sort();
      const lags = lag.slice(0, sent).sort();
      done({
        scheduled: total,
        completed,
        non2xx,
        errors,
        achievedRate: sent > 1 ? Math.round(((sent - 1) * 1000) / (lastSend - firstSend)) : sent,
        p50Ms: quantile(sorted, 0.5),
        p90Ms: quantile(sorted, 0.9),
        p99Ms: quantile(sorted, 0.99),
        maxMs: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
        sendLagP50Ms: quantile(lags, 0.5),
        sendLagP99Ms: quantile(lags, 0.99),
        socketsUsed: sockets.size,
        loadBefore,
        loadAfter: loadavg()[0]!,
      });
    };
    const settle = () => {
      if (++settled === total) finish();
    };
    const fire = (i: number, due: number) => {
      const r = pick(i);
      let answered = false;
      const req = request(
        { agent, host: '127.0.0.1', port, method: r.method, path: r.path, headers: r.headers },
        (res) => {
          const status = res.statusCode ?? 0;
          res.on('data', () => {});
          res.on('end', () => {
            if (answered) return;
            answered = true;
            latency[completed++] = performance.now() - due;
            if (status < 200 || status > 299) non2xx++;
            settle();
          });
        },
      );
      req.on('socket', (s) => {
        if (!sockets.has(s)) {
          sockets.add(s);
          s.setNoDelay(true);
        }
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('timed out')));
      req.on('error', () => {
        if (answered) return;
        answered = true;
        errors++;
        settle();
      });
      req.end(r.body);
      const now = performance.now();
      lag[sent++] = now - due;
      if (i === 0) firstSend = now;
      lastSend = now;
    };
    const t0 = performance.now() + 5;
    let i = 0;
    const tick = () => {
      // Everything due by now goes out now (a late timer sends its backlog at once, still timed from schedule).
      while (i < total && t0 + i * interval <= performance.now()) {
        fire(i, t0 + i * interval);
        i++;
      }
      if (i < total) setTimeout(tick, Math.max(0, t0 + i * interval - performance.now()));
    };
    setTimeout(tick, 5);
  });
}

interface Run {
  loadBefore: number;
  loadAfter: number;
  sms: Phase;
  /** Requests that were a customer's first message. */
  firstMessages: number;
  serverCpuMsPerRequest: number | null;
  healthz: Phase;
  healthzServerCpuMsPerRequest: number | null;
  /** Lines the server logged during the webhook load. */
  logLines: number;
  /** This process's CPU per webhook request (the generator), ms. */
  generatorCpuMsPerRequest: number;
}

const round = (n: number, digits = 2): number => Number(n.toFixed(digits));

export async function runTwilioSmsBench(argv: string[]): Promise<void> {
  let opts: Options;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const say = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const port = await freePort();
  say(`starting the server on 127.0.0.1:${port} …`);
  const server = await startServer(port, opts.profile);
  const agent = new Agent({
    keepAlive: true,
    maxSockets: opts.connections,
    maxFreeSockets: opts.connections,
  });
  const perRun = opts.rate * opts.duration;
  say(`signing ${opts.rate * opts.warmup + perRun * opts.runs} webhooks …`);
  const warm = smsRequests(opts.rate * opts.warmup, opts.customers, 0);
  const batches = Array.from({ length: opts.runs }, (_, k) =>
    smsRequests(perRun, opts.customers, warm.length + k * perRun),
  );
  const runs: Run[] = [];
  try {
    if (opts.warmup > 0) {
      say(`warm-up ${opts.warmup} s at ${opts.rate} req/s (webhooks, then /healthz) …`);
      await paced(agent, port, opts.rate, opts.warmup, (i) => warm[i]!);
      await paced(agent, port, opts.rate, 1, () => HEALTHZ);
    }
    for (let k = 0; k < opts.runs; k++) {
      const loadBefore = loadavg()[0]!;
      say(
        `run ${k + 1}/${opts.runs}: webhooks ${opts.duration} s at ${opts.rate} req/s (load ${loadBefore.toFixed(2)}) …`,
      );
      const batch = batches[k]!;
      const c0 = cpuMs(server.child.pid);
      const l0 = server.logLines();
      const g0 = process.cpuUsage();
      const sms = await paced(agent, port, opts.rate, opts.duration, (i) => batch[i]!);
      const g1 = process.cpuUsage(g0);
      const c1 = cpuMs(server.child.pid);
      const logLines = server.logLines() - l0;
      say(`run ${k + 1}/${opts.runs}: GET /healthz ${opts.duration} s at ${opts.rate} req/s …`);
      const healthz = await paced(agent, port, opts.rate, opts.duration, () => HEALTHZ);
      const c2 = cpuMs(server.child.pid);
      const perReq = (a: number | null, b: number | null, n: number) =>
        a !== null && b !== null && n > 0 ? round((b - a) / n, 3) : null;
      runs.push({
        loadBefore,
        loadAfter: loadavg()[0]!,
        sms,
        serverCpuMsPerRequest: perReq(c0, c1, sms.completed),
        healthz,
        healthzServerCpuMsPerRequest: perReq(c1, c2, healthz.completed),
        logLines,
        firstMessages: Math.max(0, Math.min(perRun, opts.customers - (warm.length + k * perRun))),
        generatorCpuMsPerRequest: round((g1.user + g1.system) / 1000 / sms.scheduled, 3),
      });
    }
  } finally {
    agent.destroy();
    await stopServer(server.child);
  }

  const med = (f: (r: Run) => number | null): number | null => {
    const xs = runs.map(f).filter((x): x is number => x !== null && Number.isFinite(x));
    return xs.length ? round(median(xs), 3) : null;
  };
  const sum = (f: (r: Run) => number) => runs.reduce((s, r) => s + f(r), 0);
  const result = {
    scenario: 'twilio-sms-webhook',
    generator: 'open-loop, paced, latency from scheduled send',
    rate: opts.rate,
    seconds: opts.duration,
    runs: opts.runs,
    connections: opts.connections,
    cpus: cpus().length,
    requests: sum((r) => r.sms.completed),
    achievedRate: med((r) => r.sms.achievedRate),
    p50Ms: med((r) => r.sms.p50Ms),
    p90Ms: med((r) => r.sms.p90Ms),
    p99Ms: med((r) => r.sms.p99Ms),
    maxMs: round(Math.max(...runs.map((r) => r.sms.maxMs)), 3),
    non2xx: sum((r) => r.sms.non2xx),
    errors: sum((r) => r.sms.errors),
    serverCpuMsPerRequest: med((r) => r.serverCpuMsPerRequest),
    generatorLagP50Ms: med((r) => r.sms.sendLagP50Ms),
    generatorLagP99Ms: med((r) => r.sms.sendLagP99Ms),
    generatorCpuMsPerRequest: med((r) => r.generatorCpuMsPerRequest),
    serverLogLines: sum((r) => r.logLines),
    loadAverage: med((r) => r.loadBefore),
    baselineP50Ms: med((r) => r.healthz.p50Ms),
    baselineP99Ms: med((r) => r.healthz.p99Ms),
    baselineServerCpuMsPerRequest: med((r) => r.healthzServerCpuMsPerRequest),
    targetP99Ms: TARGET_P99_MS,
    targetMet: false,
    perRun: runs.map((r) => ({
      loadBefore: round(r.loadBefore),
      loadAfter: round(r.loadAfter),
      p50Ms: round(r.sms.p50Ms, 3),
      p90Ms: round(r.sms.p90Ms, 3),
      p99Ms: round(r.sms.p99Ms, 3),
      maxMs: round(r.sms.maxMs, 3),
      achievedRate: r.sms.achievedRate,
      non2xx: r.sms.non2xx,
      errors: r.sms.errors,
      sendLagP50Ms: round(r.sms.sendLagP50Ms, 3),
      sendLagP99Ms: round(r.sms.sendLagP99Ms, 3),
      socketsUsed: r.sms.socketsUsed,
      serverCpuMsPerRequest: r.serverCpuMsPerRequest,
      serverLogLines: r.logLines,
      firstMessages: r.firstMessages,
      generatorCpuMsPerRequest: r.generatorCpuMsPerRequest,
      baselineP50Ms: round(r.healthz.p50Ms, 3),
      baselineP99Ms: round(r.healthz.p99Ms, 3),
      baselineErrors: r.healthz.errors + r.healthz.non2xx,
    })),
  };
  result.targetMet =
    result.p99Ms !== null &&
    result.p99Ms <= TARGET_P99_MS &&
    result.non2xx === 0 &&
    result.errors === 0 &&
    result.requests === perRun * opts.runs;
  if (opts.json) {
    console.log(JSON.stringify(result));
    return;
  }
  const ms = (n: number | null) => (n === null ? 'n/a' : `${n.toFixed(n < 10 ? 2 : 1)} ms`);
  console.log(
    `\nTwilio SMS webhook (signed POST /twilio/sms, new message each, ${opts.customers} customers, memory store)`,
  );
  console.log(
    `  open-loop generator: one request every ${(1000 / opts.rate).toFixed(2)} ms (${opts.rate} req/s), response time from the scheduled send; up to ${opts.connections} keep-alive sockets; ${cpus().length} CPUs`,
  );
  for (const [k, r] of runs.entries()) {
    console.log(
      `  run ${k + 1} (load ${r.loadBefore.toFixed(2)}→${r.loadAfter.toFixed(2)}): ${r.sms.completed}/${r.sms.scheduled} answered, ${r.sms.achievedRate} req/s sent; p50 ${ms(r.sms.p50Ms)}, p90 ${ms(r.sms.p90Ms)}, p99 ${ms(r.sms.p99Ms)}, max ${ms(r.sms.maxMs)}; non-2xx ${r.sms.non2xx}, errors ${r.sms.errors}; ${r.firstMessages} first messages`,
    );
    console.log(
      `         server CPU ${r.serverCpuMsPerRequest ?? 'n/a'} ms/request, ${r.logLines} log lines; generator late p50 ${ms(r.sms.sendLagP50Ms)}, p99 ${ms(r.sms.sendLagP99Ms)}, ${r.sms.socketsUsed} sockets; GET /healthz p50 ${ms(r.healthz.p50Ms)}, p99 ${ms(r.healthz.p99Ms)}`,
    );
  }
  console.log(
    `  medians over ${opts.runs} run${opts.runs === 1 ? '' : 's'} (load average ${result.loadAverage?.toFixed(2)} on ${cpus().length} CPUs):`,
  );
  console.log(
    `    response time p50 ${ms(result.p50Ms)}, p90 ${ms(result.p90Ms)}, p99 ${ms(result.p99Ms)} (max of all ${ms(result.maxMs)}); ${result.achievedRate} req/s sent`,
  );
  console.log(
    `    non-2xx ${result.non2xx}, errors ${result.errors}, server log lines ${result.serverLogLines} (all runs)`,
  );
  if (result.serverCpuMsPerRequest !== null)
    console.log(
      `    server CPU per request: ${result.serverCpuMsPerRequest} ms (GET /healthz: ${result.baselineServerCpuMsPerRequest} ms)`,
    );
  console.log(
    `    baseline GET /healthz at the same rate: p50 ${ms(result.baselineP50Ms)}, p99 ${ms(result.baselineP99Ms)} (machine and HTTP stack alone)`,
  );
  console.log(
    `    generator: sends late by p50 ${ms(result.generatorLagP50Ms)}, p99 ${ms(result.generatorLagP99Ms)} (counted in the response times); ${result.generatorCpuMsPerRequest} ms CPU/request`,
  );
  console.log(
    `  target p99 ≤ ${TARGET_P99_MS} ms with every request answered: ${result.targetMet ? 'ok' : 'MISSED'}`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runTwilioSmsBench(process.argv.slice(2));
}
