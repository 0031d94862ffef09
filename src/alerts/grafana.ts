/**
 * Grafana Alerting's webhook contact point: Alertmanager's payload plus `orgId`, `state`, `title`,
 * `message`, and per alert `values`, `valueString`, `silenceURL`, `dashboardURL`, `panelURL`,
 * `imageURL`. With an HMAC secret configured, Grafana sends `X-Grafana-Alerting-Signature`: the
 * lowercase hex HMAC-SHA256 of `timestamp:body` when a timestamp header is configured (the timestamp
 * is Unix seconds), else of the raw body alone. The bot needs the timestamp: a body-only signature
 * can be replayed forever.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { LIMITS, checkAlertCount, reasonFrom, splitRouted } from './alert.js';
import {
  type ParsedDelivery,
  alertmanagerAlertSchema,
  alertmanagerBodySchema,
  normaliseAlert,
} from './alertmanager.js';

export const GRAFANA_SIGNATURE_HEADER = 'x-grafana-alerting-signature';

const url = z.string({ error: 'must be text' }).max(4_096, { error: 'longer than 4096 characters' });

export const grafanaAlertSchema = alertmanagerAlertSchema.extend({
  // Evaluated query values (numbers, null for no data); informational only, so any shape is kept out.
  values: z.unknown().optional(),
  valueString: z.string().max(LIMITS.maxText).optional(),
  silenceURL: url.optional(),
  dashboardURL: url.optional(),
  panelURL: url.optional(),
  imageURL: url.optional(),
});

export const grafanaBodySchema = alertmanagerBodySchema.extend({
  alerts: z.array(grafanaAlertSchema).max(LIMITS.maxAlerts),
  orgId: z.number().int().optional(),
  state: z.string().max(64).optional(),
  title: z.string().max(LIMITS.maxText).optional(),
  message: z.string().max(65_536).optional(),
});

export function parseGrafana(body: unknown): ParsedDelivery {
  const tooMany = checkAlertCount(body);
  if (tooMany) return tooMany;
  const parsed = grafanaBodySchema.safeParse(body);
  if (!parsed.success) return { ok: false, reason: reasonFrom(parsed.error, body) };
  const { alerts, unrouted } = splitRouted(
    parsed.data.alerts.map((alert) =>
      normaliseAlert('grafana', alert, alert.panelURL || alert.dashboardURL || alert.generatorURL || null),
    ),
  );
  return {
    ok: true,
    alerts,
    unrouted,
    groupKey: parsed.data.groupKey,
    truncatedAlerts: parsed.data.truncatedAlerts ?? 0,
  };
}

/**
 * True when `header` is the hex HMAC-SHA256 of `timestamp:body` under `secret`. Compared in
 * constant time; a missing, malformed or wrong-length header is simply false. The replay window on
 * the timestamp is the caller's (it owns the clock).
 */
export function verifyGrafanaSignature(
  rawBody: string | Buffer,
  header: string | undefined | null,
  secret: string,
  timestamp: string,
): boolean {
  if (secret === '' || typeof header !== 'string' || timestamp === '') return false;
  const given = header.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(given)) return false;
  const hmac = createHmac('sha256', secret).update(`${timestamp}:`).update(rawBody);
  return timingSafeEqual(hmac.digest(), Buffer.from(given, 'hex'));
}
