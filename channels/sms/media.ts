// The pictures and files a customer texts (MMS) are fetched from Twilio when the
// message comes in and kept by Switchboard as files sent in conversations are
// (channels/chat/files.ts), so that agents see them in the consoles and in their
// Slack thread, and they stay when Twilio's copy is deleted. Twilio's media links
// may require the account's credentials (HTTP basic auth, when the account
// enforces it): they are sent only to Twilio's API host (or TWILIO_API_URL's), and
// the redirect Twilio answers with (to its file host) is followed without them. A
// file that cannot be fetched in time, or is too large, stays a link to Twilio.
import { readAtMost } from '../http.js';

/** How long fetching one media item may take (Twilio waits 15 s for the webhook's answer). */
export const MEDIA_TIMEOUT_MS = 5_000;
/** Redirects followed at most (Twilio answers its API link with one, to its file host). */
const MAX_REDIRECTS = 3;
const TWILIO_API_HOST = 'api.twilio.com';

export interface MediaFetchOptions {
  accountSid: string;
  authToken: string;
  /** TWILIO_API_URL: its host is Twilio's too (a stand-in, a proxy). */
  apiUrl?: string | null | undefined;
  /** The largest file fetched (CHAT_FILE_MAX_BYTES). */
  maxBytes: number;
  timeoutMs?: number;
}

export type Fetched = { content: Buffer; type: string } | { refused: string };

export class TwilioMedia {
  readonly #o: MediaFetchOptions;
  readonly #hosts: Set<string>;
  readonly #auth: string;

  constructor(options: MediaFetchOptions) {
    this.#o = options;
    this.#hosts = new Set([TWILIO_API_HOST]);
    if (options.apiUrl) this.#hosts.add(new URL(options.apiUrl).host);
    this.#auth = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  }

  /** The bytes and type behind a media link of an incoming message, or why not. */
  async fetch(link: string): Promise<Fetched> {
    let url: URL;
    try {
      url = new URL(link);
    } catch {
      return { refused: 'not a URL' };
    }
    if (!this.#hosts.has(url.host)) return { refused: `${url.host} is not Twilio's` };
    const signal = AbortSignal.timeout(this.#o.timeoutMs ?? MEDIA_TIMEOUT_MS);
    try {
      let res = await fetch(url, { headers: { authorization: this.#auth }, redirect: 'manual', signal });
      for (let hops = 0; isRedirect(res.status); hops++) {
        const location = res.headers.get('location');
        if (!location || hops >= MAX_REDIRECTS) return { refused: 'redirected too often' };
        const next = new URL(location, url);
        // Never from https down to http (a stand-in for Twilio over plain http, in tests, stays on http).
        if (url.protocol === 'https:' && next.protocol !== 'https:')
          return { refused: 'redirected off https' };
        if (next.protocol !== 'https:' && next.protocol !== 'http:')
          return { refused: 'redirected off the web' };
        url = next;
        // Credentials go to Twilio's API host only, never to where it redirects.
        const headers: Record<string, string> = this.#hosts.has(url.host)
          ? { authorization: this.#auth }
          : {};
        res = await fetch(url, { headers, redirect: 'manual', signal });
      }
      if (!res.ok) return { refused: `answered ${res.status}` };
      const declared = Number(res.headers.get('content-length') ?? '0');
      if (declared > this.#o.maxBytes) return { refused: `larger than ${this.#o.maxBytes} bytes` };
      const content = await readAtMost(res, this.#o.maxBytes);
      if (!content) return { refused: `larger than ${this.#o.maxBytes} bytes` };
      return { content, type: res.headers.get('content-type') ?? 'application/octet-stream' };
    } catch (err) {
      return { refused: err instanceof Error ? err.message : String(err) };
    }
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** A kept media item's file name: `mms-1.jpeg` from its type. */
export function mediaFileName(index: number, type: string): string {
  const sub = type.split(';')[0]!.split('/')[1]?.trim().toLowerCase() ?? '';
  const ext = /^[a-z0-9.+-]{1,20}$/.test(sub) ? sub.replace(/^x-/, '').replace(/\+.*$/, '') : 'bin';
  return `mms-${index + 1}.${ext || 'bin'}`;
}
