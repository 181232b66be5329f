// The team's live view (channels/team.ts) as GET /api/live and Slack's `/switchboard team` read it: at most
// once per LIVE_MAX_AGE_MS in this process, however many pages watch.
import { type LiveView, readLiveView } from '../channels/team.js';
import type { Router } from '../routing/router.js';
import type { Channel } from '../shared/model.js';
import { type FiguresCache, Reused } from './figures.js';

/** How long a process reuses the view it read. */
export const LIVE_MAX_AGE_MS = 1000;

export class LiveCache {
  readonly #reused: Reused<LiveView>;

  constructor(
    router: Router,
    figures: FiguresCache,
    channelsOn: ReadonlySet<Channel>,
    maxAgeMs = LIVE_MAX_AGE_MS,
  ) {
    this.#reused = new Reused(
      (at) =>
        readLiveView(
          router.store,
          () => figures.get(),
          router.policy.hours ?? null,
          at,
          channelsOn,
          () => figures.team(router.policy.serviceLevel),
          router.policy,
          () => router.wrapUps(),
        ),
      () => router.clock.now(),
      maxAgeMs,
    );
  }

  get(): Promise<LiveView> {
    return this.#reused.get();
  }
}
