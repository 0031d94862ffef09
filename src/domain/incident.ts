/**
 * An incident: what alerts say about one service in one environment while it is unwell. One open
 * incident per service and environment, one Slack thread each (DESIGN journey 1). Alerts are merged
 * into it idempotently, so an at-least-once redelivery (or the same alert from two replicas) changes
 * nothing, and an old delivery arriving late cannot undo a newer one. Pure: time comes in as data.
 */
import type { TriggerSpec } from './plan.js';
import type { FiringAlert } from './rollback-types.js';
import { checkReportedTime } from './reported-time.js';

export type AlertState = 'firing' | 'resolved';

/** One alert as the incident remembers it (labels are kept only as far as the thread needs them). */
export interface IncidentAlert {
  fingerprint: string;
  status: AlertState;
  name: string;
  summary: string;
  source: string;
  startsAt: number;
  endsAt: number | null;
  url: string | null;
}

/** An alert as the receivers deliver it, with the labels that triggers match on. */
export interface IncomingAlert extends IncidentAlert {
  labels: Readonly<Record<string, string>>;
}

export interface TriggerDecision {
  /** The plan's trigger name, or null when no trigger matched and the default offer is made. */
  name: string | null;
  action: TriggerSpec['action'];
  strategy: string | null;
  delayMs: number;
  /** The alert that fired it. */
  fingerprint: string;
  at: number;
  /** Why the automatic rollback could not be declared (another one active, no target ...). */
  refused?: string;
  /**
   * Whether the action is done: an offer is at once; an automatic rollback once it was declared (or
   * refused). One that is not is tried again with the next delivery (a crash or a store error
   * between deciding and declaring must not lose it).
   */
  settled: boolean;
}

export interface Incident {
  id: string;
  service: string;
  environment: string;
  /**
   * The earliest `startsAt` of its alerts: the incident start every rollback of it inherits. A
   * start more than a day old or in the future is not believed: the time it was received stands in.
   */
  startedAt: number;
  /** Why the start is a receive time rather than an alert's `startsAt`, when it is. */
  startNote?: string;
  openedAt: number;
  closedAt: number | null;
  /** In arrival order; an array, not a map, because fingerprints are foreign text. */
  alerts: IncidentAlert[];
  /** Alerts beyond the kept maximum: counted, never dropped silently. */
  overflow: number;
  /** Changes not yet told in the thread (the parent message always shows the whole state). */
  unannounced: { firing: string[]; resolved: string[] };
  rollbackIds: string[];
  trigger: TriggerDecision | null;
  deliveries: number;
  /**
   * The `severity` label of the first firing alert that had one (absent: none had, or an incident
   * stored before it was kept): what stakeholders read as the incident's severity.
   */
  severity?: string;
}

/** Longest severity kept: a label, not a text. */
const MAX_SEVERITY = 64;

export const MAX_INCIDENT_ALERTS = 5_000;

/** The alerts firing now, as a rollback keeps them (stabilisation is judged on them). */
export function firingOf(alerts: readonly IncidentAlert[]): FiringAlert[] {
  return alerts
    .filter((alert) => alert.status === 'firing')
    .map((alert) => ({ fingerprint: alert.fingerprint, name: alert.name, summary: alert.summary }));
}

export interface MergeResult {
  incident: Incident;
  opened: boolean;
  /** Fingerprints that started (or started again) firing with this delivery. */
  firing: string[];
  resolved: string[];
  /** Alerts of this delivery that changed nothing (redeliveries, late copies). */
  unchanged: number;
  /** Resolved alerts of a service with no open incident: nothing to tell. */
  stale: number;
  /** Set when this delivery decided the incident's trigger (once per incident). */
  trigger: TriggerDecision | null;
  /** Firing alerts of this delivery whose `startsAt` was not believed (see `startOf`). */
  unbelievedStarts: Array<{ fingerprint: string; name: string; problem: string }>;
}

export interface MergeInput {
  /** The stored incident of this service and environment; a closed one is replaced by a new one. */
  current: Incident | null;
  alerts: readonly IncomingAlert[];
  service: string;
  environment: string;
  triggers: readonly TriggerSpec[];
  at: number;
  newId: () => string;
}

/** Applies one delivery's alerts to the incident of their service and environment. */
export function mergeAlerts(input: MergeInput): MergeResult | null {
  const { at } = input;
  const open = input.current !== null && input.current.closedAt === null ? input.current : null;
  // A late copy of an alert the closed incident saw resolve must not open a new incident.
  const alerts =
    open === null && input.current !== null ? withoutLateCopies(input.alerts, input.current) : input.alerts;
  const anyFiring = alerts.some((alert) => alert.status === 'firing');
  if (open === null && !anyFiring) {
    return null;
  }
  const incident: Incident = open
    ? {
        ...open,
        alerts: [...open.alerts],
        unannounced: { firing: [...open.unannounced.firing], resolved: [...open.unannounced.resolved] },
      }
    : {
        id: input.newId(),
        service: input.service,
        environment: input.environment,
        startedAt: Math.min(...alerts.filter((a) => a.status === 'firing').map((a) => startOf(a, at)), at),
        openedAt: at,
        closedAt: null,
        alerts: [],
        overflow: 0,
        unannounced: { firing: [], resolved: [] },
        rollbackIds: [],
        trigger: null,
        deliveries: 0,
      };
  incident.deliveries += 1;
  const index = new Map(incident.alerts.map((alert, i) => [alert.fingerprint, i]));
  const result: MergeResult = {
    incident,
    opened: open === null,
    firing: [],
    resolved: [],
    unchanged: 0,
    stale: 0,
    trigger: null,
    unbelievedStarts: [],
  };
  for (const alert of alerts) {
    const { labels: _labels, ...kept } = alert;
    const position = index.get(alert.fingerprint);
    const known = position === undefined ? undefined : incident.alerts[position];
    if (known === undefined) {
      if (incident.alerts.length >= MAX_INCIDENT_ALERTS && !evictResolved(incident, index)) {
        incident.overflow += 1;
        continue;
      }
      index.set(alert.fingerprint, incident.alerts.length);
      incident.alerts.push(kept);
      if (alert.status === 'firing') result.firing.push(alert.fingerprint);
      else result.resolved.push(alert.fingerprint);
    } else if (known.status === 'firing' && alert.status === 'resolved' && alert.startsAt >= known.startsAt) {
      // (A resolution of an earlier episode, arriving late, must not end the current one.)
      incident.alerts[position!] = { ...known, status: 'resolved', endsAt: alert.endsAt ?? at };
      result.resolved.push(alert.fingerprint);
    } else if (
      known.status === 'resolved' &&
      alert.status === 'firing' &&
      alert.startsAt > (known.endsAt ?? 0)
    ) {
      // The same alert firing again after it resolved: a new episode, not a late copy of the old one.
      incident.alerts[position!] = { ...kept, status: 'firing', endsAt: null };
      result.firing.push(alert.fingerprint);
    } else {
      result.unchanged += 1;
      continue;
    }
    if (alert.status === 'firing') {
      incident.startedAt = Math.min(incident.startedAt, startOf(alert, at));
      const reported = checkReportedTime(alert.startsAt, at);
      if (!reported.ok) {
        result.unbelievedStarts.push({
          fingerprint: alert.fingerprint,
          name: alert.name,
          problem: reported.problem,
        });
        // Said where it matters: when the receive time is what the incident's start now is.
        if (incident.startedAt === at)
          incident.startNote ??= `${alert.name}'s startsAt ${reported.problem}: the time it was received stands in`;
      }
    }
  }
  if (incident.severity === undefined) {
    const severity = alerts
      .filter((alert) => alert.status === 'firing')
      .map((alert) => (Object.hasOwn(alert.labels, 'severity') ? alert.labels['severity']!.trim() : ''))
      .find((label) => label !== '');
    if (severity !== undefined) incident.severity = severity.slice(0, MAX_SEVERITY);
  }
  if (!result.opened) {
    const firing = new Set(incident.unannounced.firing);
    const resolved = new Set(incident.unannounced.resolved);
    incident.unannounced.firing.push(...result.firing.filter((f) => !firing.has(f)));
    incident.unannounced.resolved.push(...result.resolved.filter((f) => !resolved.has(f)));
  }
  // The default offer gives way to a plan trigger that matches later, as long as nobody acted on it.
  const current = incident.trigger;
  const openToChange = current === null || (current.name === null && incident.rollbackIds.length === 0);
  if (openToChange) {
    const decision = decideTrigger(alerts, result.firing, input.triggers, at);
    if (decision && (current === null || decision.name !== null)) {
      incident.trigger = decision;
      result.trigger = decision;
    }
  }
  return result;
}

/**
 * When an alert started, as far as the incident's start goes: its `startsAt` when that is within a
 * day before `receivedAt` and not beyond the clock skew after it, else `receivedAt`. A sender's
 * `1970-01-01` must not make every rollback need the top authority tier from minute 0. (The alert
 * keeps its own `startsAt` for telling episodes and late copies apart.)
 */
export function startOf(alert: Pick<IncidentAlert, 'startsAt'>, receivedAt: number): number {
  return checkReportedTime(alert.startsAt, receivedAt).ok ? alert.startsAt : receivedAt;
}

/** Makes room by forgetting the oldest resolved alert; false when every kept alert still fires. */
function evictResolved(incident: Incident, index: Map<string, number>): boolean {
  const oldest = incident.alerts.findIndex((alert) => alert.status === 'resolved');
  if (oldest === -1) return false;
  incident.alerts.splice(oldest, 1);
  index.clear();
  incident.alerts.forEach((alert, i) => index.set(alert.fingerprint, i));
  return true;
}

function withoutLateCopies(alerts: readonly IncomingAlert[], closed: Incident): IncomingAlert[] {
  const ended = new Map(
    closed.alerts.map((alert) => [alert.fingerprint, alert.endsAt ?? closed.closedAt ?? 0]),
  );
  return alerts.filter((alert) => {
    const endedAt = ended.get(alert.fingerprint);
    return endedAt === undefined || alert.startsAt > endedAt;
  });
}

/**
 * The plan's first trigger (in plan order) that a newly firing alert matches; the default offer
 * when none does.
 */
function decideTrigger(
  alerts: readonly IncomingAlert[],
  firing: readonly string[],
  triggers: readonly TriggerSpec[],
  at: number,
): TriggerDecision | null {
  const fresh = new Set(firing);
  const candidates = alerts.filter((alert) => alert.status === 'firing' && fresh.has(alert.fingerprint));
  for (const trigger of triggers) {
    const alert = candidates.find((candidate) => matchTrigger([trigger], candidate.labels));
    if (alert) {
      return {
        name: trigger.name,
        action: trigger.action,
        strategy: trigger.strategy ?? null,
        delayMs: trigger.delayMs,
        fingerprint: alert.fingerprint,
        at,
        settled: trigger.action === 'propose',
      };
    }
  }
  const first = candidates[0];
  return first
    ? {
        name: null,
        action: 'propose',
        strategy: null,
        delayMs: 0,
        fingerprint: first.fingerprint,
        at,
        settled: true,
      }
    : null;
}

/**
 * Which of a plan's triggers an alert fires: the first (in plan order) whose `match` labels all
 * equal the alert's. An empty `match` matches every alert of the plan's service.
 */
export function matchTrigger(
  triggers: readonly TriggerSpec[],
  labels: Readonly<Record<string, string>>,
): TriggerSpec | undefined {
  return triggers.find((trigger) =>
    Object.entries(trigger.match).every(
      ([name, value]) => Object.prototype.hasOwnProperty.call(labels, name) && labels[name] === value,
    ),
  );
}

/** All alerts resolved: the incident may close once no rollback of it is active. */
export function allResolved(incident: Incident): boolean {
  return incident.alerts.every((alert) => alert.status === 'resolved');
}

export function closeIncident(incident: Incident, at: number): Incident {
  return { ...incident, closedAt: at };
}

/** Removes announced fingerprints from the to-tell lists (after the thread reply went out). */
export function markAnnounced(incident: Incident, told: { firing: string[]; resolved: string[] }): Incident {
  return {
    ...incident,
    unannounced: {
      firing: incident.unannounced.firing.filter((f) => !told.firing.includes(f)),
      resolved: incident.unannounced.resolved.filter((f) => !told.resolved.includes(f)),
    },
  };
}
