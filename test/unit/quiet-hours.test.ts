import { DateTime, Settings } from 'luxon';
import { isValidClockTime, isValidTimeZone, quietHoursEnd, type QuietHours } from '../../src/policy/quiet-hours';

const NIGHT: QuietHours = { start: '22:00', end: '08:00' };
const HOUR_MS = 3_600_000;

/** The end of the quiet window as an ISO UTC string, or null when `at` (ISO with offset) is not quiet. */
function endOf(at: string, zone: string, quiet: QuietHours): string | null {
  return quietHoursEnd(new Date(at), zone, quiet)?.toISOString() ?? null;
}

/** Hours from a window's start (ISO with offset) to the end it reports. */
function windowHours(start: string, zone: string, quiet: QuietHours): number {
  const end = quietHoursEnd(new Date(start), zone, quiet);
  if (end === null) throw new Error(`${start} is not quiet`);
  return (end.getTime() - Date.parse(start)) / HOUR_MS;
}

describe('the 2027 daylight-saving changes the tests rely on', () => {
  test.each([
    ['Europe/Berlin', '2027-03-28T00:59:59Z', 60, '2027-03-28T01:00:00Z', 120],
    ['Europe/Berlin', '2027-10-31T00:59:59Z', 120, '2027-10-31T01:00:00Z', 60],
    ['America/New_York', '2027-03-14T06:59:59Z', -300, '2027-03-14T07:00:00Z', -240],
    ['America/New_York', '2027-11-07T05:59:59Z', -240, '2027-11-07T06:00:00Z', -300],
    ['Pacific/Chatham', '2027-09-25T13:59:59Z', 765, '2027-09-25T14:00:00Z', 825],
  ])('%s changes its UTC offset at %s', (zone, before, offsetBefore, after, offsetAfter) => {
    expect(DateTime.fromISO(before, { zone }).offset).toBe(offsetBefore);
    expect(DateTime.fromISO(after, { zone }).offset).toBe(offsetAfter);
  });
});

describe('a 22:00–08:00 window that crosses midnight', () => {
  describe.each([
    // zone, 21:59 local, 22:00 local, next 08:00 in UTC, 03:00 local, same-day 08:00 in UTC, 08:00 local
    ['Europe/Berlin', '2027-01-15T21:59:00+01:00', '2027-01-15T22:00:00+01:00', '2027-01-16T07:00:00.000Z',
      '2027-01-16T03:00:00+01:00', '2027-01-16T07:00:00.000Z', '2027-01-16T08:00:00+01:00'],
    ['Europe/Berlin', '2027-07-15T21:59:00+02:00', '2027-07-15T22:00:00+02:00', '2027-07-16T06:00:00.000Z',
      '2027-07-16T03:00:00+02:00', '2027-07-16T06:00:00.000Z', '2027-07-16T08:00:00+02:00'],
    ['America/New_York', '2027-01-15T21:59:00-05:00', '2027-01-15T22:00:00-05:00', '2027-01-16T13:00:00.000Z',
      '2027-01-16T03:00:00-05:00', '2027-01-16T13:00:00.000Z', '2027-01-16T08:00:00-05:00'],
    ['America/New_York', '2027-07-15T21:59:00-04:00', '2027-07-15T22:00:00-04:00', '2027-07-16T12:00:00.000Z',
      '2027-07-16T03:00:00-04:00', '2027-07-16T12:00:00.000Z', '2027-07-16T08:00:00-04:00'],
  ])('in %s (%s)', (zone, at2159, at2200, nextMorning, at0300, sameMorning, at0800) => {
    test('21:59 is not quiet', () => {
      expect(endOf(at2159, zone, NIGHT)).toBeNull();
    });
    test('22:00 is quiet until 08:00 the next morning', () => {
      expect(endOf(at2200, zone, NIGHT)).toBe(nextMorning);
    });
    test('03:00 is quiet until 08:00 the same morning', () => {
      expect(endOf(at0300, zone, NIGHT)).toBe(sameMorning);
    });
    test('08:00 is not quiet', () => {
      expect(endOf(at0800, zone, NIGHT)).toBeNull();
    });
  });

  test('the last second before 08:00 is quiet, and the quiet period ends on the minute', () => {
    expect(endOf('2027-01-16T07:59:59.999+01:00', 'Europe/Berlin', NIGHT)).toBe('2027-01-16T07:00:00.000Z');
    expect(endOf('2027-01-15T21:59:59.999+01:00', 'Europe/Berlin', NIGHT)).toBeNull();
  });
});

describe('a night window spanning a daylight-saving change ends at 08:00 on the new local clock', () => {
  test.each([
    ['Europe/Berlin', 'spring forward 27→28 Mar', '2027-03-27T22:00:00+01:00', '2027-03-28T06:00:00.000Z', 9],
    ['Europe/Berlin', 'fall back 30→31 Oct', '2027-10-30T22:00:00+02:00', '2027-10-31T07:00:00.000Z', 11],
    ['America/New_York', 'spring forward 13→14 Mar', '2027-03-13T22:00:00-05:00', '2027-03-14T12:00:00.000Z', 9],
    ['America/New_York', 'fall back 6→7 Nov', '2027-11-06T22:00:00-04:00', '2027-11-07T13:00:00.000Z', 11],
  ])('%s, %s: quiet from 22:00 until %s… (window of %s h)', (zone, _night, start, end, hours) => {
    expect(endOf(start, zone, NIGHT)).toBe(end);
    expect(windowHours(start, zone, NIGHT)).toBe(hours);
  });

  test('inside the repeated hour of a fall-back night the window still ends at 08:00 CET', () => {
    // 02:30 CEST and 02:30 CET are both mid-window.
    expect(endOf('2027-10-31T02:30:00+02:00', 'Europe/Berlin', NIGHT)).toBe('2027-10-31T07:00:00.000Z');
    expect(endOf('2027-10-31T02:30:00+01:00', 'Europe/Berlin', NIGHT)).toBe('2027-10-31T07:00:00.000Z');
  });
});

describe('a window boundary on a time the clock skips or repeats', () => {
  const EARLY: QuietHours = { start: '00:00', end: '02:30' };

  test('an end inside the spring-forward gap releases at the first instant after the gap (03:00 CEST)', () => {
    expect(endOf('2027-03-28T01:30:00+01:00', 'Europe/Berlin', EARLY)).toBe('2027-03-28T01:00:00.000Z');
    // 03:00 CEST is already past 02:30 on the recipient's clock: not quiet.
    expect(endOf('2027-03-28T03:00:00+02:00', 'Europe/Berlin', EARLY)).toBeNull();
  });

  test('an ambiguous end releases at its first occurrence (02:30 CEST), not an hour later', () => {
    expect(endOf('2027-10-31T01:00:00+02:00', 'Europe/Berlin', EARLY)).toBe('2027-10-31T00:30:00.000Z');
    expect(endOf('2027-10-31T02:15:00+02:00', 'Europe/Berlin', EARLY)).toBe('2027-10-31T00:30:00.000Z');
    // The clock shows 02:15 again an hour later (CET): the window has already ended.
    expect(endOf('2027-10-31T02:15:00+01:00', 'Europe/Berlin', EARLY)).toBeNull();
  });

  test('the choice for an ambiguous end does not depend on the date the code runs', () => {
    const realNow = Settings.now;
    try {
      for (const now of ['2027-01-15T12:00:00Z', '2027-07-15T12:00:00Z']) {
        Settings.now = () => Date.parse(now);
        expect(endOf('2027-10-31T01:00:00+02:00', 'Europe/Berlin', EARLY)).toBe('2027-10-31T00:30:00.000Z');
      }
    } finally {
      Settings.now = realNow;
    }
  });

  test('a start inside the spring-forward gap begins the window as the clock jumps to 03:00', () => {
    const quiet: QuietHours = { start: '02:30', end: '06:00' };
    expect(endOf('2027-03-28T01:59:00+01:00', 'Europe/Berlin', quiet)).toBeNull();
    expect(endOf('2027-03-28T03:00:00+02:00', 'Europe/Berlin', quiet)).toBe('2027-03-28T04:00:00.000Z');
  });

  test('a start inside the repeated hour stays quiet through the repeat', () => {
    const quiet: QuietHours = { start: '02:30', end: '06:00' };
    expect(endOf('2027-10-31T02:29:00+02:00', 'Europe/Berlin', quiet)).toBeNull();
    expect(endOf('2027-10-31T02:30:00+02:00', 'Europe/Berlin', quiet)).toBe('2027-10-31T05:00:00.000Z');
    // The clock goes back to 02:00 (CET), before the 02:30 start, but the window has begun.
    expect(endOf('2027-10-31T02:10:00+01:00', 'Europe/Berlin', quiet)).toBe('2027-10-31T05:00:00.000Z');
  });

  test('New York: an end in the gap releases at 03:00 EDT, an ambiguous end at 01:30 EDT', () => {
    const quiet: QuietHours = { start: '00:00', end: '02:30' };
    expect(endOf('2027-03-14T01:00:00-05:00', 'America/New_York', quiet)).toBe('2027-03-14T07:00:00.000Z');
    const overlap: QuietHours = { start: '00:00', end: '01:30' };
    expect(endOf('2027-11-07T01:00:00-04:00', 'America/New_York', overlap)).toBe('2027-11-07T05:30:00.000Z');
    expect(endOf('2027-11-07T01:00:00-05:00', 'America/New_York', overlap)).toBeNull();
  });
});

describe('a same-day window (13:00–15:00)', () => {
  const AFTERNOON: QuietHours = { start: '13:00', end: '15:00' };
  test('is quiet from 13:00 until 15:00 the same day', () => {
    expect(endOf('2027-05-10T13:00:00+02:00', 'Europe/Berlin', AFTERNOON)).toBe('2027-05-10T13:00:00.000Z');
    expect(endOf('2027-05-10T14:59:00+02:00', 'Europe/Berlin', AFTERNOON)).toBe('2027-05-10T13:00:00.000Z');
  });
  test('is not quiet before 13:00, at 15:00, or late at night', () => {
    expect(endOf('2027-05-10T12:59:00+02:00', 'Europe/Berlin', AFTERNOON)).toBeNull();
    expect(endOf('2027-05-10T15:00:00+02:00', 'Europe/Berlin', AFTERNOON)).toBeNull();
    expect(endOf('2027-05-10T23:30:00+02:00', 'Europe/Berlin', AFTERNOON)).toBeNull();
    expect(endOf('2027-05-10T00:30:00+02:00', 'Europe/Berlin', AFTERNOON)).toBeNull();
  });
});

test('a window whose start equals its end means no quiet hours', () => {
  for (const at of ['2027-05-10T08:00:00+02:00', '2027-05-10T03:00:00+02:00', '2027-05-10T20:00:00+02:00']) {
    expect(endOf(at, 'Europe/Berlin', { start: '08:00', end: '08:00' })).toBeNull();
  }
});

describe('zones with non-whole-hour offsets', () => {
  test('Asia/Kolkata (+05:30): 22:00–08:00 ends at 02:30Z', () => {
    expect(endOf('2027-05-10T21:59:00+05:30', 'Asia/Kolkata', NIGHT)).toBeNull();
    expect(endOf('2027-05-10T22:00:00+05:30', 'Asia/Kolkata', NIGHT)).toBe('2027-05-11T02:30:00.000Z');
    expect(endOf('2027-05-11T07:59:00+05:30', 'Asia/Kolkata', NIGHT)).toBe('2027-05-11T02:30:00.000Z');
    expect(endOf('2027-05-11T08:00:00+05:30', 'Asia/Kolkata', NIGHT)).toBeNull();
  });

  test('Pacific/Chatham (+13:45 in January, +12:45 in July)', () => {
    expect(endOf('2027-01-15T22:00:00+13:45', 'Pacific/Chatham', NIGHT)).toBe('2027-01-15T18:15:00.000Z');
    expect(endOf('2027-07-15T22:00:00+12:45', 'Pacific/Chatham', NIGHT)).toBe('2027-07-15T19:15:00.000Z');
    expect(endOf('2027-07-16T08:00:00+12:45', 'Pacific/Chatham', NIGHT)).toBeNull();
    expect(endOf('2027-07-15T21:59:00+12:45', 'Pacific/Chatham', NIGHT)).toBeNull();
  });

  test('Pacific/Chatham: an end in its 02:45→03:45 gap releases at 03:45 (+13:45)', () => {
    const quiet: QuietHours = { start: '00:00', end: '03:00' };
    expect(endOf('2027-09-26T02:00:00+12:45', 'Pacific/Chatham', quiet)).toBe('2027-09-25T14:00:00.000Z');
  });
});

describe('input validation', () => {
  test.each(['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Pacific/Chatham', 'UTC'])(
    'accepts the time zone %s',
    (zone) => expect(isValidTimeZone(zone)).toBe(true),
  );
  test.each(['Mars/Base', '', '+01:00', 'Berlin'])('rejects the time zone "%s"', (zone) =>
    expect(isValidTimeZone(zone)).toBe(false),
  );
  test.each(['00:00', '07:05', '12:30', '23:59'])('accepts the clock time %s', (value) =>
    expect(isValidClockTime(value)).toBe(true),
  );
  test.each(['24:00', '7:5', '7:05', '07:5', '12:60', '07:05:00', ' 07:05', '0705', ''])(
    'rejects the clock time "%s"',
    (value) => expect(isValidClockTime(value)).toBe(false),
  );
  test('quietHoursEnd refuses an unknown zone, a malformed time or an invalid date', () => {
    const at = new Date('2027-05-10T12:00:00Z');
    expect(() => quietHoursEnd(at, 'Mars/Base', NIGHT)).toThrow(RangeError);
    expect(() => quietHoursEnd(at, 'Europe/Berlin', { start: '24:00', end: '08:00' })).toThrow(RangeError);
    expect(() => quietHoursEnd(new Date('nope'), 'Europe/Berlin', NIGHT)).toThrow(RangeError);
  });
});
