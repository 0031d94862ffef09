/**
 * Alertmanager's webhook payload (version "4"), parsed at the edge into normalised alerts.
 * https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
 * Grafana's webhook contact point sends the same shape with a few extra fields (see grafana.ts),
 * so the alert schema and the normalisation live here and are shared.
 */
import { z } from 'zod';
import {
  type Alert,
  type AlertSource,
  type ParseFailure,
  type UnroutedAlert,
  LIMITS,
  checkAlertCount,
  endTime,
  environmentOf,
  fingerprintOf,
  isoTime,
  label,
  labelMap,
  reasonFrom,
  splitRouted,
  summaryOf,
  toSafeMap,
} from './alert.js';

const text = (max: number = LIMITS.maxText) =>
  z.string({ error: 'must be text' }).max(max, { error: `longer than ${max} characters` });
const status = z.enum(['firing', 'resolved']);

export const alertmanagerAlertSchema = z.looseObject({
  status,
  labels: labelMap(),
  annotations: labelMap(LIMITS.maxText).optional(),
  startsAt: isoTime,
  endsAt: endTime.optional(),
  generatorURL: text(4_096).optional(),
  fingerprint: text(256).optional(),
});

export const alertmanagerBodySchema = z.looseObject({
  version: text(16).optional(),
  receiver: text(1_024).optional(),
  status,
  alerts: z.array(alertmanagerAlertSchema).max(LIMITS.maxAlerts),
  groupLabels: labelMap().optional(),
  commonLabels: labelMap().optional(),
  commonAnnotations: labelMap(LIMITS.maxText).optional(),
  externalURL: text(4_096).optional(),
  groupKey: text(LIMITS.maxText),
  truncatedAlerts: z.number().int().min(0).optional(),
});

export type AlertmanagerAlert = z.infer<typeof alertmanagerAlertSchema>;

export type ParsedDelivery =
  | {
      ok: true;
      alerts: Alert[];
      unrouted: UnroutedAlert[];
      groupKey: string;
      /** Alerts Alertmanager left out because of the receiver's `max_alerts`. */
      truncatedAlerts: number;
    }
  | ParseFailure;

/** Normalises one Alertmanager-shaped alert; `url` lets Grafana prefer its dashboard link. */
export function normaliseAlert(
  source: AlertSource,
  alert: AlertmanagerAlert,
  url: string | null = alert.generatorURL ?? null,
): Alert | UnroutedAlert {
  const annotations = alert.annotations ?? toSafeMap({});
  const service = label(alert.labels, 'service');
  return {
    source,
    fingerprint: alert.fingerprint ?? fingerprintOf(alert.labels),
    status: alert.status,
    service: service !== undefined && service !== '' ? service : null,
    environment: environmentOf(alert.labels),
    labels: alert.labels,
    annotations,
    startsAt: alert.startsAt,
    endsAt: alert.endsAt ?? null,
    summary: summaryOf(alert.labels, annotations),
    url: url === '' ? null : url,
  };
}

export function parseAlertmanager(body: unknown): ParsedDelivery {
  const tooMany = checkAlertCount(body);
  if (tooMany) return tooMany;
  const parsed = alertmanagerBodySchema.safeParse(body);
  if (!parsed.success) return { ok: false, reason: reasonFrom(parsed.error, body) };
  const { alerts, unrouted } = splitRouted(
    parsed.data.alerts.map((alert) => normaliseAlert('alertmanager', alert)),
  );
  return {
    ok: true,
    alerts,
    unrouted,
    groupKey: parsed.data.groupKey,
    truncatedAlerts: parsed.data.truncatedAlerts ?? 0,
  };
}
