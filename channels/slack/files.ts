// Files an agent shares in a customer's thread: read from Slack (`url_private_download`, with the bot token;
// the app needs the `files:read` scope), so that they go to the customer with the reply (chat/files.ts keeps
// them). The bot token goes only to Slack's file hosts (or the host of SLACK_API_URL: GovSlack, a proxy, a
// stand-in), never to another address an event might name.
import { z } from 'zod';
import { sizeText } from '../chat/files.js';
import { readAtMost } from '../http.js';
import type { SlackOutbox } from './outbox.js';
import type { MessageEvent } from './payloads.js';
import type { SlackRef } from './state.js';

export type SharedFile = NonNullable<MessageEvent['files']>[number];

/** Where Slack serves files. */
const FILE_HOSTS = new Set(['files.slack.com', 'files.slack-gov.com']);

export interface FileRead {
  name: string;
  type: string;
  content: Buffer;
}

/** `link` as a URL when it is on Slack's file hosts (https) or SLACK_API_URL's host, else null: nothing of ours goes elsewhere. */
function onSlackHost(link: string, apiUrl: string | null): URL | null {
  if (!URL.canParse(link)) return null;
  const url = new URL(link);
  const own = apiUrl ? new URL(apiUrl).host : null;
  return (url.protocol === 'https:' && FILE_HOSTS.has(url.hostname)) || url.host === own ? url : null;
}

/** A shared file's name, as the agent is told of it. */
export const sharedFileName = (file: SharedFile) => file.name ?? file.title ?? 'file';

/** The file's bytes, or why they could not be read (words for the agent). */
export async function readSlackFile(
  file: SharedFile,
  options: { token: string; apiUrl: string | null; maxBytes: number; timeoutMs?: number },
): Promise<FileRead | { error: string }> {
  const name = sharedFileName(file);
  const tooLarge = { error: `it is larger than ${sizeText(options.maxBytes)}` };
  const type = file.mimetype ?? 'application/octet-stream';
  if (file.size !== undefined && file.size > options.maxBytes) return tooLarge;
  const link = file.url_private_download ?? file.url_private;
  if (!link || !URL.canParse(link)) return { error: 'Slack gave no link to it' };
  const url = onSlackHost(link, options.apiUrl);
  if (!url) return { error: 'Slack gave a link outside its file hosts' };
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { Authorization: `Bearer ${options.token}` },
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
  } catch {
    return { error: 'Slack could not be reached for it; share it again' };
  }
  // Without the scope Slack answers with its sign-in page, not an error.
  const answered = res.headers.get('content-type') ?? '';
  if (!res.ok || (answered.startsWith('text/html') && !type.startsWith('text/html'))) {
    await res.body?.cancel();
    return { error: 'Slack did not hand it over (the app needs the files:read scope)' };
  }
  const content = await readAtMost(res, options.maxBytes);
  return content ? { name, type, content } : tooLarge;
}

// ---------------------------------------------------------------- pictures to a thread

/** Pictures Slack previews in a thread: a customer's screenshot is shared there (besides its link). */
export const PREVIEWED_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
/** The largest picture shared for a preview (a larger one stays a link). */
export const PREVIEW_MAX_BYTES = 10 * 1024 * 1024;

const UploadUrl = z.object({ upload_url: z.string().url(), file_id: z.string().min(1).max(64) });

/**
 * Share a picture in a thread through Slack's upload flow (the app needs the `files:write` scope):
 * `files.getUploadURLExternal`, the bytes POSTed to the URL it gives (only to Slack's file hosts or
 * SLACK_API_URL's host), then `files.completeUploadExternal` into the thread. Slack's refusal throws (its
 * error code is `slackErrorCode`'s); so does an upload URL elsewhere.
 */
export async function sharePicture(
  outbox: SlackOutbox,
  thread: SlackRef,
  file: { name: string; content: Buffer },
  options: { apiUrl: string | null; timeoutMs?: number },
): Promise<void> {
  const key = { key: `channel:${thread.channel}` };
  const asked = UploadUrl.parse(
    await outbox.call(
      'files.getUploadURLExternal',
      { filename: file.name, length: file.content.length },
      key,
    ),
  );
  const url = onSlackHost(asked.upload_url, options.apiUrl);
  if (!url)
    throw new Error(`Slack gave an upload URL outside its file hosts: ${new URL(asked.upload_url).host}`);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: new Uint8Array(file.content),
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`Slack's upload URL answered ${res.status}`);
  await outbox.call(
    'files.completeUploadExternal',
    {
      files: JSON.stringify([{ id: asked.file_id, title: file.name }]),
      channel_id: thread.channel,
      thread_ts: thread.ts,
    },
    key,
  );
}
