// The new text of a reply: quoted history and signatures cut off, so the agent
// reads what the customer just wrote. The untrimmed text stays in the raw message.

/** "On Mon, 5 Jan 2026 at 09:00, Ana <ana@example.com> wrote:" and its translations, on one or two lines. */
const ATTRIBUTION = [
  /^(on|am|le|el|il|op|em|den|på)\s.{0,300}\b(wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu|skrev)\s*:?\s*$/i,
  /^.{0,300}<[^<>\s]+@[^<>\s]+>\s*(wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu|skrev)\s*:?\s*$/i,
  // "Am 05.01.2026 um 10:45 schrieb Support <support@example.com>:": the verb before the name.
  /^(on|am|le|el|il|op|em|den|på)\s.{0,100}\d.{0,100}\b(wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu|skrev)\s.{0,300}:\s*$/i,
];
/** Outlook's separators before the quoted message. */
const OUTLOOK_RULE = [
  /^-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original)\s*-{2,}\s*$/i,
  /^_{20,}\s*$/,
];
/**
 * Gmail's attribution in any language (Russian, Japanese, Chinese, Arabic, Hebrew, …): the address in angle
 * brackets and a colon at the end (a full-width one in Chinese and Japanese), direction marks allowed around
 * them. Taken as one only when a quoted line follows.
 */
const ANY_ATTRIBUTION = /<[^<>\s]+@[^<>\s]+>.{0,100}[:：][\s\u200e\u200f\u202a-\u202e\u2066-\u2069]*$/;
// Outlook's quoted header block: French writes a space before the colon ("De :"); Dutch, Italian, Spanish and
// Portuguese have their own words.
const HEADER_BLOCK_START = /^\*?(from|von|de|van|da)\s?:\*?\s+\S/i;
const HEADER_FIELD = (words: string) => new RegExp(`^\\*?(${words})\\s?:\\*?(\\s|$)`, 'i');
const HEADER_DATE = HEADER_FIELD(
  'sent|date|gesendet|datum|envoyé|enviado(?: el)?|enviada(?: em)?|verzonden|inviato|data',
);
const HEADER_SUBJECT = HEADER_FIELD('subject|betreff|objet|asunto|assunto|onderwerp|oggetto');
const HEADER_OTHER = HEADER_FIELD('to|cc|an|à|para|aan|a');
/** RFC 3676 signature separator, and the usual mobile sign-offs. */
const SIGNATURE = /^--\s?$/;
const SIGN_OFF =
  /^(sent from my \w+|sent from (mail|outlook) for \w+|get outlook for (ios|android)|sent from yahoo mail|envoyé de mon \w+|von meinem \w+ gesendet|enviado desde mi \w+|enviado do meu \w+|inviato da(l mio)? \w+|verzonden (vanaf|met) mijn \w+|отправлено с \w+)/i;

/**
 * A subject that says the mail forwards another ("Fwd:", Outlook's "FW:", German "WG:", French "TR:", …); a reply
 * to a forward ("Re: Fwd: …") is a reply.
 */
const FORWARD_SUBJECT = /^\s*(fwd?|wg|tr|rv|enc)\s*:/i;

/**
 * What the customer just wrote (`subject`: the mail's). A forward is read whole: the message forwarded, quoted
 * or below Outlook's header block, is what the customer wants us to read.
 */
export function newText(text: string, subject?: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (subject !== undefined && FORWARD_SUBJECT.test(subject)) return collapse(lines);
  let cut = lines.length;
  // Where the quoted message starts after an attribution line ("On … wrote:"), if the cut is one.
  let quoted = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const next = (lines[i + 1] ?? '').trim();
    if (ATTRIBUTION.some((re) => re.test(line)) && historyFollows(lines, i, line)) {
      cut = i;
      quoted = i + 1;
      break;
    }
    // Gmail wraps a long attribution over two lines.
    if (
      line.length > 0 &&
      ATTRIBUTION.some((re) => re.test(`${line} ${next}`)) &&
      /^(>|$)/.test((lines[i + 2] ?? '').trim())
    ) {
      cut = i;
      quoted = i + 2;
      break;
    }
    if (ANY_ATTRIBUTION.test(line) && quotedNext(lines, i + 1)) {
      cut = i;
      quoted = i + 1;
      break;
    }
    // Wrapped over two lines, after a blank one as Gmail writes it; a long address may be split inside its
    // angle brackets (joined again without the space).
    if (
      line.length > 0 &&
      (lines[i - 1] ?? '').trim() === '' &&
      (ANY_ATTRIBUTION.test(`${line} ${next}`) || ANY_ATTRIBUTION.test(`${line}${next}`)) &&
      quotedNext(lines, i + 2)
    ) {
      cut = i;
      quoted = i + 2;
      break;
    }
    if (OUTLOOK_RULE.some((re) => re.test(line))) {
      cut = i;
      break;
    }
    if (HEADER_BLOCK_START.test(line) && isHeaderBlock(lines, i) && !forwarded(lines, i)) {
      cut = i;
      break;
    }
    if (SIGNATURE.test(lines[i]!) || SIGN_OFF.test(line)) {
      cut = i;
      break;
    }
  }
  // The customer answered between the lines they quoted, or below them: their lines there are theirs too.
  let mine = lines.slice(0, cut);
  if (quoted >= 0) {
    const rest = lines.slice(quoted);
    const first = rest.findIndex((l) => /^\s*>/.test(l));
    const answers = first < 0 ? [] : rest.slice(first).filter((l) => !/^\s*>/.test(l));
    if (answers.some((l) => l.trim() !== '' && !SIGN_OFF.test(l.trim()) && !SIGNATURE.test(l)))
      mine = [...mine, '', ...signedOff(answers)];
  }
  // Whatever is left: drop quoted lines (an inline reply keeps its own lines between them).
  const kept = dropSignature(mine.filter((l) => !/^\s*>/.test(l)));
  const result = collapse(kept);
  return result === '' ? collapse(lines) : result;
}

/** Lines up to a signature separator or a mobile sign-off. */
function signedOff(lines: readonly string[]): string[] {
  const end = lines.findIndex((l) => SIGNATURE.test(l) || SIGN_OFF.test(l.trim()));
  return end < 0 ? [...lines] : lines.slice(0, end);
}

/**
 * Whether an attribution-shaped line at `at` heads quoted history: quoted lines follow, or nothing does, or it
 * names an address ("… Support <support@example.com> wrote:", above a quote that is not prefixed). A customer's
 * own "on the form I wrote:" above their words is theirs.
 */
function historyFollows(lines: readonly string[], at: number, line: string): boolean {
  if (/[^<>\s]+@[^<>\s]+\.[^<>\s]+/.test(line)) return true;
  return quotedNext(lines, at + 1) || lines.slice(at + 1).every((l) => l.trim() === '');
}

/** Whether the first line from `from` on that is not blank is a quoted one. */
function quotedNext(lines: readonly string[], from: number): boolean {
  const next = lines.slice(from).find((l) => l.trim() !== '');
  return next !== undefined && /^\s*>/.test(next);
}

/**
 * A `From:` line heading a quoted message's header block: a `Sent:`/`Date:` line and a `Subject:` line among the
 * lines up to the next blank one (a long `To:` or `Cc:` wraps over several). A customer's own lines shaped like
 * headers ("From: Madrid warehouse / To: Lisbon / Date: Monday") have no subject, and are theirs.
 */
function isHeaderBlock(lines: readonly string[], start: number): boolean {
  let date = false;
  let subject = false;
  for (let j = start + 1; j < Math.min(lines.length, start + 12); j++) {
    const line = lines[j]!.trim();
    if (line === '') break;
    if (HEADER_DATE.test(line)) date = true;
    else if (HEADER_SUBJECT.test(line)) subject = true;
    else if (!HEADER_OTHER.test(line) && j === start + 1) return false;
  }
  return date && subject;
}

/** A sign-off on a line of its own ("Kind regards", "Thanks,", "Cheers!"). */
const VALEDICTION =
  /^(kind regards|best regards|warm regards|regards|best wishes|best|thanks|thank you|many thanks|cheers|sincerely|yours sincerely|yours truly|mit freundlichen grüßen|viele grüße|liebe grüße|grüße|cordialement|bien à vous|saludos|un saludo|atentamente|cordiali saluti|met vriendelijke groet)[\s,.!]*$/i;

/**
 * A signature without the `-- ` separator: after a sign-off and the name below it, a few short lines (title,
 * company, phone) are dropped; a longer block (a company's: logo, title, phones, address, website, register) when
 * it reads as one, with two or more lines of contact details. The sign-off and the name stay: they read as part of
 * the reply. Lines that give a reference of the customer's (an order or customer number) are theirs, and keep
 * everything.
 */
function dropSignature(lines: string[]): string[] {
  let end = lines.length;
  while (end > 0 && lines[end - 1]!.trim() === '') end--;
  for (let i = end - 1; i >= Math.max(0, end - (LONG_SIGNATURE_LINES + 2)); i--) {
    if (!VALEDICTION.test(lines[i]!.trim())) continue;
    if (!lines.slice(0, i).some((l) => l.trim() !== '')) return lines;
    const next = lines[i + 1]?.trim() ?? '';
    const hasName = i + 1 < end && next !== '' && next.length <= 60 && !/[.?!:]$/.test(next);
    const name = hasName ? i + 2 : i + 1;
    const rest = lines.slice(name, end);
    // A P.S. is the customer's, not a signature's.
    const signature = rest.every(
      (l) => l.trim().length <= 100 && !/[?]\s*$/.test(l) && !/^\s*p\.?\s?s\.?(\s|:|$)/i.test(l),
    );
    if (!signature || rest.some((l) => CUSTOMER_REFERENCE.test(l))) return lines;
    const short = rest.length <= 6 && rest.every((l) => l.trim().length <= 80);
    const contacts = rest.filter((l) => CONTACT_LINE.test(l)).length;
    return short || (rest.length <= LONG_SIGNATURE_LINES && contacts >= 2) ? lines.slice(0, name) : lines;
  }
  return lines;
}

/** The most lines below the name read as a company's signature. */
const LONG_SIGNATURE_LINES = 16;
/** A line of contact details: a phone or fax number, an address on the web or for mail, a logo. */
const CONTACT_LINE =
  /(\+?\d[\d ()./-]{6,}\d)|\bwww\.|https?:\/\/|[^\s@]+@[^\s@]+\.\w|^\s*\[image: |^\s*(tel|phone|mobile|mob|cell|fax|m|t|e|w|p|f)\b\.?\s*:/i;
/** A reference the customer gives under their name: "Order no. 10555", "Customer no. K-88123", "Ref: AB-12". */
const CUSTOMER_REFERENCE =
  /\b(order|customer|account|invoice|ticket|booking|reservation|reference|ref|tracking|contract|bestellung|bestellnummer|auftrag|kundennummer|kunden-?nr|rechnung|commande|pedido|ordine)\s*(no\.?|nr\.?|number|num\.?|#|id)?\s*[:#]?\s*[a-z]{0,4}[-\d]*\d/i;

/** A header block the customer forwarded on purpose is content, not history. */
function forwarded(lines: readonly string[], start: number): boolean {
  for (let j = start - 1; j >= Math.max(0, start - 3); j--) {
    if (/forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado/i.test(lines[j]!))
      return true;
  }
  return false;
}

/** Trailing spaces off, runs of blank lines down to one, no blank lines at either end. */
function collapse(lines: readonly string[]): string {
  return lines
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
