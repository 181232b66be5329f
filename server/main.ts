// `npm start`: configuration from the environment, then the whole server in one process.
import type { Server as HttpServer } from 'node:http';
import { pino } from 'pino';
import { createSwitchboard } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createDemoAgents } from './demo.js';
import type { RedisMode } from './redis-mode.js';
import { listenWhileStarting, waitingBecause } from './starting.js';

/** Why the process cannot start: one line per environment variable to fix, never a stack trace. */
function cannotStartText(lines: string[]): string {
  return `Switchboard cannot start; fix these environment variables:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(cannotStartText(err.lines));
    process.exit(1);
  }
  throw err;
}

// Synchronous: a write still in flight when the process exits is lost (the last lines, such as "stopped").
const logger = pino(
  { level: config.logLevel, base: { service: 'switchboard' } },
  pino.destination({ dest: 1, sync: true }),
);
/**
 * Exit when `err` is a port this process cannot listen on (another program holds it, a second `npm start`
 * say, or this user may not open it), said in one line naming the variable, as for a bad environment, not as
 * a stack trace; `closing` first. Any other error is thrown again.
 */
async function cannotListen(err: unknown, closing?: () => Promise<unknown>): Promise<never> {
  const e = err as NodeJS.ErrnoException & { port?: number; hostname?: string };
  const portVariable = e.port === config.email?.smtpListenPort ? 'SMTP_LISTEN_PORT' : 'PORT';
  const host = config.host ?? e.hostname ?? '';
  const line =
    e.code === 'EADDRINUSE'
      ? `${portVariable}: ${e.port} is already in use (another Switchboard, or another program): stop it or choose a free port`
      : e.code === 'EACCES'
        ? `${portVariable}: ${e.port} may not be opened by this user (ports below 1024 need privileges): choose another`
        : e.code === 'EADDRNOTAVAIL'
          ? `HOST: ${host} is not an address of this machine: give one of its own (0.0.0.0 for all), or leave HOST unset`
          : e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' || e.code === 'EAI_NONAME'
            ? `HOST: ${host} is no address or host name this machine can find: give an address of its own (0.0.0.0 for all), or leave HOST unset`
            : null;
  if (!line) throw err;
  process.stderr.write(cannotStartText([line]));
  await closing?.().catch(() => {});
  process.exit(1);
}

// REDIS_URL: the Redis store, the event bus across processes, the socket.io adapter, the Slack console's
// state, who holds each live call and email's kept mail (waits for Redis).
let redis: RedisMode | null = null;
// With REDIS_URL, listening starts before Redis answers: health checks see a process that waits (starting.ts).
let server: HttpServer | undefined;
if (config.redisUrl) {
  const early = () => process.exit(0); // stopped while waiting for Redis: nothing started yet
  process.once('SIGTERM', early).once('SIGINT', early);
  server = await listenWhileStarting(config.port, config.host).catch((err: unknown) => cannotListen(err));
  logger.info({ prefix: config.redisPrefix }, 'connecting to Redis');
  const { startRedisMode } = await import('./redis-mode.js');
  try {
    redis = await startRedisMode({
      url: config.redisUrl,
      prefix: config.redisPrefix,
      log: logger,
      slack: config.slack !== null,
      voice: config.twilio !== null,
      emailMaxBytes: config.email?.storeMaxBytes ?? null,
      chatFilesMaxBytes: config.chatFiles?.storeMaxBytes ?? null,
      cluster: config.redisCluster,
      seeds: config.redisNodes,
      secrets: { tokenSecret: config.tokenSecret, adminToken: config.adminToken },
      // A Redis too old: /readyz says so while the process waits.
      waiting: (reason) => server && waitingBecause(server, reason),
    });
  } catch (err) {
    // REDIS_CLUSTER=on with a Redis that is no cluster node: said as a bad environment is.
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(cannotStartText(err.lines));
    process.exit(1);
  }
  process.off('SIGTERM', early).off('SIGINT', early);
}
const sb = createSwitchboard({
  config,
  logger,
  ...(server ? { server } : {}),
  ...(redis
    ? {
        store: redis.store,
        events: redis.events,
        ioAdapter: redis.ioAdapter,
        storeReady: redis.ready,
        storeNotReady: redis.notReady,
        ...(redis.slackState ? { slack: { state: redis.slackState } } : {}),
        ...(redis.callHolders ? { twilio: { holders: redis.callHolders } } : {}),
        ...(redis.emailContent ? { emailContent: redis.emailContent } : {}),
        ...(redis.chatFiles ? { chatFiles: redis.chatFiles } : {}),
      }
    : {}),
});

for (const line of config.off) logger.info(line);
// Signals are handled from the start, so a stop during start-up is clean too.
let stopping = false;
/** Stop cleanly; exit with `code` (1: to be started again, as after the cluster slot moved). */
const stop = (signal: string, code = 0) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: no new connections, finishing in-flight work');
  const force = setTimeout(() => {
    logger.error('shutdown took longer than 10 s; exiting');
    process.exit(1);
  }, 10_000);
  force.unref();
  sb.close()
    .then(() => redis?.close())
    .then(
      () => {
        logger.info('stopped');
        process.exit(code);
      },
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
// On a Redis Cluster: when the deployment's slot moves to another master, stop, to be started again there.
if (redis?.cluster) {
  const { SlotWatch, safeUrl } = await import('./redis-cluster.js');
  const { slot, url: from } = redis.cluster;
  new SlotWatch({
    seeds: config.redisNodes,
    key: redis.tagKey,
    owner: redis.cluster,
    onMoved: (to) => {
      logger.error(
        { slot, from: safeUrl(from), to: safeUrl(to) },
        "redis cluster: the deployment's slot moved to another master; stopping, to be started again (it then connects there)",
      );
      stop('redis cluster slot moved', 1);
    },
  });
}

const port = await sb.listen().catch((err: unknown) =>
  cannotListen(err, async () => {
    await sb.close();
    await redis?.close();
  }),
);
// Without PUBLIC_URL, this process's own address; with it, what customers reach (a load balancer, perhaps
// in front of several processes), which is not where this one listens.
const base = config.publicUrlGiven
  ? config.publicUrl
  : config.publicUrl.replace(`:${config.port}`, `:${port}`);
logger.info(
  { port, store: redis ? 'redis' : 'memory' },
  config.publicUrlGiven
    ? `Switchboard listening on port ${port}, reached at ${base}`
    : `Switchboard listening on ${base}`,
);
if (process.env.NODE_ENV === 'production' && !config.publicUrlGiven)
  logger.warn(
    `PUBLIC_URL is not set: links to files, consoles and webhooks are built on ${base}, which customers and ` +
      'Twilio cannot reach; set it to the address they reach (https://support.example.com)',
  );
/**
 * A line that is the only way in (a generated admin token, the demo agents' consoles): said at info, or, with
 * LOG_LEVEL above it, on stderr all the same; else nobody could reach the API or answer the demo's customers.
 */
const wayIn = (line: string): void => {
  if (logger.isLevelEnabled('info')) logger.info(line);
  else process.stderr.write(`${line}\n`);
};
if (config.adminTokenGenerated)
  wayIn(`admin API token (generated; set ADMIN_TOKEN to fix it): ${config.adminToken}`);
logger.info(`demo page with the chat widget: ${base}/`);
// The admin token rides in the fragment, which browsers never send: it stays out of access logs and referrers.
if (config.adminTokenGenerated) wayIn(`the team's live view: ${base}/team#token=${config.adminToken}`);
else logger.info(`the team's live view (sign in with ADMIN_TOKEN): ${base}/team`);
if (config.demoAgents && (await sb.store.listAgents()).length === 0) {
  const demo = await createDemoAgents(sb.router, sb.tokens);
  for (const { agent, token } of demo)
    wayIn(`console for demo agent ${agent.name}: ${base}/console?token=${token}`);
  logger.warn(
    `the demo agents ${demo.map((d) => d.agent.name).join(' and ')} take customers while their console is open: ` +
      'set DEMO_AGENTS=off (or ADMIN_TOKEN) before real customers come in',
  );
}
