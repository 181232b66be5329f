import { expect } from 'chai';
import { isOpen, localTime, OpeningHours, opensInMs } from '../../routing/hours.js';
import { parsePolicy, waitSentence } from '../../routing/policy.js';

const HOUR = 3600_000;
const MINUTE = 60_000;

describe('opening hours', () => {
  const berlin = OpeningHours.parse({
    timeZone: 'Europe/Berlin',
    week: { mon: '09:00-17:00', tue: '09:00-12:00, 13:00-17:00', fri: '09:00-24:00' },
  });

  it('parses a week: ranges in minutes of the day, sorted; a day left out is closed', () => {
    expect(
      OpeningHours.parse({ timeZone: 'UTC', week: { wed: '13:30-17:00,08:00-12:00' } }).week,
    ).to.deep.equal({
      wed: [
        [480, 720],
        [810, 1020],
      ],
    });
    expect(berlin.week.sun).to.equal(undefined);
  });

  it('refuses what it cannot use, naming the field', () => {
    const issue = (input: unknown) => OpeningHours.safeParse(input).error?.issues[0];
    expect(issue({ timeZone: 'Mars/Olympus', week: {} })?.path).to.deep.equal(['timeZone']);
    expect(issue({ timeZone: 'UTC', week: { mon: '17:00-09:00' } })?.path).to.deep.equal(['week', 'mon']);
    expect(issue({ timeZone: 'UTC', week: { mon: '9-5' } })?.message).to.contain('such as 09:00-17:00');
    expect(issue({ timeZone: 'UTC', week: { mon: '09:00-24:30' } })?.path).to.deep.equal(['week', 'mon']);
    // A misspelt day is refused, not taken as a closed day.
    expect(issue({ timeZone: 'UTC', week: { monday: '09:00-17:00' } })?.code).to.equal('unrecognized_keys');
  });

  it('reads the local weekday and time in the zone', () => {
    // Sunday 6 December 2026, 13:00 UTC: 14:00 in Berlin, 08:00 in New York.
    const at = Date.UTC(2026, 11, 6, 13, 0);
    expect(localTime('Europe/Berlin', at)).to.deep.equal({ day: 0, minute: 14 * 60 });
    expect(localTime('America/New_York', at)).to.deep.equal({ day: 0, minute: 8 * 60 });
  });

  it('is open inside a range and closed at its end, in the lunch break and on a day left out', () => {
    expect(isOpen(berlin, Date.UTC(2026, 11, 7, 8, 0))).to.equal(true); // Mon 09:00
    expect(isOpen(berlin, Date.UTC(2026, 11, 7, 16, 0))).to.equal(false); // Mon 17:00
    expect(isOpen(berlin, Date.UTC(2026, 11, 8, 11, 30))).to.equal(false); // Tue 12:30
    expect(isOpen(berlin, Date.UTC(2026, 11, 6, 13, 0))).to.equal(false); // Sunday
    expect(isOpen(berlin, Date.UTC(2026, 11, 11, 22, 59))).to.equal(true); // Fri 23:59
  });

  it('says how long until it opens: 0 while open, the next range otherwise, null when it never opens', () => {
    expect(opensInMs(berlin, Date.UTC(2026, 11, 7, 10, 0))).to.equal(0);
    // Sunday 14:00 → Monday 09:00.
    expect(opensInMs(berlin, Date.UTC(2026, 11, 6, 13, 0))).to.equal(19 * HOUR);
    // Tuesday 12:30 → 13:00, the same day.
    expect(opensInMs(berlin, Date.UTC(2026, 11, 8, 11, 30))).to.equal(30 * MINUTE);
    // Friday at midnight → the next Monday 09:00.
    expect(opensInMs(berlin, Date.UTC(2026, 11, 11, 23, 0))).to.equal((2 * 24 + 9) * HOUR);
    // A week later than the last opening: the same day next week.
    const mondays = OpeningHours.parse({ timeZone: 'UTC', week: { mon: '09:00-10:00' } });
    expect(opensInMs(mondays, Date.UTC(2026, 11, 7, 10, 0))).to.equal(7 * 24 * HOUR - HOUR);
    expect(opensInMs(OpeningHours.parse({ timeZone: 'UTC', week: {} }), Date.UTC(2026, 11, 7))).to.equal(
      null,
    );
  });

  it('counts real time across a daylight-saving change', () => {
    // Saturday 28 March 2026, 12:00 in Berlin (UTC+1); clocks go forward that night; Monday 09:00 is UTC+2.
    const saturday = Date.UTC(2026, 2, 28, 11, 0);
    expect(saturday + opensInMs(berlin, saturday)!).to.equal(Date.UTC(2026, 2, 30, 7, 0));
    // Saturday 24 October 2026, 12:00 (UTC+2); clocks go back; Monday 09:00 is UTC+1.
    const autumn = Date.UTC(2026, 9, 24, 10, 0);
    expect(autumn + opensInMs(berlin, autumn)!).to.equal(Date.UTC(2026, 9, 26, 8, 0));
  });

  it('the policy takes them under hours, and the wait sentence says when a person is back', () => {
    const policy = parsePolicy({ hours: { timeZone: 'UTC', week: { mon: '09:00-17:00' } } });
    expect(policy.hours?.week.mon).to.deep.equal([[540, 1020]]);
    expect(() => parsePolicy({ hours: { timeZone: 'UTC', week: { mon: 'nine to five' } } })).to.throw(
      /hours\.week\.mon/,
    );
    expect(waitSentence(policy, { position: 2, etaSeconds: 300 })).to.equal(
      'You are number 2 in line; a person will be with you within 5 minutes.',
    );
    expect(waitSentence(policy, { position: 2, etaSeconds: null })).to.equal(policy.texts.noEstimate);
    expect(
      waitSentence(policy, { position: 2, etaSeconds: null, closed: { opensInSeconds: 7200 } }),
    ).to.equal(
      'We are closed right now and open again in 2 hours; a person will answer then. You keep your place.',
    );
    expect(
      waitSentence(policy, { position: 2, etaSeconds: null, closed: { opensInSeconds: null } }),
    ).to.equal(policy.texts.nobodyWorking);
  });
});
