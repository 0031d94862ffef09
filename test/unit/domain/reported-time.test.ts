import { describe, expect, it } from 'vitest';
import { checkReportedTime, CLOCK_SKEW_MS, MAX_REPORTED_AGE_MS } from '../../../src/domain/reported-time.js';

const NOW = Date.parse('2026-12-05T12:00:00Z');

describe('a reported time', () => {
  it('is believed from a day back to a clock skew ahead, both ends included', () => {
    for (const at of [NOW, NOW - MAX_REPORTED_AGE_MS, NOW + CLOCK_SKEW_MS, NOW - 1])
      expect(checkReportedTime(at, NOW)).toEqual({ ok: true, at });
  });

  it('is refused older than a day or further ahead than the skew, saying which limit', () => {
    expect(checkReportedTime(0, NOW)).toEqual({
      ok: false,
      reason: 'too_old',
      problem: '1970-01-01T00:00:00.000Z is more than 24 hours before now (2026-12-05T12:00:00.000Z)',
    });
    expect(checkReportedTime(NOW - MAX_REPORTED_AGE_MS - 1, NOW)).toMatchObject({ reason: 'too_old' });
    expect(checkReportedTime(NOW + CLOCK_SKEW_MS + 1, NOW)).toEqual({
      ok: false,
      reason: 'in_future',
      problem:
        '2026-12-05T12:01:00.001Z is in the future (more than 60 seconds after now, 2026-12-05T12:00:00.000Z)',
    });
  });
});
