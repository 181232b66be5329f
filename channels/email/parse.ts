// Raw MIME → one checked, normalized email: mailparser does the MIME (charsets,
// transfer encodings, multiparts); zod checks what comes out before anything
// downstream relies on it.

import type { AddressObject, ParsedMail } from 'mailparser';
import { simpleParser } from 'mailparser';
import { z } from 'zod';
import { ValidationError } from '../../shared/errors.js';
import { type Automated, automated } from './automated.js';
import { bareAddress } from './settings.js';
import { inboundMessageId, messageIds } from './threading.js';

/** Longest text handed on: the rest stays in the raw message. */
export const TEXT_CAP = 50_000;

const Address = z.string().min(3).max(320);

export const ParsedEmail = z.object({
  messageId: z.string().min(3).max(500),
  from: z.object({ address: Address, name: z.string().max(200).optional() }),
  /** Where the sender asks replies to go (Reply-To), when it is not From. */
  replyTo: Address.optional(),
  /** To, Cc and Delivered-To addresses, lower-cased. */
  recipients: z.array(Address),
  subject: z.string().max(1000).optional(),
  /** The whole plain text (HTML converted when there is no text part), capped. */
  text: z.string().max(TEXT_CAP),
  inReplyTo: z.array(z.string().max(1000)),
  references: z.array(z.string().max(1000)),
  attachments: z.array(
    z.object({
      name: z.string().min(1).max(500),
      type: z.string().min(1).max(200),
      size: z.number().int().nonnegative(),
      content: z.instanceof(Buffer),
    }),
  ),
});
export type ParsedEmail = z.infer<typeof ParsedEmail> & {
  /** Set for auto-replies, bounces and list mail. */
  automated: Automated | null;
};

export interface Envelope {
  /** MAIL FROM; `''` for the null sender. */
  mailFrom: string;
  rcptTo: string[];
}

export async function parseEmail(raw: Buffer, envelope?: Envelope): Promise<ParsedEmail> {
  if (raw.length === 0)
    throw new ValidationError('message: the body is empty; send the raw MIME message', 'body');
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw, {
      keepCidLinks: true,
      skipTextToHtml: true,
      skipTextLinks: true,
      maxHtmlLengthToParse: 2_000_000,
    });
  } catch (err) {
    throw new ValidationError(`message: not a MIME message (${(err as Error).message})`, 'body');
  }
  const fromEntry = flatten(mail.from)[0];
  const fromAddress = fromEntry?.address ? bareAddress(fromEntry.address) : null;
  if (!fromAddress) {
    throw new ValidationError(
      mail.headers.has('from')
        ? 'message: no usable From address'
        : 'message: not an email message (it has no From header)',
      'from',
    );
  }
  const name = fromEntry?.name?.trim().slice(0, 200);
  const replyEntry = flatten(mail.replyTo)[0];
  const replyTo = replyEntry?.address ? bareAddress(replyEntry.address) : null;
  const recipients = [
    ...flatten(mail.to),
    ...flatten(mail.cc),
    ...flatten(mail.headers.get('delivered-to') as AddressObject | AddressObject[] | undefined),
  ]
    .map((a) => (a.address ? bareAddress(a.address) : null))
    .filter((a): a is string => a !== null);
  const text = (mail.text ?? '').replace(/\r\n?/g, '\n');
  const attachments = mail.attachments
    .filter((a) => !(a.related && a.contentDisposition !== 'attachment'))
    .map((a, i) => ({
      name: (a.filename?.trim() || `attachment-${i + 1}`).slice(0, 500),
      type: (a.contentType || 'application/octet-stream').slice(0, 200),
      size: a.size,
      content: a.content,
    }));
  const contentType =
    (mail.headers.get('content-type') as { value?: string } | undefined)?.value ?? 'text/plain';
  const checked = ParsedEmail.safeParse({
    messageId: inboundMessageId(mail.messageId, raw),
    from: { address: fromAddress, ...(name ? { name } : {}) },
    ...(replyTo && replyTo !== fromAddress ? { replyTo } : {}),
    recipients: [...new Set(recipients)],
    ...(mail.subject?.trim() ? { subject: mail.subject.trim().slice(0, 1000) } : {}),
    text: text.length > TEXT_CAP ? `${text.slice(0, TEXT_CAP - 1)}…` : text,
    inReplyTo: messageIds(mail.inReplyTo).filter((id) => id.length <= 1000),
    references: messageIds(mail.references).filter((id) => id.length <= 1000),
    attachments,
  });
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new ValidationError(`message: ${issue?.path.join('.')}: ${issue?.message}`, 'body');
  }
  const header = headerReader(mail);
  return {
    ...checked.data,
    automated: automated({
      header,
      from: fromAddress,
      envelopeFrom: envelope?.mailFrom.toLowerCase(),
      contentType: contentType.toLowerCase(),
    }),
  };
}

function flatten(
  value: AddressObject | AddressObject[] | undefined,
): Array<{ address?: string; name: string }> {
  if (!value) return [];
  const out: Array<{ address?: string; name: string }> = [];
  const walk = (entries: ReadonlyArray<{ address?: string; name: string; group?: unknown }>) => {
    for (const e of entries) {
      if (Array.isArray(e.group)) walk(e.group as Array<{ address?: string; name: string }>);
      else out.push(e);
    }
  };
  for (const v of Array.isArray(value) ? value : [value]) walk(v.value);
  return out;
}

/** The first raw value of a header, unfolded (mailparser folds `List-*` into one object; we want them as sent). */
function headerReader(mail: ParsedMail): (name: string) => string | undefined {
  return (name) => {
    const line = mail.headerLines.find((l) => l.key === name)?.line;
    if (line === undefined) return undefined;
    return line
      .slice(line.indexOf(':') + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
  };
}
