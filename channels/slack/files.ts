// Files an agent shares in a customer's thread: read from Slack (`url_private_download`, with the bot token;
// the app needs the `files:read` scope), so that they go to the customer with the reply (chat/files.ts keeps
// them). The bot token goes only to Slack's file hosts (or the host of SLACK_API_URL: GovSlack, a proxy, a
// stand-in), never to another address an event might name.
import { sizeText } from '../chat/files.js';
import type { MessageEvent } from './payloads.js';

export type SharedFile = NonNullable<MessageEvent['files']>[number];

/** Where Slack serves files. */
const FILE_HOSTS = new Set(['files.slack.com', 'files.slack-gov.com']);

export interface FileRead {
  name: string;
  type: string;
  content: Buffer;
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
  let url: URL;
  try {
    url = new URL(link ?? '');
  } catch {
    return { error: 'Slack gave no link to it' };
  }
  const own = options.apiUrl ? new URL(options.apiUrl).host : null;
  if (!(url.protocol === 'https:' && FILE_HOSTS.has(url.hostname)) && url.host !== own)
    return { error: 'Slack gave a link outside its file hosts' };
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
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.length;
    if (size > options.maxBytes) {
      await res.body?.cancel();
      return tooLarge;
    }
    chunks.push(Buffer.from(chunk));
  }
  return { name, type, content: Buffer.concat(chunks) };
}
