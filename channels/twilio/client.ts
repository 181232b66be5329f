// The Twilio REST client. The SDK has no base-URL option (edge and region only
// change the host name); its `httpClient` option takes any object with
// `request(opts)`. `RedirectingRequestClient` keeps the SDK's own HTTP client and
// sends every request to another base URL: a local stand-in in tests and benches,
// or `TWILIO_API_URL` when set.
import twilio from 'twilio';

type RequestOptions<TData> = Parameters<twilio.RequestClient['request']>[0] & { data?: TData };

/**
 * Twilio's 429 (too many requests at once: nothing was done) is tried again by the SDK, up to 3 times after
 * 0.1-3 s with jitter, before it is a failure (a call that could not be placed, a text that waits for its retry).
 * Other failures are not: a 5xx on a create may have placed the call or sent the text.
 */
export const TWILIO_RETRY = { autoRetry: true, maxRetries: 3, maxRetryDelay: 3000 } as const;

export class RedirectingRequestClient extends twilio.RequestClient {
  readonly #base: URL;

  /** `baseUrl`: where `https://*.twilio.com/…` requests go instead, e.g. `http://127.0.0.1:4010`. */
  constructor(baseUrl: string, opts?: ConstructorParameters<typeof twilio.RequestClient>[0]) {
    super({ keepAlive: true, ...TWILIO_RETRY, ...opts });
    this.#base = new URL(baseUrl);
  }

  override request<TData>(opts: RequestOptions<TData>) {
    const uri = new URL(opts.uri);
    const prefix = this.#base.pathname.replace(/\/+$/, '');
    const rewritten = new URL(`${prefix}${uri.pathname}${uri.search}`, this.#base);
    return super.request<TData>({ ...opts, uri: rewritten.href });
  }
}

export interface TwilioClientOptions {
  accountSid: string;
  authToken: string;
  /** Send REST requests here instead of Twilio (a stand-in). */
  apiUrl?: string | undefined;
  /** A ready HTTP client (tests); wins over `apiUrl`. */
  httpClient?: twilio.RequestClient | undefined;
}

export type TwilioClient = twilio.Twilio;

export function createTwilioClient(options: TwilioClientOptions): TwilioClient {
  const httpClient =
    options.httpClient ?? (options.apiUrl ? new RedirectingRequestClient(options.apiUrl) : undefined);
  return twilio(options.accountSid, options.authToken, httpClient ? { httpClient } : { ...TWILIO_RETRY });
}

/** A readable reason from a REST failure (Twilio's code and message when it gave them). */
export function restFailure(err: unknown): { reason: string; status: number | null; permanent: boolean } {
  const e = err as { status?: unknown; code?: unknown; message?: unknown };
  const status = typeof e?.status === 'number' ? e.status : null;
  const code = typeof e?.code === 'number' || typeof e?.code === 'string' ? ` ${e.code}` : '';
  const message = typeof e?.message === 'string' && e.message ? e.message : String(err);
  const reason =
    status !== null ? `Twilio${code}: ${message} (HTTP ${status})` : `Twilio unreachable: ${message}`;
  // 4xx other than 408/429 will not succeed on a retry (bad number, bad credentials, …).
  const permanent = status !== null && status >= 400 && status < 500 && status !== 408 && status !== 429;
  return { reason: reason.slice(0, 900), status, permanent };
}
