// Wait quotes: a high percentile of the predicted wait, never the mean.
//
// With `servers` agents (weighted by capacity) all busy and handle times
// roughly exponential with mean `h`, slots free up as a Poisson process of
// rate servers/h. The customer at place k waits for the k-th freed slot: an
// Erlang(k, servers/h) time. The quote is its `percentile` quantile.

/**
 * Where a waiting customer stands: their place, a pessimistic wait (null: none can be worked out, nobody who
 * could serve them is available) and, when nobody works now, when a person is back.
 */
export interface WaitQuote {
  position: number;
  etaSeconds: number | null;
  /**
   * Nobody works now: outside the opening hours with no agent available, or no agent available or away at
   * all. `opensInSeconds`: until the opening hours start again (null: not known). Only with no `etaSeconds`.
   */
  closed?: {
    opensInSeconds: number | null;
    /** When they open (ms), with the opening hours' time zone: said as a day and time when it is far off. */
    opensAt?: { at: number; timeZone: string };
  };
}

export interface QuoteInput {
  /** 1-based place in line. */
  position: number;
  /** Agents who can serve it, weighted by capacity. 0 means nobody can now. */
  servers: number;
  /** Recent handle times on the channel: how many, and their sum in milliseconds. */
  handled: Handled;
  defaultHandleMs: number;
  percentile: number;
}

/** Recent handle times as the store keeps them: how many, and their sum. */
export interface Handled {
  count: number;
  totalMs: number;
}

/** Fewer real samples than this and the default handle time is blended in. */
const MIN_SAMPLES = 20;

/** Mean handle time, shrunk toward the default while samples are few. */
export function meanHandleMs(samples: readonly number[], defaultMs: number): number {
  let sum = 0;
  for (const s of samples) sum += s;
  return meanHandled({ count: samples.length, totalMs: sum }, defaultMs);
}

/** `meanHandleMs` from the count and sum alone. */
export function meanHandled({ count, totalMs }: Handled, defaultMs: number): number {
  if (count >= MIN_SAMPLES) return totalMs / count;
  return (totalMs + defaultMs * (MIN_SAMPLES - count)) / MIN_SAMPLES;
}

/** Pessimistic wait in whole seconds, or null when nobody can serve the conversation now. */
export function quoteWaitSeconds(input: QuoteInput): number | null {
  if (input.servers <= 0) return null;
  const k = Math.max(1, Math.floor(input.position));
  const rate = input.servers / meanHandled(input.handled, input.defaultHandleMs); // per ms
  return Math.ceil(erlangQuantile(k, rate, input.percentile) / 1000);
}

/** The p-quantile of Erlang(k, rate): exact by bisection for small k, Wilson–Hilferty beyond. */
export function erlangQuantile(k: number, rate: number, p: number): number {
  if (k === 1) return -Math.log(1 - p) / rate;
  if (k > 60) {
    const z = normalQuantile(p);
    const c = 1 / (9 * k);
    return (k / rate) * (1 - c + z * Math.sqrt(c)) ** 3;
  }
  let lo = 0;
  let hi = (k + 10 * Math.sqrt(k) + 10) / rate;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (erlangCdf(k, rate, mid) < p) lo = mid;
    else hi = mid;
  }
  return hi;
}

export function erlangCdf(k: number, rate: number, t: number): number {
  const x = rate * t;
  let term = Math.exp(-x);
  let sum = term;
  for (let i = 1; i < k; i++) {
    term *= x / i;
    sum += term;
  }
  return 1 - sum;
}

// Acklam's coefficients (see `normalQuantile`).
const [a0, a1, a2, a3, a4, a5] = [
  -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
  2.506628277459239,
] as const;
const [b0, b1, b2, b3, b4] = [
  -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
] as const;
const [c0, c1, c2, c3, c4, c5] = [
  -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
] as const;
const [d0, d1, d2, d3] = [
  0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416,
] as const;

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
      ((((d0 * q + d1) * q + d2) * q + d3) * q + 1)
    );
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return (
      -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
      ((((d0 * q + d1) * q + d2) * q + d3) * q + 1)
    );
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) /
    (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1)
  );
}

/**
 * "45 seconds", "3 minutes", "2 hours", "3 days" (from 72 hours): rounded up, as a customer reads it; in the
 * language of `locale` (a BCP 47 tag, the policy's `locale`) when it is not English ("12 minutos").
 */
export function humanDuration(seconds: number, locale = 'en'): string {
  const [count, unit] = durationParts(seconds);
  if (isEnglish(locale)) return count === 1 ? `1 ${unit}` : `${count} ${unit}s`;
  return unitFormat(locale, unit).format(count);
}

/** The whole count and unit a duration is said in (see `humanDuration`). */
export function durationParts(seconds: number): [number, 'second' | 'minute' | 'hour' | 'day'] {
  if (seconds < 60) return [Math.max(1, Math.ceil(seconds)), 'second'];
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 120) return [minutes, 'minute'];
  const hours = Math.ceil(minutes / 60);
  if (hours < 72) return [hours, 'hour'];
  return [Math.ceil(hours / 24), 'day'];
}

/** English, said by Switchboard's own words rather than the platform's (they agree, and tests pin them). */
export function isEnglish(locale: string): boolean {
  return locale === 'en' || locale.startsWith('en-');
}

const unitFormats = new Map<string, Intl.NumberFormat>();
function unitFormat(locale: string, unit: string): Intl.NumberFormat {
  const key = `${locale}|${unit}`;
  let format = unitFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'long' });
    unitFormats.set(key, format);
  }
  return format;
}
