// The one honest sentence a waiting caller hears and a waiting texter reads: the
// place in line and the pessimistic wait, from the policy's length-capped texts.
import { humanDuration } from '../../routing/estimate.js';
import { fillText, type RoutingPolicy, TEXT_CAP } from '../../routing/policy.js';

export interface WaitQuote {
  position: number;
  etaSeconds: number | null;
}

/** "You are number 2 in line; a person will be with you within 9 minutes." — never longer than the cap. */
export function waitSentence(policy: RoutingPolicy, quote: WaitQuote): string {
  const text =
    quote.etaSeconds === null
      ? policy.texts.noEstimate
      : fillText(policy.texts.waitNotice, {
          position: quote.position,
          wait: humanDuration(quote.etaSeconds),
        });
  return capped(text);
}

/** Any text Switchboard speaks or sends on its own, held under the cap. */
export function capped(text: string): string {
  return text.length > TEXT_CAP ? `${text.slice(0, TEXT_CAP - 1)}…` : text;
}
