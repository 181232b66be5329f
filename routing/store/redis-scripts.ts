// The Redis store's Lua scripts, read once per process: `lua/<verb>-<N>.lua`
// (N: how many keys it declares), with its `--!include <file>` lines replaced by
// `lua/includes/<file>` (`keys.lua` is the key builder, generated from
// redis-keys.ts).
//
// Redis runs a script's whole text on every call, so every helper it defines is
// built again each time: an include of 150 small functions costs as much as the
// decision itself. The loader therefore keeps, of the included text, only the
// top-level definitions the script uses (directly or through another kept one),
// in their order. Include files are written for that: each top-level definition
// starts at column 0 with `local` (or `K.` in the key builder), its body is
// indented, its closing `end` or `}` is at column 0, and a comment at column 0
// belongs to the definition after it.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { luaKeyBuilder } from './redis-keys.js';

export interface Script {
  /** The verb: `route`, `claimNext`, … */
  name: string;
  file: string;
  /** How many keys it declares (KEYS); the others it reaches are in the same hash slot. */
  keys: number;
  source: string;
  sha: string;
  /**
   * The same script as a Redis Function (Redis 7): a library named `fn` (from the text's SHA, so that
   * processes of two versions never meet each other's) registering one function, also named `fn`. Its
   * helpers are built once, when it is loaded, not on every call; what a run keeps (record caches, the key
   * base, …) starts afresh on every call.
   */
  library: string;
  fn: string;
}

const DIR = new URL('./lua/', import.meta.url);
const FILE = /^([A-Za-z]+)-(\d+)\.lua$/;
const INCLUDE = /^--!include\s+(\S+)\s*$/;
/**
 * Marks (on a line of its own, among the comment lines above it) a top-level value of an include that a
 * function library builds once and keeps across calls: a constant no script changes (the error codes, the
 * channels), or a cache of what follows from its key alone, never from the data or the key base (a line's
 * channel and skills from the line's name).
 */
const KEEP = '--!keep';

let loaded: Map<string, Script> | null = null;

/** Every script by verb, read and assembled once per process. */
export function redisScripts(): Map<string, Script> {
  if (loaded) return loaded;
  const out = new Map<string, Script>();
  for (const file of readdirSync(DIR).sort()) {
    const match = FILE.exec(file);
    if (!match) continue;
    const parts = assembleParts(file, readFileSync(new URL(file, DIR), 'utf8'));
    const source = sourceOf(parts);
    const sha = createHash('sha1').update(source).digest('hex');
    const fn = `sb_${match[1]!}_${sha.slice(0, 16)}`;
    const library = libraryOf(fn, parts);
    out.set(match[1]!, { name: match[1]!, file, keys: Number(match[2]), source, sha, library, fn });
  }
  loaded = out;
  return out;
}

function includeText(name: string): string {
  return name === 'keys.lua'
    ? `local P = ARGV[1]\n${luaKeyBuilder()}`
    : readFileSync(new URL(`includes/${name}`, DIR), 'utf8');
}

interface Chunk {
  text: string;
  defines: string[];
  refs: Set<string>;
}

/** The script's header, the definitions it uses from its includes, then its body. */
export function assemble(file: string, text: string): string {
  return sourceOf(assembleParts(file, text));
}

/** A script's text as EVAL runs it: its header, the definitions it uses, its body. */
function sourceOf(parts: Parts): string {
  return [...parts.header, ...parts.kept, ...parts.body].join('\n');
}

interface Parts {
  /** The comment that names KEYS, ARGV and the result. */
  header: string[];
  /** The top-level definitions kept from the includes, in order. */
  kept: string[];
  /** What the script itself runs. */
  body: string[];
}

/**
 * A script as a function library: its header, `ARGV` and `KEYS` (set on every call), its functions defined
 * once, and every other top-level value of its includes (`local NAME = <not a function>`: the key base,
 * records loaded, caches of one call) declared once and given its value again at the start of every
 * call, so that nothing of one call is seen by the next. Kept across calls: `K` (the key builder's functions,
 * which read the key base from `P`) and the values marked `--!keep` (constants, and caches of pure functions
 * of their key).
 */
function libraryOf(fn: string, parts: Parts): string {
  const defined: string[] = [];
  const reset: string[] = [];
  for (const text of parts.kept) {
    const lines = text.split('\n');
    const at = lines.findIndex((l) => !l.startsWith('--'));
    const value = /^local\s+(\w+)\s*=\s*(?!function\b)/.exec(lines[at] ?? '');
    if (!value || value[1] === 'K' || lines.slice(0, at).includes(KEEP)) {
      defined.push(text);
      continue;
    }
    defined.push(`local ${value[1]}`);
    reset.push(
      [...lines.slice(0, at), lines[at]!.replace(/^local\s+/, ''), ...lines.slice(at + 1)].join('\n'),
    );
  }
  return [
    `#!lua name=${fn}`,
    ...parts.header,
    'local ARGV, KEYS',
    ...defined,
    'local function __start(keys, args)',
    '  KEYS, ARGV = keys, args',
    ...reset,
    'end',
    `redis.register_function('${fn}', function(keys, args)`,
    '  __start(keys, args)',
    ...parts.body,
    'end)',
  ].join('\n');
}

function assembleParts(file: string, text: string): Parts {
  const lines = text.split('\n');
  const first = lines.findIndex((l) => INCLUDE.test(l));
  if (first < 0) return { header: [], kept: [], body: lines };
  const header: string[] = lines.slice(0, first);
  const body: string[] = [];
  const chunks: Chunk[] = [];
  const seen = new Set<string>();
  for (const line of lines.slice(first)) {
    const include = INCLUDE.exec(line);
    if (!include) {
      body.push(line);
      continue;
    }
    if (body.some((l) => l.trim() !== '')) throw new Error(`${file}: includes must come before the body`);
    if (seen.has(include[1]!)) continue;
    seen.add(include[1]!);
    chunks.push(...split(includeText(include[1]!)));
  }

  const definedAt = new Map<string, number>();
  chunks.forEach((chunk, i) => {
    for (const name of chunk.defines) {
      if (definedAt.has(name)) throw new Error(`${file}: ${name} is defined twice in its includes`);
      definedAt.set(name, i);
    }
  });
  const keep = new Set<number>();
  const wanted = [...references(body.join('\n'))];
  while (wanted.length > 0) {
    const at = definedAt.get(wanted.pop()!);
    if (at === undefined || keep.has(at)) continue;
    keep.add(at);
    wanted.push(...chunks[at]!.refs);
  }
  const kept: string[] = [];
  chunks.forEach((chunk, i) => {
    if (!keep.has(i)) return;
    // A local is visible only after its definition: a use before it would reach for a global.
    for (const ref of chunk.refs) {
      const at = definedAt.get(ref);
      if (at !== undefined && at > i)
        throw new Error(`${file}: ${chunk.defines.join(', ')} uses ${ref} before it is defined`);
    }
    kept.push(chunk.text);
  });
  return { header, kept, body };
}

/** Top-level definitions of an include, each with the comment lines before it. */
function split(text: string): Chunk[] {
  const chunks: Chunk[] = [];
  let pending: string[] = [];
  let current: string[] | null = null;
  const close = () => {
    if (current) chunks.push(chunkOf(current.join('\n')));
    current = null;
  };
  for (const line of text.split('\n')) {
    if (/^(local\s|K\.\w+\s*=)/.test(line)) {
      close();
      current = [...pending, line];
      pending = [];
    } else if (/^\s/.test(line) || /^(end|\}|\))/.test(line)) {
      if (current) current.push(line);
      else if (line.trim() !== '') throw new Error(`include: a line outside any definition: ${line}`);
    } else if (line.startsWith('--')) {
      close();
      pending.push(line);
    } else if (line.trim() === '') {
      close();
      pending = [];
    } else {
      throw new Error(`include: a top-level line that is not a definition: ${line}`);
    }
  }
  close();
  return chunks;
}

function chunkOf(text: string): Chunk {
  const code = stripped(text);
  const defines: string[] = [];
  for (const line of code.split('\n')) {
    const fn = /^local\s+function\s+(\w+)/.exec(line);
    const vars = /^local\s+([\w\s,]+?)\s*=/.exec(line);
    const key = /^(K\.\w+)\s*=/.exec(line);
    if (fn) defines.push(fn[1]!);
    else if (vars) defines.push(...vars[1]!.split(',').map((s) => s.trim()));
    else if (key) defines.push(key[1]!);
  }
  const refs = references(code);
  for (const name of defines) refs.delete(name);
  return { text, defines, refs };
}

/** Names a piece of Lua uses: identifiers and `K.<key>` (in code, not in strings or comments). */
function references(lua: string): Set<string> {
  const code = stripped(lua);
  const out = new Set<string>();
  for (const m of code.matchAll(/\bK\.(\w+)/g)) out.add(`K.${m[1]}`);
  // Not a field: `a.load` is no use of `load`.
  for (const m of code.matchAll(/(?<![.:\w])[A-Za-z_]\w*/g)) out.add(m[0]);
  return out;
}

function stripped(lua: string): string {
  return lua
    .replace(/--\[\[[\s\S]*?\]\]/g, '')
    .replace(/'(?:[^'\\\n]|\\.)*'/g, "''")
    .replace(/"(?:[^"\\\n]|\\.)*"/g, '""')
    .replace(/--.*$/gm, '');
}
