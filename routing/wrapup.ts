// After-call work: once a call with its owner ends, the conversation stays theirs for `wrapUpSeconds` (policy)
// before it is resolved for them. The store keeps when it began and when it is up (Store `wrapUp`); this says
// whether that still stands for the conversation as it is now.
import type { Conversation } from '../shared/model.js';
import type { WrapUp } from './store/store.js';

/**
 * The after-call work standing on `conv`: the kept record while the conversation is still its owner's, nobody
 * covers it and the customer has not reached out since the call ended (a text or a new call ends it). Null
 * otherwise. Whether its time is up is the caller's to compare (`dueAt`).
 */
export function standingWrapUp(conv: Conversation, kept: WrapUp | null): WrapUp | null {
  if (!kept || conv.status !== 'assigned' || conv.ownerId === null || conv.cover !== null) return null;
  return conv.lastContactAt <= kept.since ? kept : null;
}
