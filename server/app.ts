// The composition root: store, router, express app, socket.io and channels on
// one HTTP server. `createSwitchboard` builds it; `main.ts` runs it.
import { readFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { Server as IoServer, type ServerOptions as IoServerOptions } from 'socket.io';
import { setAckLogger } from '../channels/ack.js';
import { AttachmentLinks } from '../channels/attachments.js';
import { ChatFiles } from '../channels/chat/files.js';
import { ChatChannel, WIDGET_CONFIG_MARK, widgetConfig } from '../channels/chat/namespace.js';
import { type ContentStore, MemoryContentStore } from '../channels/content.js';
import { EmailChannel } from '../channels/email/channel.js';
import { OriginalLinks } from '../channels/email/original.js';
import { SlackConsole, type SlackConsoleOverrides } from '../channels/slack/console.js';
import { createTwilioChannels, type TwilioChannels, type TwilioHooks } from '../channels/twilio/index.js';
import { consoleAgent, WebConsole } from '../channels/web/namespace.js';
import { RETENTION_SWEEP_MS, Router } from '../routing/router.js';
import { MemoryStore } from '../routing/store/memory.js';
import type { Store } from '../routing/store/store.js';
import { type Clock, systemClock, withTimeout } from '../shared/clock.js';
import { SwitchboardError } from '../shared/errors.js';
import { type EventBus, LocalEventBus } from '../shared/events.js';
import type { Channel } from '../shared/model.js';
import { TokenSigner } from '../shared/tokens.js';
import { adminApi } from './api.js';
import type { Config } from './config.js';
import { FiguresCache } from './figures.js';
import { LiveCache } from './live.js';
import { createMetrics, type Metrics } from './metrics.js';
import { rightsRoute } from './rights.js';
import { handOver } from './starting.js';
import { storeGate } from './store-gate.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asset = (path: string) => readFileSync(join(root, path), 'utf8');

export interface SwitchboardOptions {
  config: Config;
  logger: Logger;
  store?: Store;
  clock?: Clock;
  events?: EventBus;
  /** Visitor rate limit override (tests). */
  chatRateLimit?: { burst: number; perSecond: number };
  /** Twilio hooks (tests, bench): an HTTP client pointed at a stand-in; who holds each live call. */
  twilio?: TwilioHooks;
  /** Where email keeps raw messages and attachments (Redis mode: shared by every process); default memory. */
  emailContent?: ContentStore;
  /** Where the files sent in conversations are kept (Redis mode: shared by every process); default memory. */
  chatFiles?: ContentStore;
  /**
   * Slack console overrides: the Web API stand-in's URL, message pacing, the outbox's wait (tests); the
   * state (Redis mode: the Redis one, shared by every process; default this process's memory).
   */
  slack?: SlackConsoleOverrides;
  /** socket.io adapter (Redis mode: rooms and broadcasts across processes). */
  ioAdapter?: IoServerOptions['adapter'];
  /** Whether the store's backing service is reachable right now (Redis mode); off → 503 at once. */
  storeReady?: () => boolean;
  /** Why the store is not ready, when it is more than unreachable (a Redis too old); `/readyz` says it. */
  storeNotReady?: () => string | null;
  /**
   * An HTTP server already listening (main.ts answers health checks on it while it waits for Redis,
   * starting.ts): the app takes it over at once, and `listen` keeps its port.
   */
  server?: HttpServer;
  /** The web console's periodic runs (tests: long, so that only the test's own calls run them). */
  web?: { catchUpMs?: number; queueMs?: number };
}

export interface Switchboard {
  app: express.Express;
  http: HttpServer;
  io: IoServer;
  router: Router;
  store: Store;
  tokens: TokenSigner;
  metrics: Metrics;
  /** Voice and SMS through Twilio; null when Twilio is off. */
  twilio: TwilioChannels | null;
  /** The email channel; null when email is off. */
  email: EmailChannel | null;
  /** The Slack agent console; null when Slack is off. */
  slack: SlackConsole | null;
  /** The built-in web agent console (socket.io namespace `/agent`). */
  web: WebConsole;
  /** Files sent in conversations (POST /chat/files); null when off (CHAT_FILE_MAX_BYTES=0). */
  files: ChatFiles | null;
  /** Listen (a server handed over listens already); resolves with the bound port. */
  listen(port?: number, host?: string): Promise<number>;
  /** Stop accepting, finish in-flight work, close the store. */
  close(): Promise<void>;
}

export function createSwitchboard(options: SwitchboardOptions): Switchboard {
  const { config, logger } = options;
  const store = options.store ?? new MemoryStore();
  const clock = options.clock ?? systemClock;
  const events =
    options.events ??
    new LocalEventBus((err, event) => logger.error({ err, event: event.type }, 'event listener failed'));
  const router = new Router({ store, clock, events, policy: config.policy });
  const tokens = new TokenSigner(config.tokenSecret);
  const metrics = createMetrics(events, store);
  setAckLogger(logger);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);

  // Request durations by route template (never by id).
  app.use((req: Request, res: Response, next: NextFunction) => {
    const end = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : req.baseUrl || 'unmatched';
      end({ method: req.method, route: String(route), status: String(res.statusCode) });
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    // The reason is ours to word: a driver's error names hosts and ports, which the health check's caller does
    // not need (the Redis client logs them); our own errors say what they tell any client (`toJSON`).
    let error: string | null = null;
    if (options.storeReady && !options.storeReady())
      error = options.storeNotReady?.() ?? 'Redis is unreachable';
    else
      await withTimeout(store.ping(), 1000).catch((err: unknown) => {
        error = err instanceof SwitchboardError ? err.toJSON().message : 'the store does not answer';
      });
    if (error) res.status(503).json({ status: 'unavailable', error });
    else res.json({ status: 'ready' });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  const figures = new FiguresCache(
    store,
    () => router.clock.now(),
    undefined,
    config.policy.retentionDays,
    config.policy.hours,
  );
  app.get(
    '/rights',
    rightsRoute(router, figures, {
      holdMusicUrl: config.twilio?.holdMusicUrl ?? null,
      emailOut: config.email !== null,
    }),
  );

  // In the policy's language from its first view, before it connects (the launcher's name, say).
  const widgetSource = asset('channels/chat/widget.js');
  if (!widgetSource.includes(WIDGET_CONFIG_MARK))
    throw new Error(
      `channels/chat/widget.js: no ${WIDGET_CONFIG_MARK} to fill the policy's widget texts into`,
    );
  const widget = widgetSource.replace(WIDGET_CONFIG_MARK, () => JSON.stringify(widgetConfig(config.policy)));
  const demo = asset('channels/chat/demo.html');
  const consoleHtml = asset('channels/web/console.html');
  const consoleJs = asset('channels/web/console.js');
  const teamHtml = asset('channels/web/team.html');
  const teamJs = asset('channels/web/team.js');
  const consoleCss = asset('channels/web/console.css');
  const staticHeaders = (res: Response, type: string) => {
    res.type(type);
    res.set('Cache-Control', 'no-cache');
    res.set('X-Content-Type-Options', 'nosniff');
  };
  app.get('/', (_req, res) => {
    staticHeaders(res, 'html');
    res.send(demo);
  });
  app.get('/widget.js', (_req, res) => {
    staticHeaders(res, 'application/javascript');
    res.set('Access-Control-Allow-Origin', '*');
    res.send(widget);
  });
  // A page people act in (the console, the team view): no referrer leaves it, and no other site may frame it
  // (clickjacking; older browsers read X-Frame-Options).
  const actingPage = (res: Response, html: string) => {
    staticHeaders(res, 'html');
    res.set('Referrer-Policy', 'no-referrer');
    res.set('Content-Security-Policy', "frame-ancestors 'none'");
    res.set('X-Frame-Options', 'DENY');
    res.send(html);
  };
  // Its files are linked relative to it (so that it works under a path, PUBLIC_URL https://example.com/help): asked
  // for with a trailing slash, it is sent to its own address, with the query (a console's token) kept.
  const page = (name: string, html: string) => (req: Request, res: Response) => {
    if (req.path.endsWith('/')) {
      const query = req.originalUrl.indexOf('?');
      res.redirect(301, `../${name}${query >= 0 ? req.originalUrl.slice(query) : ''}`);
      return;
    }
    actingPage(res, html);
  };
  app.get('/console', page('console', consoleHtml));
  app.get('/console/console.js', (_req, res) => {
    staticHeaders(res, 'application/javascript');
    res.send(consoleJs);
  });
  app.get('/console/console.css', (_req, res) => {
    staticHeaders(res, 'text/css');
    res.send(consoleCss);
  });
  // The team's live view: the admin token is typed in the page or given in its #fragment, never sent in a URL.
  app.get('/team', page('team', teamHtml));
  app.get('/team/team.js', (_req, res) => {
    staticHeaders(res, 'application/javascript');
    res.send(teamJs);
  });

  // Requests that need the store answer 503 at once while it is unreachable (webhook senders retry).
  if (options.storeReady)
    app.use(['/api', '/twilio', '/slack', '/email', '/chat'], storeGate(options.storeReady));
  // The channels this deployment takes, as the live view shows them: chat always; calls and texts with Twilio.
  const channelsOn = new Set<Channel>([
    'chat',
    ...(config.twilio ? (['voice', 'sms'] as const) : []),
    ...(config.email ? (['email'] as const) : []),
  ]);
  const live = new LiveCache(router, figures, channelsOn);
  // Links to inbound mail as received ("Show original"), signed with TOKEN_SECRET, expiring: on each inbound email
  // message the consoles and the API show, served under /email/original.
  const originals = config.email
    ? new OriginalLinks(tokens, config.publicUrl, () => router.clock.now())
    : null;
  app.use(
    '/api',
    adminApi({
      router,
      tokens,
      adminToken: config.adminToken,
      figures,
      live,
      ...(originals ? { originals } : {}),
    }),
  );
  // An erased customer's files and mail, kept beside the store (the channels are set up below).
  const undoForgetFiles = router.onForgetFiles(
    async (messages) =>
      (chatFiles ? await chatFiles.forget(messages.flatMap((m) => m.attachments)) : 0) +
      (email ? await email.forget(messages) : 0),
  );

  // Files sent in conversations, by visitors and agents: uploaded to /chat/files, served from there by signed
  // links (channels/chat/files.ts), sent on by the channels that carry them.
  const chatFiles = config.chatFiles
    ? new ChatFiles({
        content: options.chatFiles ?? new MemoryContentStore(config.chatFiles.storeMaxBytes),
        tokens,
        publicUrl: config.publicUrl,
        maxBytes: config.chatFiles.maxBytes,
        visitorTexts: {
          locale: config.policy.locale,
          fileTooLarge: config.policy.widgetTexts.fileTooLarge,
          tooManyFiles: config.policy.widgetTexts.tooManyFiles,
        },
        log: logger,
        agentOf: async (token) => (await consoleAgent(tokens, store, token))?.agentId ?? null,
        visitorBlocked: (visitorId) => router.isBlocked('chat', visitorId),
      })
    : null;
  if (chatFiles) app.use('/chat', chatFiles.routes());

  // Twilio voice and SMS: signed webhooks under /twilio (their own urlencoded parser); replies to
  // customers on `message.sent` for the sms and voice channels.
  const twilio = config.twilio
    ? createTwilioChannels({
        router,
        settings: config.twilio,
        publicUrl: config.publicUrl,
        log: logger,
        // A customer's texted pictures and files are kept as files sent in conversations are.
        ...(chatFiles
          ? {
              files: {
                maxBytes: chatFiles.maxBytes,
                keep: (from, file) => chatFiles.keep({ texter: from }, file),
              },
            }
          : {}),
        ...options.twilio,
      })
    : null;
  if (twilio) app.use('/twilio', twilio.routes);

  // Email: raw MIME in (its own body parser), replies out on `message.sent` for the email channel.
  // Attachments: links signed with TOKEN_SECRET, served under /email/attachments from the content store.
  const email = config.email
    ? new EmailChannel({
        router,
        settings: config.email,
        log: logger,
        links: new AttachmentLinks(tokens, config.publicUrl),
        ...(originals ? { originals } : {}),
        ...(chatFiles ? { files: (file) => chatFiles.bytes(file) } : {}),
        ...(options.emailContent ? { content: options.emailContent } : {}),
      })
    : null;
  const emailRoute = email?.httpRoute();
  if (emailRoute) app.use('/email', emailRoute);

  // Slack: Bolt verifies the signature over the raw body, so no body parser may run before it.
  const slack = config.slack
    ? new SlackConsole({
        router,
        settings: config.slack,
        log: logger,
        ...(chatFiles ? { files: chatFiles } : {}),
        // A customer's picture, kept as a chat upload or an email attachment, is shown in the agent's thread.
        pictures: async (file) => (await chatFiles?.bytes(file)) ?? (await email?.bytes(file)) ?? null,
        team: () => live.get(),
        ...(originals ? { originals } : {}),
        ...options.slack,
      })
    : null;
  if (slack) app.use('/slack/events', slack.router);

  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: 'no such route' } });
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    // Which request, for the operator reading the log.
    const where = { method: req.method, path: req.path };
    if (err instanceof SwitchboardError) {
      // The store away (503) is an outage the readiness check reports, not a fault here: a line, no stack.
      if (err.status === 503)
        logger.warn({ ...where, code: err.code, reason: err.message }, 'request failed');
      else if (err.status >= 500) logger.error({ err, ...where }, 'request failed');
      res.status(err.status).json({ error: err.toJSON() });
      return;
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e?.type === 'entity.parse.failed') {
      // JSON, but not an object or a list (`null`, `"text"`, `3`): said so, not that it is not JSON.
      const raw = (err as { body?: unknown }).body;
      const message = isJson(raw) ? 'the body must be a JSON object' : 'the body is not valid JSON';
      res.status(400).json({ error: { code: 'invalid_json', message } });
      return;
    }
    if (e?.type === 'entity.too.large') {
      res.status(413).json({ error: { code: 'too_large', message: 'the body is too large' } });
      return;
    }
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ error: { code: 'bad_request', message: e.message ?? 'bad request' } });
      return;
    }
    logger.error({ err, ...where }, 'request failed');
    res.status(500).json({ error: { code: 'internal', message: 'something went wrong' } });
  });

  const http = options.server ?? createServer(app);
  if (options.server) handOver(options.server, app);
  const io = new IoServer(http, {
    cors: { origin: true, credentials: false },
    maxHttpBufferSize: 64 * 1024,
    serveClient: true,
    ...(options.ioAdapter ? { adapter: options.ioAdapter } : {}),
  });
  const chat = new ChatChannel(io, {
    router,
    tokens,
    log: logger,
    ...(chatFiles ? { files: chatFiles } : {}),
    ...(options.chatRateLimit ? { rateLimit: options.chatRateLimit } : {}),
  });
  const web = new WebConsole(io, {
    router,
    tokens,
    log: logger,
    visitorOnline: (customerId) => chat.visitorOnline(customerId),
    ...(chatFiles ? { files: chatFiles } : {}),
    ...(originals ? { originals } : {}),
    ...options.web,
  });

  // Customers past the policy's retention: each process asks for a look every hour besides the one at its start
  // (`listen`), so that a look whose next one could not be set (the store down at that moment) is not the last.
  const retention = setInterval(() => {
    router.startRetention().catch((err) => logger.warn({ err }, 'retention: the next look could not be set'));
  }, RETENTION_SWEEP_MS);
  retention.unref();

  // What a look for customers past the retention did, in the log of the process that looked.
  const undoRetentionLog = events.subscribe((event) => {
    if (event.type !== 'retention.swept') return;
    if (event.failed.length > 0)
      logger.warn({ failed: event.failed }, 'retention: customers could not be erased');
    if (event.erased > 0) {
      logger.info(
        { erased: event.erased, examined: event.examined, kept: event.kept },
        'retention: customers erased',
      );
    }
  });

  // Timers (offer timeouts, sticky waits, overflow, promises, texts' and emails' deliveries, unseen chat replies,
  // closed consoles, retention) fire from here.
  // Every process ticks; the store hands each due timer to one of them. A failure is logged once per run of them.
  let ticking: Promise<void> | null = null;
  let tickFailing = false;
  const tick = setInterval(() => {
    if (ticking) return;
    ticking = router
      .tick()
      .then(
        () => {
          if (tickFailing) logger.info('timer tick works again');
          tickFailing = false;
        },
        (err) => {
          if (!tickFailing) logger.warn({ err }, 'timer tick failed');
          tickFailing = true;
        },
      )
      .finally(() => {
        ticking = null;
      });
  }, config.tickMs);
  tick.unref();

  let closing: Promise<void> | null = null;
  return {
    app,
    http,
    io,
    router,
    store,
    tokens,
    twilio,
    metrics,
    email,
    slack,
    web,
    files: chatFiles,
    async listen(port = config.port, host = config.host) {
      // A server handed over (`server`) listens already, on its own port.
      const bound = http.listening
        ? (http.address() as AddressInfo).port
        : await new Promise<number>((resolve, reject) => {
            http.once('error', reject);
            http.listen(port, host, () => resolve((http.address() as AddressInfo).port));
          });
      await email?.start(host);
      // Customers past the policy's retention: the first look now, then every hour (one process at a time).
      await router.startRetention();
      return bound;
    },
    close() {
      closing ??= (async () => {
        clearInterval(tick);
        clearInterval(retention);
        // A run of timers under way finishes first: what it hands to a channel is sent, or due again later.
        await ticking;
        twilio?.close();
        await twilio?.idle();
        await email?.close();
        await slack?.close();
        chat.close();
        web.close();
        undoForgetFiles();
        undoRetentionLog();
        metrics.detach();
        await new Promise<void>((resolve) => {
          io.close(() => resolve());
          if (!http.listening) resolve();
        });
        await new Promise<void>((resolve) => {
          if (!http.listening) return resolve();
          http.close(() => resolve());
          http.closeIdleConnections?.();
        });
        await events.close();
        await store.close();
      })();
      return closing;
    },
  };
}

/** Whether `raw` (a request body as text) parses as JSON. */
function isJson(raw: unknown): boolean {
  if (typeof raw !== 'string') return false;
  try {
    JSON.parse(raw);
    return true;
  } catch {
    return false;
  }
}
