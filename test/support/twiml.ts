// TwiML read as XML (never matched as strings): a small element tree.
import { DOMParser, type Element as XmlElement } from '@xmldom/xmldom';

export interface Node {
  name: string;
  attrs: Record<string, string>;
  /** Text directly inside the element, trimmed. */
  text: string;
  children: Node[];
}

/** Parse a TwiML document; throws when it is not well-formed or its root is not <Response>. */
export function parseTwiml(xml: string): Node {
  const errors: string[] = [];
  const doc = new DOMParser({
    onError: (level, message) => {
      if (level !== 'warning') errors.push(message);
    },
  }).parseFromString(xml, 'text/xml');
  if (errors.length > 0) throw new Error(`not well-formed TwiML: ${errors.join('; ')}\n${xml}`);
  const root = doc.documentElement;
  if (root?.nodeName !== 'Response') throw new Error(`TwiML root is not <Response>: ${xml}`);
  return toNode(root as unknown as XmlElement);
}

function toNode(el: XmlElement): Node {
  const attrs: Record<string, string> = {};
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes.item(i);
    if (a) attrs[a.name] = a.value;
  }
  const children: Node[] = [];
  let text = '';
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1) children.push(toNode(n as unknown as XmlElement));
    else if (n.nodeType === 3 || n.nodeType === 4) text += n.nodeValue ?? '';
  }
  return { name: el.nodeName, attrs, text: text.trim(), children };
}

/** Names of the verbs directly under <Response>, in order. */
export function verbs(root: Node): string[] {
  return root.children.map((c) => c.name);
}

/** Every element named `name`, depth first. */
export function all(root: Node, name: string): Node[] {
  const out: Node[] = [];
  const walk = (n: Node) => {
    if (n.name === name) out.push(n);
    n.children.forEach(walk);
  };
  walk(root);
  return out;
}

/** The one element named `name` (throws when there is none or several). */
export function only(root: Node, name: string): Node {
  const found = all(root, name);
  if (found.length !== 1) throw new Error(`expected one <${name}>, found ${found.length}`);
  return found[0]!;
}

/** The query parameters of a URL attribute. */
export function queryOf(url: string | undefined): Record<string, string> {
  if (!url) return {};
  return Object.fromEntries(new URL(url).searchParams);
}

/** The path of a URL attribute. */
export function pathOf(url: string | undefined): string {
  return url ? new URL(url).pathname : '';
}
