// Queueing models the simulation is checked against.
//
// Erlang C (M/M/N): Poisson arrivals λ, exponential handle times 1/μ, N agents,
// infinite patience. Erlang A (M/M/N+M): the same with exponential patience 1/θ.
// Rates are per second; times are seconds.

export interface QueueFigures {
  /** Probability an arrival has to wait. */
  pWait: number;
  /** Share of all arrivals answered within the target time. */
  serviceLevel: number;
  /** Average speed of answer: mean wait of answered customers. */
  asa: number;
  /** Probability of abandoning (Erlang A only; 0 for Erlang C). */
  pAbandon: number;
}

/** Erlang C probability of waiting, computed stably through the Erlang B recursion. */
export function erlangC(agents: number, load: number): number {
  let b = 1;
  for (let n = 1; n <= agents; n++) b = (load * b) / (n + load * b);
  if (load >= agents) return 1;
  return (agents * b) / (agents - load * (1 - b));
}

export function erlangCFigures(
  arrivalRate: number,
  meanHandle: number,
  agents: number,
  target: number,
): QueueFigures {
  const mu = 1 / meanHandle;
  const load = arrivalRate * meanHandle;
  const pWait = erlangC(agents, load);
  const drain = agents * mu - arrivalRate;
  return {
    pWait,
    serviceLevel: 1 - pWait * Math.exp(-drain * target),
    asa: pWait / drain,
    pAbandon: 0,
  };
}

/**
 * Erlang A by its birth–death chain (truncated where the tail is negligible) and,
 * for the tagged customer's wait, the backward equations of their position in line:
 * at position j (j customers ahead) they move up at rate Nμ + jθ and abandon at rate θ.
 */
export function erlangAFigures(
  arrivalRate: number,
  meanHandle: number,
  meanPatience: number,
  agents: number,
  target: number,
): QueueFigures {
  const mu = 1 / meanHandle;
  const theta = 1 / meanPatience;
  // Stationary distribution of the number in system.
  const weights: number[] = [1];
  let sum = 1;
  let k = 0;
  for (let n = 1; n < 100_000; n++) {
    const death = Math.min(n, agents) * mu + Math.max(0, n - agents) * theta;
    const w = (weights[n - 1]! * arrivalRate) / death;
    weights.push(w);
    sum += w;
    if (n > agents && w < 1e-14 * sum) break;
    k = n;
  }
  const total = weights.reduce((a, b) => a + b, 0);
  const pi = weights.map((w) => w / total);
  let pWait = 0;
  let meanQueue = 0;
  for (let n = agents; n < pi.length; n++) {
    pWait += pi[n]!;
    meanQueue += (n - agents) * pi[n]!;
  }
  const pAbandon = (theta * meanQueue) / arrivalRate;
  const maxAhead = Math.max(0, k - agents + 1);

  // u[j](t): probability of being answered by time t from position j. Integrate with RK4.
  const rate = (j: number) => agents * mu + j * theta;
  const deriv = (u: Float64Array, out: Float64Array) => {
    for (let j = 0; j <= maxAhead; j++) {
      const next = j === 0 ? 1 : u[j - 1]!;
      out[j] = rate(j) * (next - u[j]!) - theta * u[j]!;
    }
  };
  // RK4 is stable while rate × step stays under ~2.7; keep a wide margin.
  const step = Math.min(0.25, 0.5 / rate(maxAhead));
  // Long enough for the last position to be served (or give up) with certainty.
  const horizon = target + (10 * (maxAhead + 1)) / (agents * mu + theta);
  let u: Float64Array = new Float64Array(maxAhead + 1);
  const k1 = new Float64Array(maxAhead + 1);
  const k2 = new Float64Array(maxAhead + 1);
  const k3 = new Float64Array(maxAhead + 1);
  const k4 = new Float64Array(maxAhead + 1);
  const tmp = new Float64Array(maxAhead + 1);
  const answeredBy = (uu: Float64Array) => {
    let s = 0;
    for (let j = 0; j <= maxAhead; j++) s += (pi[agents + j] ?? 0) * uu[j]!;
    return s;
  };
  let slQueued = 0;
  // ∫ (u(∞) − u(s)) ds over the queued arrivals gives E[W; answered].
  const curve: number[] = [];
  const steps = Math.ceil(horizon / step);
  const targetStep = Math.round(target / step);
  for (let i = 0; i < steps; i++) {
    if (i === targetStep) slQueued = answeredBy(u);
    curve.push(answeredBy(u));
    deriv(u, k1);
    for (let j = 0; j <= maxAhead; j++) tmp[j] = u[j]! + (step / 2) * k1[j]!;
    deriv(tmp, k2);
    for (let j = 0; j <= maxAhead; j++) tmp[j] = u[j]! + (step / 2) * k2[j]!;
    deriv(tmp, k3);
    for (let j = 0; j <= maxAhead; j++) tmp[j] = u[j]! + step * k3[j]!;
    deriv(tmp, k4);
    const next = new Float64Array(maxAhead + 1);
    for (let j = 0; j <= maxAhead; j++)
      next[j] = u[j]! + (step / 6) * (k1[j]! + 2 * k2[j]! + 2 * k3[j]! + k4[j]!);
    u = next;
  }
  if (targetStep >= steps) slQueued = answeredBy(u);
  const answeredQueued = answeredBy(u);
  let waitAnswered = 0;
  for (const c of curve) waitAnswered += (answeredQueued - c) * step;
  const pAnswered = 1 - pWait + answeredQueued;
  return {
    pWait,
    serviceLevel: 1 - pWait + slQueued,
    asa: waitAnswered / pAnswered,
    pAbandon,
  };
}
