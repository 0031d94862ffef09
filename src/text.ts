/** Plain-text helpers shared by adapters (Slack mrkdwn has its own in slack/blocks/text.ts). */

/** One line, at most `max` characters, for a failure message or a one-line summary. */
export function excerpt(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
