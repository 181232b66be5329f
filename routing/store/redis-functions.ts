// The Redis Functions of Switchboard's versions. Every version of the scripts is
// a set of function libraries named by their text (`sb_<verb>_<sha>`), so each
// deployment of changed scripts adds libraries and nothing took the old ones
// away: Redis kept them (in memory, in every snapshot and replica) for good.
//
// Each version now also loads a marker library, `sb__v_<version>`, before its
// own libraries: a function answering when a process of that version last said
// it runs and which libraries it uses. Processes say so again every hour. Any
// process then deletes what no version that ran within the last day uses: the
// libraries of versions that stopped (and of versions from before markers), and
// their markers. A library deleted while a process still uses it costs that
// process one call by EVAL and a reload (redis-connection.ts `runFunction`).
//
// The markers live with the functions, on the node that runs them, whatever
// the store's key prefix: every deployment on a Redis (or a cluster node) sees
// every other's, without keys of their own.
import { createHash } from 'node:crypto';
import { ErrorReply } from 'redis';
import type { RedisClient } from './redis-connection.js';

export const MARKER_PREFIX = 'sb__v_';
/** How often a process says its version runs, and looks for libraries nobody uses. */
export const FUNCTIONS_HEARTBEAT_MS = 3600_000;
/** A version not heard of for this long is gone: its libraries go. */
export const FUNCTIONS_KEEP_MS = 24 * 3600_000;

/** The marker library of the version that uses `libraries`, saying it ran at `at`. */
export function versionMarker(libraries: readonly string[], at: number): { name: string; code: string } {
  const sorted = [...libraries].sort();
  const version = createHash('sha1').update(sorted.join('\n')).digest('hex').slice(0, 16);
  const name = `${MARKER_PREFIX}${version}`;
  const list = sorted.map((l) => `'${l}'`).join(', ');
  const code = [
    `#!lua name=${name}`,
    `local AT, LIBRARIES = ${Math.floor(at)}, { ${list} }`,
    'redis.register_function{',
    `  function_name = '${name}',`,
    '  callback = function()',
    '    local out = { tostring(AT) }',
    '    for i, library in ipairs(LIBRARIES) do out[i + 1] = library end',
    '    return out',
    '  end,',
    "  flags = { 'no-writes' },",
    '}',
  ].join('\n');
  return { name, code };
}

/** Load (or renew) this version's marker: before its libraries, so that no prune takes them meanwhile. */
export async function markVersion(
  client: RedisClient,
  libraries: readonly string[],
  now: number,
): Promise<void> {
  await client.sendCommand(['FUNCTION', 'LOAD', 'REPLACE', versionMarker(libraries, now).code]);
}

/** The names of Switchboard's libraries on this Redis (markers included). */
export async function listLibraries(client: RedisClient): Promise<string[]> {
  const listed = await client.sendCommand(['FUNCTION', 'LIST', 'LIBRARYNAME', 'sb_*']);
  const names: string[] = [];
  for (const entry of Array.isArray(listed) ? listed : []) {
    // RESP2: a flat list of field, value; RESP3: a map.
    const name = Array.isArray(entry)
      ? entry[entry.indexOf('library_name') + 1]
      : (entry as Record<string, unknown> | null)?.library_name;
    if (typeof name === 'string') names.push(name);
  }
  return names;
}

/**
 * Delete the libraries no version that ran within `keepMs` of `now` uses (`ours` and our marker always stay),
 * and the markers of the versions that did not. Answers the names deleted. A marker Redis cannot run is a
 * version gone; a marker that gets no answer stops the prune before anything is deleted.
 */
export async function pruneLibraries(
  client: RedisClient,
  ours: readonly string[],
  now: number,
  keepMs: number = FUNCTIONS_KEEP_MS,
): Promise<string[]> {
  const names = await listLibraries(client);
  const used = new Set(ours);
  const mine = versionMarker(ours, now).name;
  const gone: string[] = [];
  for (const marker of names.filter((n) => n.startsWith(MARKER_PREFIX) && n !== mine)) {
    // A marker Redis refuses to run is no version's; no answer (a timeout, Redis away) stops the prune.
    const said: unknown = await client.sendCommand(['FCALL', marker, '0']).catch((err: unknown) => {
      if (err instanceof ErrorReply) return null;
      throw err;
    });
    const list: unknown[] = Array.isArray(said) ? said : [];
    const at = list.length > 0 ? Number(list[0]) : Number.NaN;
    if (Number.isFinite(at) && at >= now - keepMs) {
      for (const library of list.slice(1)) if (typeof library === 'string') used.add(library);
    } else gone.push(marker);
  }
  for (const name of names) if (!name.startsWith(MARKER_PREFIX) && !used.has(name)) gone.push(name);
  const deleted: string[] = [];
  for (const name of gone) {
    // Another process may have deleted it first.
    const ok = await client.sendCommand(['FUNCTION', 'DELETE', name]).then(
      () => true,
      () => false,
    );
    if (ok) deleted.push(name);
  }
  return deleted;
}
