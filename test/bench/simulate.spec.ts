// The simulation drives the real router; a short run must land near the queueing
// models, and the models themselves must agree with known values and each other.
import { expect } from 'chai';
import { erlangAFigures, erlangC, erlangCFigures } from '../../bench/erlang.js';
import { modelFor, simulate } from '../../bench/simulate.js';

describe('bench/erlang: the queueing models', () => {
  it('Erlang C matches the textbook value (10 Erlangs on 11 agents waits 68.2 %)', () => {
    expect(erlangC(11, 10)).to.be.closeTo(0.6821, 0.0001);
    expect(erlangC(1, 0.5)).to.be.closeTo(0.5, 1e-12);
  });

  it('Erlang C figures: ASA = C / (Nμ − λ), service level = 1 − C·e^{−(Nμ−λ)t}', () => {
    const f = erlangCFigures(200 / 3600, 180, 14, 20);
    const drain = 14 / 180 - 200 / 3600;
    expect(f.asa).to.be.closeTo(f.pWait / drain, 1e-9);
    expect(f.serviceLevel).to.be.closeTo(1 - f.pWait * Math.exp(-drain * 20), 1e-12);
    expect(f.pAbandon).to.equal(0);
  });

  it('Erlang A tends to Erlang C as patience grows', () => {
    const a = erlangAFigures(200 / 3600, 180, 1e7, 14, 20);
    const c = erlangCFigures(200 / 3600, 180, 14, 20);
    expect(a.pWait).to.be.closeTo(c.pWait, 1e-4);
    expect(a.serviceLevel).to.be.closeTo(c.serviceLevel, 1e-3);
    expect(a.asa).to.be.closeTo(c.asa, 0.01 * c.asa);
    expect(a.pAbandon).to.be.lessThan(1e-5);
  });

  it('Erlang A: impatient customers wait less and some abandon', () => {
    const a = erlangAFigures(200 / 3600, 180, 300, 14, 20);
    const c = erlangCFigures(200 / 3600, 180, 14, 20);
    expect(a.pWait).to.be.lessThan(c.pWait);
    expect(a.asa).to.be.lessThan(c.asa);
    expect(a.pAbandon).to.be.greaterThan(0.005);
    expect(a.pAbandon).to.be.lessThan(0.05);
  });
});

describe('bench/simulate: a short run through the real router', function () {
  this.timeout(120_000);

  it('is repeatable for a seed', async () => {
    const input = {
      callsPerHour: 200,
      handleSeconds: 180,
      agents: 13,
      targetSeconds: 20,
      arrivals: 1500,
      warmup: 200,
      seed: 7,
    };
    const a = await simulate(input);
    const b = await simulate(input);
    expect(a.asa).to.equal(b.asa);
    expect(a.pWait).to.equal(b.pWait);
  });

  it('lands near Erlang C (13 agents, 10 Erlangs) and keeps about 90 % of its quotes', async () => {
    const input = {
      callsPerHour: 200,
      handleSeconds: 180,
      agents: 13,
      targetSeconds: 20,
      arrivals: 12_000,
      warmup: 500,
      seed: 42,
    };
    const sim = await simulate(input);
    const model = modelFor(input);
    expect(sim.arrivals).to.equal(12_000);
    // The run drains the line: everyone measured was answered (nobody gives up in Erlang C).
    expect(sim.abandoned).to.equal(0);
    expect(sim.answered).to.equal(12_000);
    expect(Math.abs(sim.pWait - model.pWait)).to.be.lessThan(0.04);
    expect(Math.abs(sim.serviceLevel - model.serviceLevel)).to.be.lessThan(0.04);
    expect(sim.quotesKept).to.be.greaterThan(0.85);
    expect(sim.pessimism).to.be.greaterThan(1);
  });

  it('with patience, customers abandon near the Erlang A rate', async () => {
    const input = {
      callsPerHour: 200,
      handleSeconds: 180,
      patienceSeconds: 300,
      agents: 14,
      targetSeconds: 20,
      arrivals: 12_000,
      warmup: 500,
      seed: 43,
    };
    const sim = await simulate(input);
    const model = modelFor(input);
    expect(sim.abandoned).to.be.greaterThan(0);
    expect(sim.answered + sim.abandoned).to.equal(sim.arrivals);
    expect(Math.abs(sim.pAbandon - model.pAbandon)).to.be.lessThan(0.01);
    expect(Math.abs(sim.pWait - model.pWait)).to.be.lessThan(0.04);
  });
});
