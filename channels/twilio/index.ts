// Voice and SMS through Twilio, mounted under /twilio by the server when Twilio is
// configured: one REST client, every webhook verified against PUBLIC_URL + path
// with its own urlencoded parser, then the voice and SMS routes.
import express, { type NextFunction, type Request, type Response } from 'express';
import type twilio from 'twilio';
import type { Router } from '../../routing/router.js';
import { type KeepTexted, SmsChannel } from '../sms/channel.js';
import { TwilioMedia } from '../sms/media.js';
import { type Log, VoiceChannel } from '../voice/channel.js';
import type { CallHolders } from '../voice/holders.js';
import { createTwilioClient, type TwilioClient } from './client.js';
import { twilioWebhook } from './signature.js';

/** Twilio settings from the configuration (server/config.ts). */
export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  /** E.164 number texts and call backs come from, when the customer's own `To` is not known. */
  fromNumber?: string | null | undefined;
  /** Send REST requests to this base URL instead of Twilio's (a stand-in). */
  apiUrl?: string | null | undefined;
  /** Quiet hold music; silence when absent. */
  holdMusicUrl?: string | null | undefined;
  callbackRetries?: number | undefined;
  callbackRetrySeconds?: number | undefined;
  /** Agents rung on a phone number press 1 to take a call (on unless false). */
  screenAgentPhones?: boolean | undefined;
}

/**
 * What the server may hand in: for tests and the bench, an HTTP client for the SDK (a stand-in); in Redis
 * mode, who holds each live call.
 */
export interface TwilioHooks {
  httpClient?: twilio.RequestClient;
  /** Sends per outbound SMS before giving up. */
  smsAttempts?: number;
  /** Which process moves each live call (channels/voice/holders.ts); this process alone by default. */
  holders?: CallHolders;
}

export interface TwilioChannelsOptions extends TwilioHooks {
  router: Router;
  settings: TwilioSettings;
  publicUrl: string;
  log: Log;
  /** Where what customers text besides words (MMS) is kept (the files sent in conversations); else linked. */
  files?: {
    maxBytes: number;
    keep: KeepTexted;
  };
}

export interface TwilioChannels {
  /** Mount at `/twilio`. */
  routes: express.Router;
  client: TwilioClient;
  voice: VoiceChannel;
  sms: SmsChannel;
  /** Pending pushes and deliveries are done. */
  idle(): Promise<void>;
  close(): void;
}

export function createTwilioChannels(options: TwilioChannelsOptions): TwilioChannels {
  const { settings, router, log } = options;
  const publicUrl = options.publicUrl.replace(/\/+$/, '');
  const base = `${publicUrl}/twilio`;
  const client = createTwilioClient({
    accountSid: settings.accountSid,
    authToken: settings.authToken,
    apiUrl: settings.apiUrl ?? undefined,
    httpClient: options.httpClient,
  });
  const fromNumber = settings.fromNumber ?? null;
  const sms = new SmsChannel({
    router,
    client,
    base,
    fromNumber,
    log,
    ...(options.smsAttempts ? { maxAttempts: options.smsAttempts } : {}),
    ...(options.files
      ? {
          media: {
            fetcher: new TwilioMedia({
              accountSid: settings.accountSid,
              authToken: settings.authToken,
              apiUrl: settings.apiUrl,
              maxBytes: options.files.maxBytes,
            }),
            keep: options.files.keep,
          },
        }
      : {}),
  });
  const voice = new VoiceChannel({
    router,
    client,
    base,
    fromNumber,
    holdMusicUrl: settings.holdMusicUrl ?? null,
    callbackRetries: settings.callbackRetries ?? 2,
    callbackRetrySeconds: settings.callbackRetrySeconds ?? 20,
    screenAgentPhones: settings.screenAgentPhones ?? true,
    log,
    onCaller: (caller, ours) => sms.learnNumber(caller, ours),
    ...(options.holders ? { holders: options.holders } : {}),
  });

  const routes = express.Router();
  // A webhook set to HTTP GET in Twilio's console is said to be so (its signature would not be the trouble).
  routes.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'POST') return next();
    res
      .status(405)
      .set('Allow', 'POST')
      .type('text/plain')
      .send("Switchboard takes Twilio's webhooks as HTTP POST: set the number's webhook method to POST");
  });
  routes.use(twilioWebhook({ authToken: settings.authToken, publicUrl, log }));
  routes.use(voice.routes());
  routes.use(sms.routes());
  routes.use((_req: Request, res: Response) => {
    res.status(404).type('text/plain').send('no such Twilio webhook');
  });
  routes.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: unknown; type?: unknown; message?: unknown };
    const status = typeof e?.status === 'number' && e.status >= 400 && e.status < 500 ? e.status : 500;
    if (status === 500) log.error({ err, path: req.path }, 'twilio: webhook failed');
    else log.warn({ path: req.path, type: e?.type }, 'twilio: malformed webhook body');
    res
      .status(status)
      .type('text/plain')
      .send(status === 500 ? 'something went wrong' : 'malformed request body');
  });

  return {
    routes,
    client,
    voice,
    sms,
    async idle() {
      await Promise.all([voice.idle(), sms.idle()]);
      await Promise.all([voice.idle(), sms.idle()]);
    },
    close() {
      voice.close();
      sms.close();
    },
  };
}
