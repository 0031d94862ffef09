/** Plain-text helpers shared by adapters (Slack mrkdwn has its own in slack/blocks/text.ts). */

/** One line, at most `max` characters, for a failure message or a one-line summary. */
export function excerpt(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** fetch says "fetch failed"; the reason (ECONNREFUSED, a DNS error, a TLS error) is in its cause. */
export function networkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause: unknown = error.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' && !cause.message.includes(code)
      ? `${cause.message} (${code})`
      : cause.message;
  }
  return error.message;
}
