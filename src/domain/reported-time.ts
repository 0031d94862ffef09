/**
 * Times that senders report about the past (a deployment's `at`, an alert's `startsAt`) are
 * believed only within a window around the bot's clock: at most a day old, and no later than a
 * small clock skew ahead. A record dated 2999 would otherwise stay "the current deployment"
 * forever, and an alert "started" in 1970 would make every rollback of its service need the top
 * authority tier from minute 0. Pure: `now` comes in.
 */
/** How far ahead of the bot's clock a sender's clock may run. */
export const CLOCK_SKEW_MS = 60_000;
/** How old a reported time may be. */
export const MAX_REPORTED_AGE_MS = 24 * 60 * 60_000;

export type ReportedTime =
  | { ok: true; at: number }
  /** `problem`: `2999-01-01T00:00:00.000Z is in the future (...)`, for a refusal or a note. */
  | { ok: false; reason: 'too_old' | 'in_future'; problem: string };

export function checkReportedTime(at: number, now: number): ReportedTime {
  const iso = new Date(at).toISOString();
  if (at < now - MAX_REPORTED_AGE_MS)
    return {
      ok: false,
      reason: 'too_old',
      problem: `${iso} is more than ${MAX_REPORTED_AGE_MS / 3_600_000} hours before now (${new Date(now).toISOString()})`,
    };
  if (at > now + CLOCK_SKEW_MS)
    return {
      ok: false,
      reason: 'in_future',
      problem: `${iso} is in the future (more than ${CLOCK_SKEW_MS / 1_000} seconds after now, ${new Date(now).toISOString()})`,
    };
  return { ok: true, at };
}
