// Wait quotes: the Erlang quantile against known values, its shape, and the quote itself.
import { expect } from 'chai';
import {
  erlangCdf,
  erlangQuantile,
  humanDuration,
  meanHandleMs,
  normalQuantile,
  quoteWaitSeconds,
} from '../../routing/estimate.js';

/** An independent reference: bisection on the CDF, to full double precision. */
function bisect(k: number, rate: number, p: number): number {
  let lo = 0;
  let hi = (k + 20 * Math.sqrt(k) + 20) / rate;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (erlangCdf(k, rate, mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

describe('estimate', () => {
  describe('erlangQuantile', () => {
    it('k = 1 is the exponential quantile, exactly', () => {
      for (const [rate, p] of [
        [1, 0.9],
        [0.5, 0.5],
        [1 / 480_000, 0.9],
        [3, 0.99],
      ] as const) {
        expect(erlangQuantile(1, rate, p)).to.equal(-Math.log(1 - p) / rate);
      }
      expect(erlangQuantile(1, 1, 0.5)).to.be.closeTo(Math.LN2, 1e-15);
      expect(erlangQuantile(1, 2, 0.9)).to.be.closeTo(Math.LN10 / 2, 1e-15);
    });

    it('matches known Erlang / chi-square quantiles', () => {
      // Erlang(k, 1) at p is half the chi-square quantile with 2k degrees of freedom.
      expect(erlangQuantile(2, 1, 0.5)).to.be.closeTo(1.678347, 1e-6);
      expect(erlangQuantile(2, 1, 0.9)).to.be.closeTo(3.88972, 1e-6);
      expect(erlangQuantile(5, 1, 0.95)).to.be.closeTo(18.307038 / 2, 1e-6);
      expect(erlangQuantile(10, 1, 0.9)).to.be.closeTo(28.411981 / 2, 1e-6);
      expect(erlangQuantile(10, 1, 0.99)).to.be.closeTo(37.566235 / 2, 1e-6);
      // Scaling: the quantile is inversely proportional to the rate.
      expect(erlangQuantile(5, 4, 0.95)).to.be.closeTo(18.307038 / 8, 1e-6);
    });

    it('inverts the CDF on the bisection path', () => {
      for (const k of [2, 7, 30, 60]) {
        for (const p of [0.5, 0.9, 0.99]) {
          expect(erlangCdf(k, 1, erlangQuantile(k, 1, p))).to.be.closeTo(p, 1e-9);
        }
      }
    });

    it('is monotone in the percentile', () => {
      for (const k of [1, 3, 60, 61, 200]) {
        let prev = 0;
        for (let p = 0.51; p < 0.995; p += 0.01) {
          const q = erlangQuantile(k, 1 / 300, p);
          expect(q).to.be.greaterThan(prev);
          prev = q;
        }
      }
    });

    it('is monotone in the position, including across the switch to Wilson–Hilferty', () => {
      for (const p of [0.6, 0.9, 0.99]) {
        let prev = 0;
        for (let k = 1; k <= 150; k++) {
          const q = erlangQuantile(k, 2, p);
          expect(q).to.be.greaterThan(prev);
          prev = q;
        }
      }
      // One more place in line adds about one mean service gap (1/rate), even across the switch.
      const step = erlangQuantile(61, 2, 0.9) - erlangQuantile(60, 2, 0.9);
      expect(step).to.be.closeTo(0.5, 0.05);
    });

    it('the Wilson–Hilferty path is within 0.02% of bisection near and beyond k = 60', () => {
      for (const k of [61, 62, 80, 100, 150, 400]) {
        for (const p of [0.5, 0.8, 0.9, 0.95, 0.99]) {
          const approx = erlangQuantile(k, 1, p);
          const exact = bisect(k, 1, p);
          expect(Math.abs(approx - exact) / exact).to.be.lessThan(2e-4);
        }
      }
      expect(erlangQuantile(61, 1, 0.9)).to.be.closeTo(71.1989, 0.005);
    });
  });

  describe('erlangCdf', () => {
    it('k = 1 is 1 - e^(-rate·t) and it is 0 at t = 0', () => {
      expect(erlangCdf(1, 2, 1.5)).to.be.closeTo(1 - Math.exp(-3), 1e-15);
      expect(erlangCdf(4, 1, 0)).to.equal(0);
      expect(erlangCdf(2, 1, 1)).to.be.closeTo(1 - 2 / Math.E, 1e-15);
    });
  });

  describe('normalQuantile', () => {
    it('matches the standard normal table', () => {
      expect(normalQuantile(0.5)).to.equal(0);
      expect(normalQuantile(0.975)).to.be.closeTo(1.959964, 1e-6);
      expect(normalQuantile(0.9)).to.be.closeTo(1.281552, 1e-6);
      expect(normalQuantile(0.01)).to.be.closeTo(-2.326348, 1e-6);
      expect(normalQuantile(0.999)).to.be.closeTo(3.090232, 1e-6);
    });
  });

  describe('meanHandleMs', () => {
    it('shrinks toward the default while samples are fewer than 20', () => {
      expect(meanHandleMs([], 300_000)).to.equal(300_000);
      expect(meanHandleMs(Array(10).fill(100_000), 300_000)).to.equal(200_000);
      expect(meanHandleMs(Array(19).fill(0), 200_000)).to.equal(10_000);
    });

    it('is the plain mean from 20 samples on', () => {
      expect(meanHandleMs(Array(20).fill(60_000), 300_000)).to.equal(60_000);
      expect(meanHandleMs([...Array(20).fill(60_000), ...Array(20).fill(120_000)], 1)).to.equal(90_000);
    });
  });

  describe('quoteWaitSeconds', () => {
    const base = { handled: { count: 0, totalMs: 0 }, defaultHandleMs: 480_000, percentile: 0.9 };

    it('is null when nobody can serve the conversation', () => {
      expect(quoteWaitSeconds({ ...base, position: 1, servers: 0 })).to.equal(null);
      expect(quoteWaitSeconds({ ...base, position: 5, servers: -1 })).to.equal(null);
    });

    it('is the percentile of the wait for the k-th freed slot, rounded up to whole seconds', () => {
      // 480 s × ln 10 = 1105.2 s
      expect(quoteWaitSeconds({ ...base, position: 1, servers: 1 })).to.equal(1106);
      // Erlang(2): 480 × 3.889720 = 1867.07 s
      expect(quoteWaitSeconds({ ...base, position: 2, servers: 1 })).to.equal(1868);
      // Twice the servers, half the wait.
      expect(quoteWaitSeconds({ ...base, position: 2, servers: 2 })).to.equal(934);
      // A position below 1 counts as first in line.
      expect(quoteWaitSeconds({ ...base, position: 0, servers: 1 })).to.equal(1106);
    });

    it('is pessimistic: above the mean wait', () => {
      for (const position of [1, 3, 10, 80]) {
        const quote = quoteWaitSeconds({ ...base, position, servers: 4 })!;
        const meanSeconds = (position * 480) / 4;
        expect(quote).to.be.greaterThan(meanSeconds);
      }
    });

    it('uses recorded handle times once there are enough', () => {
      const handled = { count: 20, totalMs: 20 * 60_000 };
      expect(quoteWaitSeconds({ ...base, handled, position: 1, servers: 1 })).to.equal(139);
    });
  });

  describe('humanDuration', () => {
    it('rounds up, as a customer reads it', () => {
      expect(humanDuration(0.2)).to.equal('1 second');
      expect(humanDuration(1)).to.equal('1 second');
      expect(humanDuration(1.5)).to.equal('2 seconds');
      expect(humanDuration(45)).to.equal('45 seconds');
      expect(humanDuration(60)).to.equal('1 minute');
      expect(humanDuration(61)).to.equal('2 minutes');
      expect(humanDuration(119 * 60)).to.equal('119 minutes');
      expect(humanDuration(120 * 60)).to.equal('2 hours');
      expect(humanDuration(121 * 60)).to.equal('3 hours');
      expect(humanDuration(71 * 3600)).to.equal('71 hours');
      expect(humanDuration(72 * 3600)).to.equal('3 days');
      expect(humanDuration(7 * 24 * 3600)).to.equal('7 days');
    });

    it("in the policy's language, rounded the same way", () => {
      expect(humanDuration(45, 'es-MX')).to.equal('45 segundos');
      expect(humanDuration(60, 'es-MX')).to.equal('1 minuto');
      expect(humanDuration(61, 'es-MX')).to.equal('2 minutos');
      expect(humanDuration(120 * 60, 'de')).to.equal('2 Stunden');
      // (French puts a no-break space between the number and its unit.)
      expect(humanDuration(72 * 3600, 'fr')).to.equal('3\u00a0jours');
      expect(humanDuration(61, 'en-GB')).to.equal('2 minutes');
    });
  });
});
