/**
 * Durations as plans write them: one or more `<integer><unit>` groups, e.g. `30s`, `15m`, `1h30m`.
 * Plain words (`15 minutes`) are refused on purpose: a typo in an incident plan must fail `validate`,
 * not silently become a different number.
 */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

const WHOLE = /^(?:\d+(?:ms|s|m|h|d))+$/;
const GROUP = /(\d+)(ms|s|m|h|d)/g;

export type DurationParse = { ok: true; ms: number } | { ok: false; message: string };

export function parseDuration(text: string): DurationParse {
  const trimmed = text.trim();
  if (!WHOLE.test(trimmed)) {
    return {
      ok: false,
      message: `"${text}" is not a duration: write a number followed by ms, s, m, h or d, e.g. 30s, 15m, 1h30m`,
    };
  }
  let ms = 0;
  for (const match of trimmed.matchAll(GROUP)) {
    ms += Number(match[1]) * UNIT_MS[match[2] as Unit];
  }
  return { ok: true, ms };
}

/** A short human form for cards and messages: 90_000 -> "1m30s", 0 -> "0s". */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  let rest = Math.round(ms / 1_000);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
