/**
 * The normalised alert every receiver (Alertmanager, Grafana, SNS, the generic webhook) produces, and the
 * pieces the receivers share: label maps that are safe against hostile keys, ISO times, the size
 * limits, and the delivery key that deduplicates at-least-once redeliveries (DESIGN section 2).
 * Pure: no I/O, no clock.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { describeIssue, valueAt } from '../schema/issues.js';

export type AlertSource = 'alertmanager' | 'grafana' | 'generic' | 'sns';
export type AlertStatus = 'firing' | 'resolved';

export interface Alert {
  source: AlertSource;
  fingerprint: string;
  status: AlertStatus;
  /** The `service` label; alerts without one are returned apart as `unrouted`. */
  service: string;
  /** The `environment` label, else `env`, else `production`. */
  environment: string;
  /** Null-prototype maps: a `__proto__` key is plain data, never the prototype. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: number;
  /** Null while the alert is firing (Alertmanager's zero time `0001-01-01T00:00:00Z`). */
  endsAt: number | null;
  /** One line for the thread: `summary` annotation, else `description`, else the alert name. */
  summary: string;
  /** Where a human looks next: the generator (rule) URL, a dashboard, or the generic `url`. */
  url: string | null;
}

/** An alert that carried no `service` label: the caller answers 202 and counts it. */
export type UnroutedAlert = Omit<Alert, 'service'> & { service: null };

export const LIMITS = {
  /** Alerts per delivery; Alertmanager's own `max_alerts` truncates well below this when set. */
  maxAlerts: 5_000,
  maxLabels: 100,
  maxLabelName: 256,
  maxLabelValue: 1_024,
  maxText: 16_384,
} as const;

export const DEFAULT_ENVIRONMENT = 'production';

/** Alertmanager and Grafana write this for "no end" on a firing alert. */
const ZERO_TIME = /^0001-01-01T00:00:00(\.0+)?Z$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO 8601 time with a zone, to epoch milliseconds. */
export const isoTime = z
  .string({ error: 'must be an ISO time' })
  .max(64, { error: 'not an ISO time' })
  .refine((text) => ISO_TIME.test(text) && !Number.isNaN(Date.parse(text)), { error: 'not an ISO time' })
  .transform((text) => Date.parse(text));

/** Like `isoTime`, but the zero time (and an empty string) mean "no end": null. */
export const endTime = z
  .string({ error: 'must be an ISO time' })
  .max(64, { error: 'not an ISO time' })
  .transform((text, ctx) => {
    if (text === '' || ZERO_TIME.test(text)) return null;
    if (ISO_TIME.test(text) && !Number.isNaN(Date.parse(text))) return Date.parse(text);
    ctx.addIssue({ code: 'custom', message: 'not an ISO time' });
    return z.NEVER;
  });

/**
 * A label or annotation map: string keys, string values within the limits. Parsed into a
 * null-prototype object, so `__proto__` or `constructor` keys are stored as data and can never
 * reach `Object.prototype`.
 */
export function labelMap(maxValue: number = LIMITS.maxLabelValue) {
  return z
    .record(
      z
        .string()
        .max(LIMITS.maxLabelName, { error: `label name longer than ${LIMITS.maxLabelName} characters` }),
      z.string({ error: 'must be text' }).max(maxValue, { error: `longer than ${maxValue} characters` }),
    )
    .refine((map) => Object.keys(map).length <= LIMITS.maxLabels, {
      error: `more than ${LIMITS.maxLabels} labels`,
    })
    .transform(toSafeMap);
}

/** Copies own enumerable string entries into a null-prototype object. */
export function toSafeMap(map: Record<string, string>): Record<string, string> {
  const safe = Object.create(null) as Record<string, string>;
  for (const [key, value] of Object.entries(map)) {
    Object.defineProperty(safe, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return safe;
}

/** Reads a label without ever consulting a prototype. */
export function label(labels: Record<string, string>, name: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(labels, name) ? labels[name] : undefined;
}

export function environmentOf(labels: Record<string, string>): string {
  const value = label(labels, 'environment') ?? label(labels, 'env');
  return value !== undefined && value !== '' ? value : DEFAULT_ENVIRONMENT;
}

export function summaryOf(labels: Record<string, string>, annotations: Record<string, string>): string {
  return (
    label(annotations, 'summary') ??
    label(annotations, 'description') ??
    label(labels, 'alertname') ??
    'alert'
  );
}

export type ParseFailure = { ok: false; reason: string };

/** `alerts[0].startsAt: not an ISO time` — the first problem, with its path, in plain words. */
export function reasonFrom(error: z.ZodError, input: unknown): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid body';
  const path = issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment));
  const where = path.reduce<string>(
    (text, segment) =>
      typeof segment === 'number' ? `${text}[${segment}]` : text === '' ? segment : `${text}.${segment}`,
    '',
  );
  const message = describeIssue(issue, valueAt(input, path));
  return where === '' ? `body: ${message}` : `${where}: ${message}`;
}

/** Checks the alert count before any per-alert parsing, so a huge body costs one length read. */
export function checkAlertCount(body: unknown, key = 'alerts'): ParseFailure | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const list: unknown = Array.isArray(body) ? body : (body as Record<string, unknown>)[key];
  if (Array.isArray(list) && list.length > LIMITS.maxAlerts) {
    return {
      ok: false,
      reason: `${Array.isArray(body) ? 'body' : key}: ${list.length} alerts, more than the ${LIMITS.maxAlerts} accepted in one delivery`,
    };
  }
  return undefined;
}

/** Splits normalised alerts into routable ones and those without a `service` label. */
export function splitRouted(candidates: readonly (Alert | UnroutedAlert)[]): {
  alerts: Alert[];
  unrouted: UnroutedAlert[];
} {
  const alerts: Alert[] = [];
  const unrouted: UnroutedAlert[] = [];
  for (const candidate of candidates) {
    if (candidate.service === null) unrouted.push(candidate);
    else alerts.push(candidate);
  }
  return { alerts, unrouted };
}

/**
 * Key of one delivery for deduplication: the group key with the sorted `fingerprint:status` pairs.
 * A redelivery of the same notification gives the same key; an alert of the group resolving (or a
 * new one joining) gives a different one. Hashed so the key stays short whatever the group size.
 */
export function deliveryKey(
  source: AlertSource,
  groupKey: string,
  alerts: readonly (Pick<Alert, 'fingerprint' | 'status'> & { startsAt?: number | null })[],
): string {
  // With the start, a new episode of the same alert within the memory window is not "a redelivery".
  const parts = alerts
    .map(
      (alert) => `${alert.fingerprint}:${alert.status}${alert.startsAt == null ? '' : `:${alert.startsAt}`}`,
    )
    .sort();
  const digest = createHash('sha256')
    .update(JSON.stringify([groupKey, parts]))
    .digest('hex');
  return `${source}:${digest}`;
}

/** A stable fingerprint for a source that sends none: a hash of the sorted labels. */
export function fingerprintOf(labels: Record<string, string>): string {
  const entries = Object.keys(labels)
    .sort()
    .map((key) => [key, labels[key]]);
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex').slice(0, 16);
}
