// What the Message record does not hold: an email's raw MIME, attachment bytes
// and the addressing a reply needs, kept per stored message id; and (a store of
// its own, chat/files.ts) the files sent in conversations, one entry per upload
// with an empty raw. In memory, bounded by a byte budget (the oldest go first).
// Replies fall back to the Store's records when an entry is gone, so losing one
// costs the raw bytes, never the thread. A mail too large to keep at all is kept
// as what a reply needs only: an entry with an empty raw and no bytes (0 held),
// which tells "Show original" it was never kept.
import type { Attachment } from '../shared/model.js';

export interface KeptAttachment {
  name: string;
  type: string;
  size: number;
  /** The bytes; null when the attachment was larger than the per-attachment cap. */
  content: Buffer | null;
}

export interface EmailContent {
  /** The message as received. */
  raw: Buffer;
  /** Its Message-ID, angle brackets included. */
  messageId: string;
  /** Where a reply goes: the From address, lower-cased. */
  replyTo: string;
  /** The References of the message (its thread before it). */
  references: string[];
  attachments: KeptAttachment[];
}

/** The bytes an entry holds against the budget: its raw message and its kept attachments. */
export function entryBytes(content: EmailContent): number {
  return content.raw.length + content.attachments.reduce((n, a) => n + (a.content?.length ?? 0), 0);
}

/** The bytes of a file a message carries, read by its link, or null when no longer kept. */
export type FileBytes = (file: Attachment) => Promise<Buffer | null>;

/** An entry's files without their bytes: `kept` when the bytes are there. */
export interface FileFacts {
  name: string;
  type: string;
  size: number;
  kept: boolean;
}

export interface ContentStore {
  /** The bytes it keeps in all: an entry larger is not kept. */
  readonly maxBytes: number;
  /** Keep an entry (dropping the oldest to fit): false when it is larger than the whole budget, and not kept. */
  put(messageId: string, content: EmailContent): Promise<boolean>;
  get(messageId: string): Promise<EmailContent | null>;
  /** The entry's files, without reading their bytes; null when the entry is not kept. */
  files(messageId: string): Promise<FileFacts[] | null>;
  /** The bytes each of these entries holds (0: an entry without any, such as a mail's addressing only); null when not kept. */
  held(entryIds: readonly string[]): Promise<Array<number | null>>;
  /** Forget these entries (those not kept are passed over): how many were kept. */
  delete(entryIds: readonly string[]): Promise<number>;
}

const factsOf = (a: KeptAttachment): FileFacts => ({
  name: a.name,
  type: a.type,
  size: a.size,
  kept: a.content !== null,
});

export class MemoryContentStore implements ContentStore {
  readonly #entries = new Map<string, { content: EmailContent; bytes: number }>();
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** Bytes held now (raw plus kept attachments). */
  get bytes(): number {
    return this.#bytes;
  }

  async put(messageId: string, content: EmailContent): Promise<boolean> {
    const bytes = entryBytes(content);
    if (bytes > this.#maxBytes) return false;
    const prior = this.#entries.get(messageId);
    if (prior) {
      this.#entries.delete(messageId);
      this.#bytes -= prior.bytes;
    }
    // Maps iterate in insertion order: the first entries are the oldest.
    for (const [id, entry] of this.#entries) {
      if (this.#bytes + bytes <= this.#maxBytes) break;
      this.#entries.delete(id);
      this.#bytes -= entry.bytes;
    }
    this.#entries.set(messageId, { content, bytes });
    this.#bytes += bytes;
    return true;
  }

  async held(entryIds: readonly string[]): Promise<Array<number | null>> {
    return entryIds.map((id) => this.#entries.get(id)?.bytes ?? null);
  }

  async get(messageId: string): Promise<EmailContent | null> {
    return this.#entries.get(messageId)?.content ?? null;
  }

  async files(messageId: string): Promise<FileFacts[] | null> {
    return this.#entries.get(messageId)?.content.attachments.map(factsOf) ?? null;
  }

  async delete(entryIds: readonly string[]): Promise<number> {
    let deleted = 0;
    for (const id of entryIds) {
      const entry = this.#entries.get(id);
      if (!entry) continue;
      this.#entries.delete(id);
      this.#bytes -= entry.bytes;
      deleted++;
    }
    return deleted;
  }
}
