// Configuration from the environment: defaults, one readable line per bad
// variable, channels off; and `server/main.ts` as a real process.
import { type ChildProcess, spawn } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import { ConfigError, loadConfig } from '../../server/config.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SID = `AC${'0123456789abcdef'.repeat(2)}`;
const TWILIO_OFF = 'Twilio voice and SMS: off (set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to turn it on)';
const SLACK_OFF = 'Slack console: off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to turn it on)';

function configLines(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).lines;
  }
  throw new Error('expected loadConfig to reject the environment');
}

describe('loadConfig', () => {
  it('defaults: port 3000, PUBLIC_URL from the port, a generated admin token, memory store', () => {
    const config = loadConfig({});
    expect(config.port).to.equal(3000);
    expect(config.publicUrl).to.equal('http://localhost:3000');
    expect(config.host).to.equal(undefined);
    expect(config.redisUrl).to.equal(undefined);
    expect(config.adminTokenGenerated).to.equal(true);
    expect(config.adminToken).to.match(/^[A-Za-z0-9_-]{32}$/);
    expect(config.tokenSecret).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(config.twilio).to.equal(null);
    expect(config.slack).to.equal(null);
    expect(config.logLevel).to.equal('info');
    expect(config.demoAgents).to.equal(true);
    expect(config.tickMs).to.equal(250);
    expect(config.policy.texts.greeting).to.equal('Thanks for reaching us.');
    expect(config.chatFiles).to.deep.equal({ maxBytes: 10 * 1024 * 1024, storeMaxBytes: 200 * 1024 * 1024 });
  });

  it('demo agents (DEMO_AGENTS=auto) only for a first try: not with ADMIN_TOKEN, NODE_ENV=production or Redis', () => {
    expect(loadConfig({}).demoAgents).to.equal(true);
    expect(loadConfig({ NODE_ENV: 'development' }).demoAgents).to.equal(true);
    expect(loadConfig({ ADMIN_TOKEN: 'a'.repeat(24) }).demoAgents).to.equal(false);
    expect(loadConfig({ NODE_ENV: 'production' }).demoAgents).to.equal(false);
    expect(loadConfig({ NODE_ENV: 'production', DEMO_AGENTS: 'on' }).demoAgents).to.equal(true);
    expect(loadConfig({ DEMO_AGENTS: 'off' }).demoAgents).to.equal(false);
  });

  it('two loads without ADMIN_TOKEN generate different tokens', () => {
    expect(loadConfig({}).adminToken).to.not.equal(loadConfig({}).adminToken);
  });

  it('PUBLIC_URL defaults to the configured port and loses trailing slashes when given', () => {
    expect(loadConfig({ PORT: '8080' }).publicUrl).to.equal('http://localhost:8080');
    expect(loadConfig({ PORT: '8080' }).port).to.equal(8080);
    expect(loadConfig({ PUBLIC_URL: 'https://support.example.com//' }).publicUrl).to.equal(
      'https://support.example.com',
    );
  });

  it('a fixed ADMIN_TOKEN is used as given and not reported as generated', () => {
    const config = loadConfig({ ADMIN_TOKEN: 'a-fixed-admin-token-123' });
    expect(config.adminToken).to.equal('a-fixed-admin-token-123');
    expect(config.adminTokenGenerated).to.equal(false);
  });

  it('empty variables count as unset', () => {
    const config = loadConfig({ ADMIN_TOKEN: '', TWILIO_ACCOUNT_SID: '  ', PUBLIC_URL: '' });
    expect(config.adminTokenGenerated).to.equal(true);
    expect(config.twilio).to.equal(null);
    expect(config.publicUrl).to.equal('http://localhost:3000');
    // Numbers too (`docker run -e VAR=`): their defaults, not 0 nor a refusal.
    const twilio = { TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: 'twilio-auth-token-01' };
    const slack = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'slack-signing-secret-01' };
    const blank = loadConfig({
      ...twilio,
      ...slack,
      CALLBACK_RETRIES: '',
      CALLBACK_RETRY_SECONDS: ' ',
      TICK_MS: '',
      SLACK_TAKEOVER_SECONDS: '',
    });
    expect([blank.twilio?.callbackRetries, blank.twilio?.callbackRetrySeconds]).to.deep.equal([2, 20]);
    expect([blank.tickMs, blank.slack?.takeoverMs]).to.deep.equal([250, 60_000]);
  });

  it('lists every channel whose credentials are absent as off, naming the variables', () => {
    const { off } = loadConfig({});
    expect(off).to.include(TWILIO_OFF);
    expect(off).to.include(SLACK_OFF);
    for (const line of off) expect(line).to.match(/^[\w ]+: off \(set [A-Z_]+ /);
  });

  it('a channel with both credentials is on and no longer listed as off', () => {
    const config = loadConfig({ TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: 'twilio-auth-token-0123' });
    expect(config.twilio).to.include({ accountSid: SID, authToken: 'twilio-auth-token-0123' });
    expect(config.off).to.not.include(TWILIO_OFF);
    expect(config.off).to.include(SLACK_OFF);
    expect(config.off).to.have.length(loadConfig({}).off.length - 1);
    const slack = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-1-2-3',
      SLACK_SIGNING_SECRET: 'slack-signing-secret-01',
    });
    expect(slack.slack).to.include({ botToken: 'xoxb-1-2-3', signingSecret: 'slack-signing-secret-01' });
    expect(slack.slack?.apiUrl).to.equal(null);
    expect(slack.slack?.takeoverMs).to.equal(60_000);
    const gov = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-1-2-3',
      SLACK_SIGNING_SECRET: 'slack-signing-secret-01',
      SLACK_API_URL: 'https://slack-gov.com/api/',
    });
    expect(gov.slack?.apiUrl).to.equal('https://slack-gov.com/api/');
    const quick = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-1-2-3',
      SLACK_SIGNING_SECRET: 'slack-signing-secret-01',
      SLACK_TAKEOVER_SECONDS: '5',
    });
    expect(quick.slack?.takeoverMs).to.equal(5_000);
    expect(quick.slack?.teamChannel).to.equal(null);
    const team = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-1-2-3',
      SLACK_SIGNING_SECRET: 'slack-signing-secret-01',
      SLACK_TEAM_CHANNEL: 'C0123ABCD',
    });
    expect(team.slack?.teamChannel).to.equal('C0123ABCD');
  });

  describe('one readable line per bad variable', () => {
    it('PORT=abc names PORT', () => {
      const lines = configLines({ PORT: 'abc' });
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/^PORT: .*number/);
    });

    it('PORT out of range names PORT', () => {
      const lines = configLines({ PORT: '70000' });
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/^PORT: .*65535/);
    });

    it('ADMIN_TOKEN too short', () => {
      expect(configLines({ ADMIN_TOKEN: 'short' })).to.deep.equal([
        'ADMIN_TOKEN: must be at least 16 characters',
      ]);
    });

    it('chat files: sizes that are not whole bytes, or a store smaller than one file; 0 turns them off', () => {
      expect(configLines({ CHAT_FILE_MAX_BYTES: '1.5' })).to.deep.equal([
        'CHAT_FILE_MAX_BYTES: must be a whole number of bytes',
      ]);
      expect(configLines({ CHAT_FILE_MAX_BYTES: '5000', CHAT_FILES_STORE_MAX_BYTES: '4096' })).to.deep.equal([
        'CHAT_FILES_STORE_MAX_BYTES: must be at least CHAT_FILE_MAX_BYTES',
      ]);
      expect(loadConfig({ CHAT_FILE_MAX_BYTES: '0' }).chatFiles).to.equal(null);
    });

    it('TOKEN_SECRET too short', () => {
      expect(configLines({ TOKEN_SECRET: 'x'.repeat(31) })).to.deep.equal([
        'TOKEN_SECRET: must be at least 32 characters',
      ]);
    });

    it('TWILIO_ACCOUNT_SID without TWILIO_AUTH_TOKEN names the missing one', () => {
      expect(configLines({ TWILIO_ACCOUNT_SID: SID })).to.deep.equal([
        'TWILIO_AUTH_TOKEN: is required when TWILIO_ACCOUNT_SID is set (Twilio voice and SMS)',
      ]);
    });

    it('TWILIO_AUTH_TOKEN without TWILIO_ACCOUNT_SID names the missing one', () => {
      expect(configLines({ TWILIO_AUTH_TOKEN: 'twilio-auth-token-0123' })).to.deep.equal([
        'TWILIO_ACCOUNT_SID: is required when TWILIO_AUTH_TOKEN is set (Twilio voice and SMS)',
      ]);
    });

    it('a malformed TWILIO_ACCOUNT_SID says what it must look like', () => {
      expect(
        configLines({ TWILIO_ACCOUNT_SID: 'SK123', TWILIO_AUTH_TOKEN: 'twilio-auth-token-0123' }),
      ).to.deep.equal(['TWILIO_ACCOUNT_SID: must be AC followed by 32 hex digits']);
    });

    it('SLACK_BOT_TOKEN that is not a bot token', () => {
      expect(
        configLines({ SLACK_BOT_TOKEN: 'xoxp-1', SLACK_SIGNING_SECRET: 'slack-signing-secret-01' }),
      ).to.deep.equal(['SLACK_BOT_TOKEN: must start with xoxb-']);
    });

    it('SLACK_API_URL that is not a Web API base URL', () => {
      const slack = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'slack-signing-secret-01' };
      expect(configLines({ ...slack, SLACK_API_URL: 'https://slack-gov.com/api' })).to.deep.equal([
        'SLACK_API_URL: must be an http(s) URL ending in /api/, such as https://slack-gov.com/api/',
      ]);
      expect(configLines({ ...slack, SLACK_API_URL: 'slack-gov' })).to.deep.equal([
        'SLACK_API_URL: must be an http(s) URL ending in /api/, such as https://slack-gov.com/api/',
      ]);
    });

    it("SLACK_TEAM_CHANNEL that is a channel's name, or without the Slack console", () => {
      const slack = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'slack-signing-secret-01' };
      expect(configLines({ ...slack, SLACK_TEAM_CHANNEL: '#support-leads' })).to.deep.equal([
        "SLACK_TEAM_CHANNEL: must be a Slack channel's ID (C0123ABCD), not its name",
      ]);
      expect(configLines({ SLACK_TEAM_CHANNEL: 'C0123ABCD' })).to.deep.equal([
        'SLACK_TEAM_CHANNEL: needs the Slack console (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET)',
      ]);
    });

    it('REDIS_CLUSTER that is not on or off, or on without REDIS_URL; several nodes in REDIS_URL only with it', () => {
      expect(configLines({ REDIS_CLUSTER: 'yes' })).to.deep.equal(['REDIS_CLUSTER: must be on or off']);
      expect(configLines({ REDIS_CLUSTER: 'on' })).to.deep.equal([
        'REDIS_URL: is required with REDIS_CLUSTER=on (any node of the cluster)',
      ]);
      expect(configLines({ REDIS_URL: 'redis://a:7000,redis://b:7000' })).to.include(
        'REDIS_URL: several nodes are for a Redis Cluster: set REDIS_CLUSTER=on, or give one URL',
      );
      expect(configLines({ REDIS_URL: 'redis://a:7000,b:7000', REDIS_CLUSTER: 'on' })[0]).to.match(
        /^REDIS_URL: must start with redis:\/\/ or rediss:\/\//,
      );
      const nodes = loadConfig({
        REDIS_URL: 'redis://10.0.0.5:7000, redis://10.0.0.6:7000',
        REDIS_CLUSTER: 'on',
        ADMIN_TOKEN: 'a'.repeat(16),
        TOKEN_SECRET: 't'.repeat(32),
      });
      expect(nodes.redisNodes).to.deep.equal(['redis://10.0.0.5:7000', 'redis://10.0.0.6:7000']);
      expect(nodes.redisUrl).to.equal('redis://10.0.0.5:7000');
      expect(loadConfig({}).redisCluster).to.equal(false);
      expect(
        loadConfig({
          REDIS_URL: 'redis://10.0.0.5:7000',
          REDIS_CLUSTER: 'on',
          ADMIN_TOKEN: 'a'.repeat(16),
          TOKEN_SECRET: 't'.repeat(32),
        }).redisCluster,
      ).to.equal(true);
    });

    it('CALLBACK_RETRIES and TICK_MS that are not whole numbers say what they must be', () => {
      expect(configLines({ TICK_MS: 'abc' })).to.deep.equal([
        'TICK_MS: must be a whole number of milliseconds from 10 to 60000',
      ]);
      expect(configLines({ CALLBACK_RETRIES: '9' })).to.deep.equal([
        'CALLBACK_RETRIES: must be a whole number of retries from 0 to 5',
      ]);
    });

    it('a bad variable elsewhere adds no false line about the chat file sizes', () => {
      expect(
        configLines({ CHAT_FILE_MAX_BYTES: '9', CHAT_FILES_STORE_MAX_BYTES: '10000', LOG_LEVEL: 'bad' }),
      ).to.have.length(1);
    });

    it('SLACK_TAKEOVER_SECONDS that is not a whole number of seconds from 1 to 3600', () => {
      const slack = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'slack-signing-secret-01' };
      for (const bad of ['0', '1.5', 'soon', '3601']) {
        const lines = configLines({ ...slack, SLACK_TAKEOVER_SECONDS: bad });
        expect(lines, bad).to.have.length(1);
        expect(lines[0]).to.match(/^SLACK_TAKEOVER_SECONDS: /);
      }
    });

    it('PUBLIC_URL that is no http(s) address links can be built on', () => {
      expect(configLines({ PUBLIC_URL: 'ftp://x.example.com' })).to.deep.equal([
        'PUBLIC_URL: must start with https:// (or http://)',
      ]);
      for (const url of [
        'https://x.example.com?a=b',
        'https://x.example.com/#top',
        'https://x.example.com/?',
      ])
        expect(configLines({ PUBLIC_URL: url }), url).to.deep.equal([
          'PUBLIC_URL: must have no ?query or #fragment: links and webhook addresses are built on it',
        ]);
      expect(configLines({ PUBLIC_URL: 'https://me:secret@x.example.com' })).to.deep.equal([
        'PUBLIC_URL: must have no user name or password in it',
      ]);
      // A path is fine (behind a proxy at /support).
      expect(loadConfig({ PUBLIC_URL: 'https://x.example.com/support/' }).publicUrl).to.equal(
        'https://x.example.com/support',
      );
    });

    it('PORT that is no port number, and every mistake in ROUTING_POLICY, each on a line of its own', () => {
      for (const port of ['abc', '70000', '1.5'])
        expect(configLines({ PORT: port }), port).to.deep.equal([
          'PORT: must be a port number from 0 to 65535',
        ]);
      expect(
        configLines({
          ROUTING_POLICY: JSON.stringify({ stickyWaitSeconds: { chat: -1 }, quotePercentile: 7 }),
        }),
      ).to.have.length(2);
    });

    it('PUBLIC_URL that is not a URL', () => {
      expect(configLines({ PUBLIC_URL: 'support dot example' })).to.deep.equal([
        'PUBLIC_URL: must be a URL such as https://support.example.com',
      ]);
    });

    it('REDIS_URL needs a shared TOKEN_SECRET and ADMIN_TOKEN', () => {
      expect(configLines({ REDIS_URL: 'redis://localhost:6379' })).to.deep.equal([
        'TOKEN_SECRET: is required with REDIS_URL (every process must sign and verify the same tokens)',
        'ADMIN_TOKEN: is required with REDIS_URL (every process must accept the same admin token)',
      ]);
    });

    it('REDIS_URL with Twilio needs TWILIO_FROM_NUMBER: texts and call backs go out from any process', () => {
      const shared = {
        REDIS_URL: 'redis://localhost:6379',
        TOKEN_SECRET: 'a-shared-token-secret-0123456789-abcdefgh',
        ADMIN_TOKEN: 'a-shared-admin-token-0123',
        TWILIO_ACCOUNT_SID: SID,
        TWILIO_AUTH_TOKEN: 'twilio-auth-token-0123',
      };
      expect(configLines(shared)).to.deep.equal([
        'TWILIO_FROM_NUMBER: is required with REDIS_URL and Twilio (a text or a call back may go out from any process, which cannot know the number a customer reached on another)',
      ]);
      expect(loadConfig({ ...shared, TWILIO_FROM_NUMBER: '+14155550100' }).twilio?.fromNumber).to.equal(
        '+14155550100',
      );
      // One process learns the number each customer reached and answers from it.
      const one = loadConfig({ TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: 'twilio-auth-token-0123' });
      expect(one.twilio?.fromNumber).to.equal(null);
    });

    it('ROUTING_POLICY with a 201-character greeting is rejected naming texts.greeting', () => {
      const lines = configLines({ ROUTING_POLICY: JSON.stringify({ texts: { greeting: 'g'.repeat(201) } }) });
      expect(lines).to.deep.equal(['ROUTING_POLICY: texts.greeting: must be at most 200 characters']);
    });

    it('a 200-character greeting is accepted', () => {
      const greeting = 'g'.repeat(200);
      expect(
        loadConfig({ ROUTING_POLICY: JSON.stringify({ texts: { greeting } }) }).policy.texts.greeting,
      ).to.equal(greeting);
    });

    it('ROUTING_POLICY that is not JSON', () => {
      const lines = configLines({ ROUTING_POLICY: '{greeting:' });
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/^ROUTING_POLICY: not valid JSON: /);
    });

    it('several bad variables: one line for each, all at once', () => {
      const lines = configLines({
        PORT: 'abc',
        ADMIN_TOKEN: 'short',
        TWILIO_ACCOUNT_SID: SID,
        ROUTING_POLICY: JSON.stringify({ texts: { greeting: 'g'.repeat(201) } }),
      });
      expect(lines).to.have.length(4);
      expect(lines[0]).to.match(/^PORT: /);
      expect(lines.slice(1)).to.deep.equal([
        'ADMIN_TOKEN: must be at least 16 characters',
        'ROUTING_POLICY: texts.greeting: must be at most 200 characters',
        'TWILIO_AUTH_TOKEN: is required when TWILIO_ACCOUNT_SID is set (Twilio voice and SMS)',
      ]);
    });
  });
});

// ---------------------------------------------------------------- the process

interface Run {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exit: Promise<number | null>;
  /** Resolves with the first stdout JSON log record matching. */
  waitFor(
    match: (record: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
}

function start(env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const listeners: Array<() => void> = [];
  let outBuf = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    outBuf += chunk;
    const parts = outBuf.split('\n');
    outBuf = parts.pop()!;
    stdout.push(...parts.filter((l) => l.trim() !== ''));
    for (const l of listeners.slice()) l();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const records = () =>
    stdout.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  return {
    child,
    stdout,
    stderr,
    exit,
    waitFor(match, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = records().find(match);
          if (!hit) return false;
          listeners.splice(listeners.indexOf(check), 1);
          clearTimeout(timer);
          resolve(hit);
          return true;
        };
        const timer = setTimeout(() => {
          listeners.splice(listeners.indexOf(check), 1);
          reject(
            new Error(
              `no matching log line within ${timeoutMs} ms; stdout:\n${stdout.join('\n')}\nstderr:\n${stderr.join('')}`,
            ),
          );
        }, timeoutMs);
        listeners.push(check);
        check();
        void exit.then((code) => {
          if (listeners.includes(check)) {
            listeners.splice(listeners.indexOf(check), 1);
            clearTimeout(timer);
            reject(new Error(`exited with ${code} first; stderr:\n${stderr.join('')}`));
          }
        });
      });
    },
  };
}

/** What a process needs to start, on this machine only. */
const GOOD = { HOST: '127.0.0.1', ADMIN_TOKEN: 'process-admin-token-0123', TOKEN_SECRET: 'p'.repeat(40) };

describe('server/main.ts as a process', function () {
  this.timeout(30_000);
  let running: Run | null = null;
  afterEach(async () => {
    if (running && running.child.exitCode === null && running.child.signalCode === null) {
      running.child.kill('SIGKILL');
      await running.exit;
    }
    running = null;
  });

  it('a bad environment: exit code 1 and one readable stderr line per bad variable', async () => {
    running = start({ PORT: 'abc', ADMIN_TOKEN: 'short', TWILIO_ACCOUNT_SID: SID });
    const code = await running.exit;
    expect(code).to.equal(1);
    const lines = running.stderr.join('').trimEnd().split('\n');
    expect(lines[0]).to.equal('Switchboard cannot start; fix these environment variables:');
    expect(lines).to.have.length(4);
    expect(lines[1]).to.match(/^ {2}PORT: /);
    expect(lines.slice(2)).to.deep.equal([
      '  ADMIN_TOKEN: must be at least 16 characters',
      '  TWILIO_AUTH_TOKEN: is required when TWILIO_ACCOUNT_SID is set (Twilio voice and SMS)',
    ]);
    expect(running.stdout).to.deep.equal([]);
  });

  it("a HOST that is not this machine's, or not found: exit code 1 and one readable line naming HOST", async () => {
    for (const [host, why] of [
      ['10.255.255.1', 'is not an address of this machine'],
      ['no-such-host.invalid', 'is no address or host name this machine can find'],
    ] as const) {
      running = start({ ...GOOD, PORT: '0', HOST: host });
      expect(await running.exit).to.equal(1);
      const lines = running.stderr.join('').trimEnd().split('\n');
      expect(lines).to.have.length(2);
      expect(lines[0]).to.equal('Switchboard cannot start; fix these environment variables:');
      expect(lines[1]).to.match(new RegExp(`^ {2}HOST: ${host.replace(/\./g, '\\.')} ${why}`));
    }
  });

  it('a port already in use: exit code 1 and one readable stderr line naming the variable', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      for (const [vars, name] of [
        [{ PORT: String(port) }, 'PORT'],
        [
          {
            PORT: '0',
            SMTP_LISTEN_PORT: String(port),
            SMTP_URL: 'smtp://127.0.0.1:2599',
            EMAIL_FROM: 'Support <support@example.com>',
          },
          'SMTP_LISTEN_PORT',
        ],
      ] as const) {
        running = start({ ...GOOD, ...vars });
        expect(await running.exit).to.equal(1);
        // Nothing but that line: no stack trace logged before it.
        expect(
          running.stdout.filter((l) => l.includes('"level":40') || l.includes('"level":50')),
        ).to.deep.equal([]);
        expect(running.stderr.join('').trimEnd().split('\n')).to.deep.equal([
          'Switchboard cannot start; fix these environment variables:',
          `  ${name}: ${port} is already in use (another Switchboard, or another program): stop it or choose a free port`,
        ]);
      }
    } finally {
      taken.close();
    }
  });

  it('a good environment: listens, prints the demo console links, answers, stops with 0 on SIGTERM', async () => {
    const run = start({ ...GOOD, PORT: '0', DEMO_AGENTS: 'on' });
    running = run;
    const listening = await run.waitFor((r) => String(r.msg).startsWith('Switchboard listening on '));
    const port = listening.port as number;
    expect(port).to.be.a('number').and.greaterThan(0);
    expect(listening.msg).to.equal(`Switchboard listening on http://localhost:${port}`);
    expect(listening.store).to.equal('memory');

    const grace = await run.waitFor((r) => String(r.msg).startsWith('console for demo agent Grace (demo): '));
    const ada = await run.waitFor((r) => String(r.msg).startsWith('console for demo agent Ada (demo): '));
    const linkPattern = new RegExp(
      `^console for demo agent (Ada|Grace) \\(demo\\): http://localhost:${port}/console\\?token=(\\S+)$`,
    );
    expect(String(ada.msg)).to.match(linkPattern);
    expect(String(grace.msg)).to.match(linkPattern);
    const adaToken = decodeURIComponent(linkPattern.exec(String(ada.msg))![2]!);
    // Said plainly: they take real customers too.
    const warned = await run.waitFor((r) => String(r.msg).startsWith('the demo agents '));
    expect(warned.level).to.equal(40);
    expect(warned.msg).to.equal(
      'the demo agents Ada (demo) and Grace (demo) take customers while their console is open: set DEMO_AGENTS=off (or ADMIN_TOKEN) before real customers come in',
    );

    const messages = run.stdout.map((l) => JSON.parse(l).msg as string);
    expect(messages).to.include(TWILIO_OFF);
    expect(messages).to.include(SLACK_OFF);
    expect(messages).to.include(`demo page with the chat widget: http://localhost:${port}/`);
    expect(messages.some((m) => m.startsWith('admin API token'))).to.equal(false);

    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).to.equal(200);
    expect(await health.json()).to.deep.equal({ status: 'ok' });
    const agents = await fetch(`http://127.0.0.1:${port}/api/agents`, {
      headers: { authorization: `Bearer ${GOOD.ADMIN_TOKEN}` },
    });
    // Away until their console opens: no customer goes to a demo agent nobody looks at.
    expect(
      (
        (await agents.json()) as { agents: Array<{ name: string; status: string; statusReason?: string }> }
      ).agents
        .map((a) => [a.name, a.status, a.statusReason])
        .sort(),
    ).to.deep.equal([
      ['Ada (demo)', 'away', 'console closed'],
      ['Grace (demo)', 'away', 'console closed'],
    ]);

    // The printed link's token opens the console as that agent.
    const socket = connect(`http://127.0.0.1:${port}/agent`, {
      forceNew: true,
      transports: ['websocket'],
      reconnection: false,
      auth: { token: adaToken },
    });
    const available = new Promise<void>((resolve) =>
      socket.on('agent', (e: { agent: { status: string } }) => {
        if (e.agent.status === 'available') resolve();
      }),
    );
    try {
      const hello = await new Promise<{ agent: { name: string } }>((resolve, reject) => {
        socket.once('hello', resolve);
        socket.once('connect_error', reject);
      });
      expect(hello.agent.name).to.equal('Ada (demo)');
      // Her console open, she is available.
      await available;
    } finally {
      socket.disconnect();
    }

    run.child.kill('SIGTERM');
    expect(await run.exit).to.equal(0);
    const after = run.stdout.map((l) => JSON.parse(l).msg as string);
    expect(after).to.include('shutting down: no new connections, finishing in-flight work');
    expect(after.at(-1)).to.equal('stopped');
  });

  it('with PUBLIC_URL: says which port it listens on and the address customers reach, which the links use', async () => {
    const run = start({ ...GOOD, PORT: '0', PUBLIC_URL: 'https://support.example.com/', DEMO_AGENTS: 'on' });
    running = run;
    const listening = await run.waitFor((r) => String(r.msg).startsWith('Switchboard listening on '));
    expect(listening.msg).to.equal(
      `Switchboard listening on port ${listening.port}, reached at https://support.example.com`,
    );
    await run.waitFor((r) => String(r.msg).startsWith('console for demo agent Ada (demo): '));
    const messages = run.stdout.map((l) => JSON.parse(l).msg as string);
    expect(messages).to.include('demo page with the chat widget: https://support.example.com/');
    expect(
      messages.some((m) =>
        m.startsWith('console for demo agent Ada (demo): https://support.example.com/console?token='),
      ),
    ).to.equal(true);
    run.child.kill('SIGTERM');
    expect(await run.exit).to.equal(0);
  });

  it('without ADMIN_TOKEN the generated token is printed and works', async () => {
    const run = start({ PORT: '0', HOST: '127.0.0.1', DEMO_AGENTS: 'off' });
    running = run;
    const listening = await run.waitFor((r) => String(r.msg).startsWith('Switchboard listening on '));
    const line = await run.waitFor((r) =>
      String(r.msg).startsWith('admin API token (generated; set ADMIN_TOKEN to fix it): '),
    );
    const token = String(line.msg).split(': ').at(-1)!;
    const res = await fetch(`http://127.0.0.1:${listening.port}/api/agents`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ agents: [] });
    run.child.kill('SIGTERM');
    expect(await run.exit).to.equal(0);
  });

  it('in production without PUBLIC_URL: warns that links are built on an address nobody outside reaches', async () => {
    const run = start({ PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'production', ADMIN_TOKEN: 'a'.repeat(16) });
    running = run;
    const warned = await run.waitFor((r) => String(r.msg).startsWith('PUBLIC_URL is not set: '));
    expect(warned.level).to.equal(40);
    run.child.kill('SIGTERM');
    expect(await run.exit).to.equal(0);
  });

  it('with LOG_LEVEL=warn the generated token and the demo consoles are still printed (on stderr)', async () => {
    const run = start({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', DEMO_AGENTS: 'on' });
    running = run;
    await run.waitFor((r) => String(r.msg).startsWith('the demo agents '));
    const said = run.stderr.join('');
    expect(said).to.match(/^admin API token \(generated; set ADMIN_TOKEN to fix it\): \S+$/m);
    expect(said).to.match(/^the team's live view: http:\/\/localhost:\d+\/team#token=\S+$/m);
    expect(said).to.match(
      /^console for demo agent Ada \(demo\): http:\/\/localhost:\d+\/console\?token=\S+$/m,
    );
    // Nothing at info on stdout.
    expect(run.stdout.map((l) => JSON.parse(l).level as number).every((level) => level >= 40)).to.equal(true);
    run.child.kill('SIGTERM');
    expect(await run.exit).to.equal(0);
  });
});
