import { expect } from 'chai';
import {
  closesInMs,
  hoursText,
  isOpen,
  localTime,
  OpeningHours,
  openMsBetween,
  opensInMs,
} from '../../routing/hours.js';
import { ownerWaitSentence, parsePolicy, waitSentence } from '../../routing/policy.js';

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
    expect(localTime('Europe/Berlin', at)).to.deep.equal({ day: 0, date: '2026-12-06', minute: 14 * 60 });
    expect(localTime('America/New_York', at)).to.deep.equal({ day: 0, date: '2026-12-06', minute: 8 * 60 });
    // 23:30 UTC on the 6th is already the 7th in Berlin, still the 6th in New York.
    const late = Date.UTC(2026, 11, 6, 23, 30);
    expect(localTime('Europe/Berlin', late)).to.deep.equal({ day: 1, date: '2026-12-07', minute: 30 });
    expect(localTime('America/New_York', late).date).to.equal('2026-12-06');
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

  it('says how long until it closes, and how much of a span it was open, across lunch, nights and a clock change', () => {
    // Monday 10:00 → 17:00; closed: 0.
    expect(closesInMs(berlin, Date.UTC(2026, 11, 7, 9, 0))).to.equal(7 * HOUR);
    expect(closesInMs(berlin, Date.UTC(2026, 11, 7, 16, 0))).to.equal(0);
    // Tuesday 11:00 → the lunch break at 12:00.
    expect(closesInMs(berlin, Date.UTC(2026, 11, 8, 10, 0))).to.equal(HOUR);
    // Friday's hours run to midnight, Saturday's start at it: open on till Saturday's close.
    const weekend = OpeningHours.parse({ timeZone: 'UTC', week: { fri: '20:00-24:00', sat: '00:00-02:00' } });
    expect(closesInMs(weekend, Date.UTC(2026, 11, 11, 23, 0))).to.equal(HOUR);
    expect(openMsBetween(weekend, Date.UTC(2026, 11, 11, 23, 0), Date.UTC(2026, 11, 12, 5, 0))).to.equal(
      3 * HOUR,
    );
    // Written Sunday 22:00, answered Monday 09:05: five minutes of the team's time.
    expect(openMsBetween(berlin, Date.UTC(2026, 11, 6, 21, 0), Date.UTC(2026, 11, 7, 8, 5))).to.equal(
      5 * MINUTE,
    );
    // Tuesday 11:30 to 13:30: 30 minutes before lunch and 30 after.
    expect(openMsBetween(berlin, Date.UTC(2026, 11, 8, 10, 30), Date.UTC(2026, 11, 8, 12, 30))).to.equal(
      HOUR,
    );
    // All within the hours: all of it; all outside: none.
    expect(openMsBetween(berlin, Date.UTC(2026, 11, 7, 9, 0), Date.UTC(2026, 11, 7, 9, 0, 20))).to.equal(
      20_000,
    );
    expect(openMsBetween(berlin, Date.UTC(2026, 11, 6, 9, 0), Date.UTC(2026, 11, 6, 20, 0))).to.equal(0);
    expect(openMsBetween(OpeningHours.parse({ timeZone: 'UTC', week: {} }), 0, HOUR)).to.equal(0);
    // Saturday to Monday 10:00 over the spring change (Monday opens 09:00 at UTC+2): one hour.
    expect(openMsBetween(berlin, Date.UTC(2026, 2, 28, 11, 0), Date.UTC(2026, 2, 30, 8, 0))).to.equal(HOUR);
  });

  describe('dates with their own hours (holidays)', () => {
    // Weekdays 09:00-17:00; Christmas Eve (Thursday) until noon, Christmas Day and the Monday after closed, and
    // one Sunday open.
    const holidays = OpeningHours.parse({
      timeZone: 'Europe/Berlin',
      week: {
        mon: '09:00-17:00',
        tue: '09:00-17:00',
        wed: '09:00-17:00',
        thu: '09:00-17:00',
        fri: '09:00-17:00',
      },
      dates: {
        '2026-12-24': '09:00-12:00',
        '2026-12-25': 'closed',
        '2026-12-28': '',
        '2026-12-20': '10:00-14:00',
      },
    });

    it('parses them: a range as a weekday, closed or empty as closed', () => {
      expect(holidays.dates).to.deep.equal({
        '2026-12-24': [[540, 720]],
        '2026-12-25': [],
        '2026-12-28': [],
        '2026-12-20': [[600, 840]],
      });
      expect(hoursText(holidays)).to.equal(
        'Mon 09:00–17:00, Tue 09:00–17:00, Wed 09:00–17:00, Thu 09:00–17:00, Fri 09:00–17:00; ' +
          '2026-12-20 10:00–14:00, 2026-12-24 09:00–12:00, 2026-12-25 closed, 2026-12-28 closed (Europe/Berlin)',
      );
    });

    it('refuses a date that is not one, or hours that are not, naming the date', () => {
      const issue = (dates: unknown) =>
        OpeningHours.safeParse({ timeZone: 'UTC', week: {}, dates }).error?.issues[0];
      expect(issue({ '2026-02-30': 'closed' })?.path).to.deep.equal(['dates', '2026-02-30']);
      expect(issue({ '2026-02-30': 'closed' })?.message).to.contain('such as 2026-12-25');
      expect(issue({ '25.12.2026': 'closed' })?.path).to.deep.equal(['dates', '25.12.2026']);
      expect(issue({ '2026-12-24': 'morning' })?.path).to.deep.equal(['dates', '2026-12-24']);
      expect(() =>
        parsePolicy({ hours: { timeZone: 'UTC', week: {}, dates: { '2026-13-01': 'closed' } } }),
      ).to.throw(/hours\.dates\.2026-13-01/);
    });

    it('a date’s hours replace its weekday’s, and the next opening skips the closed days', () => {
      expect(isOpen(holidays, Date.UTC(2026, 11, 24, 10, 0))).to.equal(true); // Thu 24th 11:00
      expect(isOpen(holidays, Date.UTC(2026, 11, 24, 12, 0))).to.equal(false); // Thu 24th 13:00
      expect(isOpen(holidays, Date.UTC(2026, 11, 25, 9, 0))).to.equal(false); // Fri 25th 10:00
      expect(isOpen(holidays, Date.UTC(2026, 11, 23, 9, 0))).to.equal(true); // Wed 23rd, as any Wednesday
      expect(isOpen(holidays, Date.UTC(2026, 11, 20, 11, 0))).to.equal(true); // Sunday 20th 12:00
      // Christmas Eve 13:00 → Tuesday the 29th 09:00 (the 25th, the weekend and the 28th closed).
      expect(opensInMs(holidays, Date.UTC(2026, 11, 24, 12, 0))).to.equal((4 * 24 + 20) * HOUR);
      // Saturday the 19th 12:00 → Sunday the 20th 10:00.
      expect(opensInMs(holidays, Date.UTC(2026, 11, 19, 11, 0))).to.equal(22 * HOUR);
      // Only dated openings, far ahead: found; none at all: null.
      const once = OpeningHours.parse({ timeZone: 'UTC', week: {}, dates: { '2027-03-01': '09:00-10:00' } });
      expect(opensInMs(once, Date.UTC(2026, 11, 24, 9, 0))).to.equal(
        Date.UTC(2027, 2, 1, 9, 0) - Date.UTC(2026, 11, 24, 9, 0),
      );
      const never = OpeningHours.parse({ timeZone: 'UTC', week: {}, dates: { '2026-12-24': 'closed' } });
      expect(opensInMs(never, Date.UTC(2026, 11, 24, 9, 0))).to.equal(null);
    });
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
    // Far off (12 hours or more), a day and time in the team's zone, named by its city; a custom text may
    // still say {wait}.
    const far = {
      opensInSeconds: 3 * 86400,
      opensAt: { at: Date.UTC(2026, 11, 28, 8, 0), timeZone: 'America/New_York' },
    };
    expect(waitSentence(policy, { position: 2, etaSeconds: null, closed: far })).to.equal(
      'We are closed right now and open again on Monday 28 December at 03:00 (New York time); a person will answer then. You keep your place.',
    );
    expect(
      waitSentence(policy, {
        position: 2,
        etaSeconds: null,
        closed: { opensInSeconds: 13 * 3600, opensAt: { at: Date.UTC(2026, 11, 28, 8, 0), timeZone: 'UTC' } },
      }),
    ).to.contain('open again on Monday 28 December at 08:00 (UTC);');
    const custom = parsePolicy({ texts: { closed: 'Back in {wait}.' } });
    expect(waitSentence(custom, { position: 1, etaSeconds: null, closed: far })).to.equal('Back in 3 days.');
  });

  it("in the team's language (locale): the times filled into its texts are said in it too", () => {
    const es = parsePolicy({
      locale: 'es-MX',
      texts: {
        waitNotice: 'Usted es el número {position} en la fila; una persona le atenderá en menos de {wait}.',
        closed: 'Estamos cerrados; abrimos {opens}. Conserva su lugar.',
        ownerAway: '{owner} no está ahora; si no vuelve en {wait}, su mensaje pasa a un colega.',
        callbackOwed: 'Le debemos una llamada, en menos de {wait}.',
      },
    });
    expect(waitSentence(es, { position: 2, etaSeconds: 700 })).to.equal(
      'Usted es el número 2 en la fila; una persona le atenderá en menos de 12 minutos.',
    );
    expect(waitSentence(es, { position: 2, etaSeconds: 700 }, 3600)).to.equal(
      'Le debemos una llamada, en menos de 60 minutos.',
    );
    expect(
      waitSentence(es, { position: 1, etaSeconds: null, closed: { opensInSeconds: 5 * 3600 - 10 } }),
    ).to.equal('Estamos cerrados; abrimos dentro de 5 horas. Conserva su lugar.');
    const far = {
      opensInSeconds: 3 * 86400,
      opensAt: { at: Date.UTC(2026, 0, 12, 14, 0), timeZone: 'America/Mexico_City' },
    };
    expect(waitSentence(es, { position: 1, etaSeconds: null, closed: far })).to.match(
      /^Estamos cerrados; abrimos lunes, 12 de enero, 08:00 \(.+\)\. Conserva su lugar\.$/,
    );
    expect(ownerWaitSentence(es, { name: 'Ana', status: 'away' }, 600)).to.equal(
      'Ana no está ahora; si no vuelve en 10 minutos, su mensaje pasa a un colega.',
    );
    // English stays as it was, whatever its region.
    const us = parsePolicy({ locale: 'en-US' });
    expect(waitSentence(us, { position: 2, etaSeconds: 300 })).to.equal(
      'You are number 2 in line; a person will be with you within 5 minutes.',
    );
    // A tag this server cannot speak is refused by name.
    expect(() => parsePolicy({ locale: 'not a language' })).to.throw(/locale: must be a language tag/);
  });
});
