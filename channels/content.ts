// What the Message record does not hold: an email's raw MIME, attachment bytes
// and the addressing a reply needs, kept per stored message id; and (a store of
// its own, chat/files.ts) the files sent in conversations, one entry per upload
// with an empty raw. In memory, bounded by a byte budget (the oldest go first).
// Replies fall back to the Store's records when an entry is gone, so losing one
// costs the raw bytes, never the thread.
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
  put(messageId: string, content: EmailContent): Promise<void>;
  get(messageId: string): Promise<EmailContent | null>;
  /** The entry's files, without reading their bytes; null when the entry is not kept. */
  files(messageId: string): Promise<FileFacts[] | null>;
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

  /** Bytes held now (raw plus kept attachments). */
  get bytes(): number {
    return this.#bytes;
  }

  async put(messageId: string, content: EmailContent): Promise<void> {
    const bytes = content.raw.length + content.attachments.reduce((n, a) => n + (a.content?.length ?? 0), 0);
    if (bytes > this.#maxBytes) return;
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
