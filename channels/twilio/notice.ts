// What Switchboard speaks or texts on its own is held under the policy's cap; the
// sentence a waiting caller hears and a waiting texter reads is the policy's
// `waitSentence`.
import { TEXT_CAP } from '../../routing/policy.js';

/** Any text Switchboard speaks or sends on its own, held under the cap. */
export function capped(text: string): string {
  return text.length > TEXT_CAP ? `${text.slice(0, TEXT_CAP - 1)}…` : text;
}
