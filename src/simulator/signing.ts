/** Slack's request signing: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>` with the signing secret. */
import { createHmac } from 'node:crypto';

export function slackSignature(signingSecret: string, timestampSeconds: number, body: string): string {
  const digest = createHmac('sha256', signingSecret).update(`v0:${timestampSeconds}:${body}`).digest('hex');
  return `v0=${digest}`;
}
