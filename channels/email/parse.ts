// Raw MIME → one checked, normalized email: mailparser does the MIME (charsets,
// transfer encodings, multiparts); zod checks what comes out before anything
// downstream relies on it. Mail with no text part is read from its HTML, converted
// here (html-to-text) so that agents read rows of a table, links and quotes as the
// customer saw them.

import { compile, type DomNode, type FormatCallback } from 'html-to-text';
import { Parser } from 'htmlparser2';
import type { AddressObject, ParsedMail } from 'mailparser';
import { simpleParser } from 'mailparser';
import { z } from 'zod';
import { ValidationError } from '../../shared/errors.js';
import { type Automated, automated } from './automated.js';
import { bareAddress } from './settings.js';
import { htmlBesideText } from './structure.js';
import { inboundMessageId, messageIds } from './threading.js';

/** An inline picture of a mail's body this large or larger was pasted in (a screenshot), not its layout's. */
const PASTED_PICTURE_BYTES = 20_000;
/** A text part some senders put beside their HTML saying only that the mail is HTML. */
const PLACEHOLDER_TEXT =
  /^\s*(this is a multi-?part message in mime format|your (e-?mail|mail) (reader|client|program|software) does not (support|understand|display))/i;

/** Longest text handed on: the rest stays in the raw message. */
export const TEXT_CAP = 50_000;
/** Longest HTML converted to text; a longer one leaves the text empty (the HTML stays in the raw message). */
const HTML_CAP = 2_000_000;
/**
 * Deepest element nesting converted. Parsing is quadratic in the depth and the conversion recurses
 * once per level; real mail stays far below this (browsers flatten anything past 512 levels).
 */
const HTML_DEPTH_CAP = 1000;

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
      // HTML is converted here (htmlText), with Switchboard's options and guards.
      skipHtmlToText: true,
      maxHtmlLengthToParse: HTML_CAP,
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
  const kept = mail.attachments
    // A picture in the body's layout (a logo, an icon) is not a file the customer sent; one pasted into the body
    // (a screenshot), large beside those, is.
    .filter((a) => !(a.related && a.contentDisposition !== 'attachment' && a.size < PASTED_PICTURE_BYTES))
    .map((a, i) => ({
      cid: a.cid,
      name: (a.filename?.trim() || `attachment-${i + 1}`).slice(0, 500),
      type: (a.contentType || 'application/octet-stream').slice(0, 200),
      size: a.size,
      content: a.content,
    }));
  // The pictures kept as files, by the Content-ID the HTML shows them by (`cid:`): named where they stood.
  const pictures = new Map<string, string>();
  for (const a of kept) if (a.cid) pictures.set(a.cid.toLowerCase(), a.name);
  const text = bodyText(mail, raw, pictures);
  const attachments = kept.map(({ cid: _cid, ...a }) => a);
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
      subject: checked.data.subject,
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

/**
 * The text agents read: the text parts as sent; with none (or only blank ones), the HTML converted; an HTML part
 * beside the text part rather than an alternative of it (multipart/mixed), after the text. mailparser's own
 * conversion ran table cells together, skipped HTML inside a multipart with no text part (next to an inline logo
 * or an attached PDF), and could take a minute on 2 MB of unclosed cells. `pictures`: the names of the pictures
 * kept as files, by Content-ID.
 */
function bodyText(mail: ParsedMail, raw: Buffer, pictures: ReadonlyMap<string, string>): string {
  const text = mail.text ?? '';
  const html = typeof mail.html === 'string' ? mail.html : '';
  let out = text;
  if (!/\S/.test(text) || PLACEHOLDER_TEXT.test(text)) out = html ? htmlText(html, pictures) : text;
  else if (html && htmlBesideText(raw)) out = `${text.trimEnd()}\n\n${htmlText(html, pictures)}`;
  return out.replace(/\r\n?/g, '\n');
}

/** HTML as text: empty when it is too long or too deeply nested to convert (the raw message keeps it). */
function htmlText(raw: string, pictures: ReadonlyMap<string, string> = NO_PICTURES): string {
  // Pictures written into the HTML itself (data: URIs, a pasted screenshot) are not text: out before the size
  // is weighed. A fragment (no document of its own) that holds a pasted whole document is read whole, not only
  // that document's body.
  let html = raw
    .replace(/(\bsrc\s*=\s*)(["'])data:[^"']*\2/gi, '$1$2$2')
    .replace(/(\bsrc\s*=\s*)data:[^\s>]*/gi, '$1""');
  if (!/^\s*(<!doctype[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<(html|head|body)\b/i.test(html))
    html = html.replace(/<head\b[\s\S]*?<\/head\s*>/gi, '').replace(/<\/?(html|body)\b[^>]*>/gi, '');
  if (html.length > HTML_CAP || nestedDeeperThan(html, HTML_DEPTH_CAP)) return '';
  let text: string;
  try {
    keptPictures = pictures;
    text = convertHtml(html);
  } catch {
    return '';
  } finally {
    keptPictures = NO_PICTURES;
  }
  return text
    .split('\n')
    .map((line) => {
      // &nbsp; runs (Outlook spaces and indents with them) read as one space; an indent keeps its width.
      const indent = /^[ \u00a0]*/.exec(line)?.[0] ?? '';
      const rest = line.slice(indent.length).replace(/[ \u00a0]*\u00a0[ \u00a0]*/g, ' ');
      return `${' '.repeat(indent.length)}${rest}`.trimEnd();
    })
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Whether elements nest deeper than `limit`, as the converter's parser will build them (it stops there). */
function nestedDeeperThan(html: string, limit: number): boolean {
  let depth = 0;
  let deeper = false;
  const parser: Parser = new Parser({
    onopentag() {
      depth++;
      if (depth > limit) {
        deeper = true;
        parser.pause();
      }
    },
    onclosetag() {
      depth--;
    },
  });
  parser.write(html);
  return deeper;
}

/**
 * A table of data (an order, an invoice, a form's answers) is one line per row, its cells separated by
 * " | ", the header row kept; a table that lays out the message or a signature is read cell by cell.
 */
const table: FormatCallback = (elem, walk, builder, options) => {
  const rows = dataRows(elem);
  if (!rows) {
    builder.openBlock({ leadingLineBreaks: 1 });
    walk(elem.children, builder);
    builder.closeBlock({ trailingLineBreaks: 1 });
    return;
  }
  for (const caption of elem.children.filter((c) => c.name === 'caption')) {
    builder.openBlock({ leadingLineBreaks: options.leadingLineBreaks ?? 2 });
    walk(caption.children, builder);
    builder.closeBlock({ trailingLineBreaks: 1 });
  }
  builder.openTable();
  for (const row of rows) {
    builder.openTableRow();
    for (const cell of row) {
      builder.openTableCell();
      walk(cell.children, builder);
      builder.closeTableCell();
    }
    builder.closeTableRow();
  }
  builder.closeTable({
    leadingLineBreaks: options.leadingLineBreaks ?? 2,
    trailingLineBreaks: options.trailingLineBreaks ?? 2,
    tableToString: (cells) =>
      cells
        .map((row) => {
          const all = row.map((c) => c.text.replace(/\s*\n\s*/g, ' ').trim());
          // Empty cells at either end (spacers) go; inside a row they keep the columns in place.
          const first = all.findIndex((t) => t !== '');
          const last = all.findLastIndex((t) => t !== '');
          const texts = first < 0 ? [] : all.slice(first, last + 1);
          // "Name:" and its answer read as one: a form's label needs no separator.
          return texts
            .map((t, i) => (i === 0 ? t : `${/:$/.test(texts[i - 1]!) ? ' ' : ' | '}${t}`))
            .join('');
        })
        .filter((line) => line !== '')
        .join('\n'),
  });
};

const TABLE_PARTS = new Set(['caption', 'colgroup', 'col', 'thead', 'tbody', 'tfoot', 'tr']);
const ROW_GROUPS = new Set(['thead', 'tbody', 'tfoot']);

/**
 * The rows of a data table, or null for a layout table: one marked as presentation, one holding another
 * table or anything but rows, one with a single column, or a single row with no header (a signature:
 * logo | name and phone).
 */
function dataRows(table: DomNode): DomNode[][] | null {
  const role = String(table.attribs?.role ?? '').toLowerCase();
  if (role === 'presentation' || role === 'none') return null;
  const rows: DomNode[][] = [];
  let header = false;
  const collect = (nodes: DomNode[]): boolean => {
    for (const n of nodes) {
      if (n.type === 'text' && !/\S/.test(n.data ?? '')) continue;
      if (n.type === 'comment') continue;
      if (n.type !== 'tag' || !TABLE_PARTS.has(n.name ?? '')) return false;
      if (n.name === 'thead') header = true;
      if (ROW_GROUPS.has(n.name ?? '') && !collect(n.children)) return false;
      if (n.name !== 'tr') continue;
      const cells = n.children.filter((c) => c.type === 'tag' && (c.name === 'td' || c.name === 'th'));
      if (cells.some((c) => c.name === 'th')) header = true;
      if (cells.some(holdsTable)) return false;
      rows.push(cells);
    }
    return true;
  };
  if (!collect(table.children)) return null;
  const wide = rows.filter((r) => r.length >= 2).length;
  return wide >= (header ? 1 : 2) ? rows : null;
}

/** Whether a table sits anywhere inside (stops at the first). */
function holdsTable(node: DomNode): boolean {
  const stack = [...node.children];
  for (let n = stack.pop(); n; n = stack.pop()) {
    if (n.type !== 'tag') continue;
    if (n.name === 'table') return true;
    for (const c of n.children) stack.push(c);
  }
  return false;
}

/** A link is its text, then its address in brackets when the text says something else. */
const link: FormatCallback = (elem, walk, builder) => {
  walk(elem.children, builder);
  const href = String(elem.attribs?.href ?? '').trim();
  if (!/^((https?|ftp):\/\/|mailto:|tel:)\S/i.test(href) || insideLink(elem)) return;
  const text = visibleText(elem, href.length + 40);
  if (text === '' || (text !== null && sameAddress(text, href))) return;
  const shown = href.replace(/^mailto:/i, '');
  builder.addInline(` (${shown.length > 2000 ? `${shown.slice(0, 1999)}…` : shown})`, {
    noWordTransform: true,
  });
};

function insideLink(elem: DomNode): boolean {
  for (let p = elem.parent; p; p = p.parent) if (p.name === 'a') return true;
  return false;
}

/** The text a link shows (images by their alt text); null when it is longer than `max` or too big to read. */
function visibleText(elem: DomNode, max: number): string | null {
  let text = '';
  let visited = 0;
  const stack = [...elem.children].reverse();
  for (let n = stack.pop(); n; n = stack.pop()) {
    if (++visited > 500) return null;
    if (n.type === 'text') text += n.data ?? '';
    else if (n.name === 'img') text += String(n.attribs?.alt ?? '');
    else for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
    if (text.length > max) return null;
  }
  return text.replace(/[\s\u00a0\u200b]+/g, ' ').trim();
}

/** "www.example.com/" for http://www.example.com, "ana@example.org" for mailto:, a number as dialled. */
function sameAddress(text: string, href: string): boolean {
  if (/^tel:/i.test(href)) {
    const digits = (s: string) => s.replace(/[^\d+]/g, '');
    return digits(text) === digits(href.slice(4));
  }
  const bare = (s: string) =>
    s
      .toLowerCase()
      .replace(/^mailto:/, '')
      .replace(/^[a-z][a-z0-9+.-]*:\/\//, '')
      .replace(/^www\./, '')
      .replace(/\/+$/, '');
  return bare(text) === bare(href);
}

/**
 * The names of the pictures of the mail being converted that are kept as files, by Content-ID (a conversion runs
 * start to end, synchronously: `htmlText` sets them around it).
 */
const NO_PICTURES: ReadonlyMap<string, string> = new Map();
let keptPictures = NO_PICTURES;

/**
 * An image is its alt text; one without (a tracking pixel, a spacer), or with only the words Outlook writes for
 * itself ("A picture containing text, logo Description automatically generated"), is nothing, unless it is a
 * picture kept as a file (a pasted screenshot): then its file's name stands where the customer put it.
 */
const image: FormatCallback = (elem, _walk, builder) => {
  const written = String(elem.attribs?.alt ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  const alt = /description automatically generated\s*$/i.test(written) ? '' : written;
  const src = /^\s*cid:(.+?)\s*$/i.exec(String(elem.attribs?.src ?? ''))?.[1];
  const file = src === undefined ? undefined : keptPictures.get(src.toLowerCase());
  const shown = alt || file;
  if (shown) builder.addInline(`[image: ${shown}]`, { noWordTransform: true });
};

/**
 * Quotes and lists prefix every line they hold, once per level: past ten levels (a long thread quoted
 * in full) the prefixes stop growing, so that the work stays in proportion to the HTML. The count is of
 * the levels open around the element being converted (a conversion runs start to end, synchronously).
 */
const PREFIX_CAP = 10;
let prefixLevels = 0;
const prefixing =
  (format: string): FormatCallback =>
  (elem, walk, builder, options) => {
    if (prefixLevels >= PREFIX_CAP) {
      builder.openBlock({ leadingLineBreaks: 1 });
      for (const child of elem.children) {
        if (child.name !== 'li') {
          walk([child], builder);
          continue;
        }
        builder.openBlock({ leadingLineBreaks: 1 });
        walk(child.children, builder);
        builder.closeBlock({ trailingLineBreaks: 1 });
      }
      builder.closeBlock({ trailingLineBreaks: 1 });
      return;
    }
    prefixLevels++;
    try {
      builder.options.formatters[format]!(elem, walk, builder, options);
    } finally {
      prefixLevels--;
    }
  };

/** A block after a blank line, also when it starts with a block of its own (whose spacing would win). */
const apart: FormatCallback = (elem, walk, builder) => {
  builder.openBlock({ leadingLineBreaks: 2 });
  walk(elem.children, builder);
  builder.closeBlock({ trailingLineBreaks: 1, blockTransform: (text) => `\n${text}` });
};

const lineBlock = { format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } };

const convertHtml = compile({
  wordwrap: false,
  limits: { maxDepth: HTML_DEPTH_CAP },
  formatters: {
    emailTable: table,
    emailLink: link,
    emailImage: image,
    emailApart: apart,
    emailQuote: prefixing('blockquote'),
    emailBullets: prefixing('unorderedList'),
    emailNumbers: prefixing('orderedList'),
  },
  selectors: [
    { selector: 'blockquote', format: 'emailQuote' },
    { selector: 'ul', format: 'emailBullets' },
    { selector: 'ol', format: 'emailNumbers' },
    { selector: 'a', format: 'emailLink' },
    { selector: 'img', format: 'emailImage' },
    { selector: 'table', format: 'emailTable' },
    // Read in a layout table; a data table reads its cells itself.
    { selector: 'tr', ...lineBlock },
    { selector: 'td', ...lineBlock },
    { selector: 'th', ...lineBlock },
    { selector: 'caption', ...lineBlock },
    // Outlook writes each line as a paragraph without margins (an empty one, `&nbsp;`, is a blank line).
    ...[
      'p[class^="Mso"]',
      'p[style*="margin:0"i]',
      'p[style*="margin: 0"i]',
      'p[style*="margin-bottom:0"i]',
      'p[style*="margin-bottom: 0"i]',
    ].map((selector) => ({ selector, ...lineBlock })),
    // The quoted message starts on a line of its own, apart from the reply, so that trim.ts finds its
    // attribution ("On … wrote:") and header block.
    ...['div.gmail_quote', 'div.yahoo_quoted', 'div.moz-cite-prefix', 'div#divRplyFwdMsg'].map(
      (selector) => ({
        selector,
        format: 'emailApart',
      }),
    ),
    // Outlook's rule above the quoted message, as its text part writes it (trim.ts cuts there).
    ...['div#appendonsend + hr', 'hr[tabindex="-1"]'].map((selector) => ({
      selector,
      format: 'blockString',
      options: { string: '_'.repeat(32), leadingLineBreaks: 2, trailingLineBreaks: 2 },
    })),
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((h) => ({ selector: h, options: { uppercase: false } })),
    ...['head', 'style', 'script', 'template', 'title'].map((t) => ({ selector: t, format: 'skip' })),
    // Hidden text (a preview line, a tracking note) is not what the customer saw.
    { selector: '[style*="display:none"i]', format: 'skip' },
    { selector: '[style*="display: none"i]', format: 'skip' },
  ],
});
