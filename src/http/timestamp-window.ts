/**
 * A signature only proves who signed, not when the request was sent: a signed request captured once
 * could be replayed forever. Signed senders (Slack, Grafana, the generic webhook) therefore sign a
 * timestamp with the body, and a request whose timestamp is not within this window of now is refused.
 * One window and one parser for all of them.
 */

/** Slack's own window: far enough for clock skew and a slow proxy, short enough to bound a replay. */
export const REPLAY_WINDOW_MS = 5 * 60_000;

export type TimestampCheck = { ok: true; seconds: number } | { ok: false; reason: string };

/** `text` must be Unix seconds within `REPLAY_WINDOW_MS` of `now` (past or future). */
export function checkTimestamp(header: string, text: string | undefined, now: number): TimestampCheck {
  if (text === undefined || text.trim() === '') {
    return { ok: false, reason: `the ${header} header (Unix seconds) is missing` };
  }
  if (!/^\d{1,11}$/.test(text.trim())) {
    return { ok: false, reason: `the ${header} header must be Unix seconds` };
  }
  const seconds = Number(text.trim());
  if (Math.abs(now - seconds * 1_000) > REPLAY_WINDOW_MS) {
    return {
      ok: false,
      reason: `the ${header} header is not within 5 minutes of now: a replay, or the sender's clock is wrong`,
    };
  }
  return { ok: true, seconds };
}
