import { expect } from 'chai';
import { ManualClock, systemClock } from '../../shared/clock.js';

describe('clock', () => {
  describe('ManualClock', () => {
    it('starts at 2026-01-05 09:00 UTC unless told otherwise', () => {
      expect(new ManualClock().now()).to.equal(Date.UTC(2026, 0, 5, 9, 0, 0));
      expect(new ManualClock(1234).now()).to.equal(1234);
    });

    it('moves only when advanced or set, and returns the new time', () => {
      const clock = new ManualClock(1000);
      expect(clock.now()).to.equal(1000);
      expect(clock.advance(500)).to.equal(1500);
      expect(clock.advance(0)).to.equal(1500);
      clock.set(1500);
      expect(clock.now()).to.equal(1500);
      clock.set(9000);
      expect(clock.now()).to.equal(9000);
    });

    it('refuses to go backwards', () => {
      const clock = new ManualClock(1000);
      expect(() => clock.set(999)).to.throw(RangeError, 'ManualClock.set: time never runs backwards');
      expect(() => clock.advance(-1)).to.throw(RangeError, 'ManualClock.advance: ms must be >= 0, got -1');
      expect(() => clock.advance(Number.NaN)).to.throw(RangeError, 'got NaN');
      expect(() => clock.advance(Number.POSITIVE_INFINITY)).to.throw(RangeError, 'got Infinity');
      expect(clock.now()).to.equal(1000);
    });
  });

  describe('systemClock', () => {
    it('reads the wall clock', () => {
      const before = Date.now();
      const now = systemClock.now();
      const after = Date.now();
      expect(now >= before && now <= after).to.equal(true);
    });
  });
});
