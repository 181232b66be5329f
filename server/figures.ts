// Current figures for /api/stats and /rights, computed from the store (the source
// of truth shared by every process).

import type { Store } from '../routing/store/store.js';
import type { Conversation, CustomerPromise } from '../shared/model.js';

export interface Figures {
  waiting: number;
  waitingByChannel: Record<string, number>;
  agents: Record<string, number>;
  timeToHumanSeconds: { p50: number | null; p90: number | null; samples: number };
  ownershipChanges: { total: number; byReason: Record<string, number> };
  promises: { kept: number; broken: number; open: number; keptShare: number | null };
  conversations: { queued: number; assigned: number; resolved: number; abandoned: number };
  since: number;
}

/** Figures over conversations created since `since` (default: the last 24 hours). */
export async function computeFigures(
  store: Store,
  now: number,
  since = now - 24 * 3600 * 1000,
): Promise<Figures> {
  const stats = await store.stats();
  const all = await store.listConversations({ limit: 20_000 });
  const recent = all.filter((c) => c.createdAt >= since);
  const waits = recent
    .filter((c): c is Conversation & { firstAssignedAt: number } => c.firstAssignedAt !== null)
    .map((c) => (c.firstAssignedAt - c.createdAt) / 1000)
    .sort((a, b) => a - b);
  const byReason: Record<string, number> = {};
  let changes = 0;
  const counts = { queued: 0, assigned: 0, resolved: 0, abandoned: 0 };
  const promiseLists: CustomerPromise[][] = [];
  for (const c of recent) {
    counts[c.status]++;
    for (const move of c.ownership) {
      if (move.from !== null && move.from !== move.to) {
        changes++;
        byReason[move.reason] = (byReason[move.reason] ?? 0) + 1;
      }
    }
    promiseLists.push(await store.listPromises(c.id));
  }
  let kept = 0;
  let broken = 0;
  let open = 0;
  for (const p of promiseLists.flat()) {
    if (p.state === 'kept') kept++;
    else if (p.state === 'broken') broken++;
    else if (p.state === 'open') open++;
  }
  return {
    waiting: stats.waiting,
    waitingByChannel: stats.waitingByChannel,
    agents: stats.agentsByStatus,
    timeToHumanSeconds: { p50: percentile(waits, 0.5), p90: percentile(waits, 0.9), samples: waits.length },
    ownershipChanges: { total: changes, byReason },
    promises: { kept, broken, open, keptShare: kept + broken > 0 ? kept / (kept + broken) : null },
    conversations: counts,
    since,
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return Math.round(sorted[rank]! * 10) / 10;
}
