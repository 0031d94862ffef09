/**
 * The generic webhook (`POST /alerts/generic`) for sources without a receiver of their own.
 * The shape is documented in docs/alerts.md: one alert object or a list of them. Authenticated by
 * `X-Rollback-Signature: v0=<hex HMAC-SHA256 of v0:<timestamp>:<raw body>>` with
 * `X-Rollback-Timestamp: <Unix seconds>` (Slack's scheme: the signed timestamp bounds a replay; the
 * route checks its window), or by the bearer `ALERT_WEBHOOK_TOKEN`; both checks are here,
 * constant-time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import {
  type Alert,
  type ParseFailure,
  LIMITS,
  checkAlertCount,
  fingerprintOf,
  isoTime,
  labelMap,
  reasonFrom,
  toSafeMap,
} from './alert.js';

export const GENERIC_SIGNATURE_HEADER = 'x-rollback-signature';
export const GENERIC_TIMESTAMP_HEADER = 'x-rollback-timestamp';

const name = z
  .string({ error: 'must be text' })
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(LIMITS.maxLabelValue, { error: `longer than ${LIMITS.maxLabelValue} characters` });

export const genericAlertSchema = z.strictObject({
  service: name,
  environment: name.optional(),
  status: z.enum(['firing', 'resolved']),
  title: name,
  fingerprint: z.string().min(1).max(256).optional(),
  startsAt: isoTime.optional(),
  labels: labelMap().optional(),
  annotations: labelMap(LIMITS.maxText).optional(),
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .max(4_096)
    .optional(),
});

export type ParsedGeneric = { ok: true; alerts: Alert[] } | ParseFailure;

/** `receivedAt` stands in for a missing `startsAt` (the caller passes its clock's now). */
export function parseGeneric(body: unknown, receivedAt: number): ParsedGeneric {
  const tooMany = checkAlertCount(body);
  if (tooMany) return tooMany;
  const parsed = Array.isArray(body)
    ? z.array(genericAlertSchema).min(1, { error: 'must have at least 1 alert' }).safeParse(body)
    : genericAlertSchema.safeParse(body);
  if (!parsed.success) return { ok: false, reason: reasonFrom(parsed.error, body) };
  const list = Array.isArray(parsed.data) ? parsed.data : [parsed.data];
  return { ok: true, alerts: list.map((alert) => normalise(alert, receivedAt)) };
}

function normalise(alert: z.infer<typeof genericAlertSchema>, receivedAt: number): Alert {
  const environment = alert.environment ?? 'production';
  // The top-level fields win over labels of the same name: they are what routing reads.
  const labels = toSafeMap({ ...alert.labels, alertname: alert.title });
  labels.service = alert.service;
  labels.environment = environment;
  const annotations = alert.annotations ?? toSafeMap({});
  return {
    source: 'generic',
    fingerprint: alert.fingerprint ?? fingerprintOf(labels),
    status: alert.status,
    service: alert.service,
    environment,
    labels,
    annotations,
    startsAt: alert.startsAt ?? receivedAt,
    endsAt: null,
    summary: alert.title,
    url: alert.url ?? null,
  };
}

/** The value of `X-Rollback-Signature` for `rawBody` sent at `timestamp` (Unix seconds, as sent). */
export function genericSignature(rawBody: string | Buffer, timestamp: string, secret: string): string {
  const hmac = createHmac('sha256', secret).update(`v0:${timestamp}:`).update(rawBody);
  return `v0=${hmac.digest('hex')}`;
}

/**
 * `X-Rollback-Signature: v0=<hex>` over `v0:<timestamp>:<raw body>`, compared in constant time. The
 * body-only `sha256=` signature of old is refused: without a signed time it could be replayed.
 */
export function verifyGenericSignature(
  rawBody: string | Buffer,
  header: string | undefined | null,
  timestamp: string,
  secret: string,
): boolean {
  if (secret === '' || typeof header !== 'string') return false;
  const match = /^v0=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!match) return false;
  const expected = Buffer.from(genericSignature(rawBody, timestamp, secret).slice(3), 'hex');
  return timingSafeEqual(expected, Buffer.from(match[1]!.toLowerCase(), 'hex'));
}
