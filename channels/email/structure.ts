// The shape of a MIME message's body parts, read from the raw message without
// decoding anything: which text and HTML parts it holds and whether they are
// alternatives of one another. mailparser reads the parts themselves; it keeps
// its tree to itself, and only the tree tells a text part beside an HTML
// alternative of it (multipart/alternative) from a text part and an HTML part
// that each say something of their own (side by side in multipart/mixed).

/** Deepest nesting of multiparts looked into, and most parts read: real mail stays far below both. */
const DEPTH_CAP = 20;
const PARTS_CAP = 500;

interface Part {
  type: string;
  /** Content-Disposition's type, lower-cased; '' without one. */
  disposition: string;
  children: Part[];
}

/** A part's headers and body, its headers unfolded. */
function split(text: string): { headers: string; body: string } {
  const end = /\r?\n\r?\n/.exec(text);
  if (!end) return { headers: text.replace(/\r?\n[ \t]+/g, ' '), body: '' };
  return {
    headers: text.slice(0, end.index).replace(/\r?\n[ \t]+/g, ' '),
    body: text.slice(end.index + end[0].length),
  };
}

function header(headers: string, name: string): string {
  const match = new RegExp(`^${name}[ \\t]*:[ \\t]*([^;\\r\\n]*)`, 'im').exec(headers);
  return (match?.[1] ?? '').trim().toLowerCase();
}

function parse(text: string, depth: number, count: { parts: number }, parentType: string): Part {
  count.parts++;
  const { headers, body } = split(text);
  const type =
    header(headers, 'content-type') || (parentType === 'multipart/digest' ? 'message/rfc822' : 'text/plain');
  const part: Part = { type, disposition: header(headers, 'content-disposition'), children: [] };
  if (!type.startsWith('multipart/') || depth >= DEPTH_CAP) return part;
  const boundary = /boundary[ \t]*=[ \t]*(?:"([^"]+)"|([^;\s]+))/i.exec(headers);
  const name = boundary?.[1] ?? boundary?.[2];
  if (!name) return part;
  const delimiter = new RegExp(`^--${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(--)?[ \t]*\r?$`, 'gm');
  let from = -1;
  for (const line of body.matchAll(delimiter)) {
    if (from >= 0) {
      const content = body.slice(from, line.index).replace(/\r?\n$/, '');
      part.children.push(parse(content, depth + 1, count, type));
      if (count.parts >= PARTS_CAP) break;
    }
    if (line[1]) break;
    from = line.index + line[0].length + 1;
  }
  return part;
}

/**
 * Whether the message's HTML says something its text part does not: an HTML body part with no
 * multipart/alternative around it, beside a text part (both shown inline, not attached), and no HTML part that
 * is an alternative of a text part (reading that one too would say the text twice).
 */
export function htmlBesideText(raw: Buffer): boolean {
  const root = parse(raw.toString('latin1'), 0, { parts: 0 }, '');
  let separateHtml = false;
  let alternativeHtml = false;
  let text = false;
  const walk = (part: Part, inAlternative: boolean) => {
    if (part.disposition === 'attachment') return;
    if (part.type === 'text/html') {
      if (inAlternative) alternativeHtml = true;
      else separateHtml = true;
    } else if (part.type === 'text/plain') text = true;
    for (const child of part.children) walk(child, inAlternative || part.type === 'multipart/alternative');
  };
  walk(root, false);
  return separateHtml && text && !alternativeHtml;
}
