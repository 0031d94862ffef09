/**
 * Alerts in, incidents out (DESIGN journey 1): groups a delivery's alerts by service and
 * environment, merges them into the one open incident of each (created by the first firing
 * alert), acts on the plan's trigger once per incident (offer a rollback, or declare one that starts
 * after the trigger's delay), and closes the incident when every alert resolved and no rollback of
 * it is active. Telling Slack is the injected `announce`'s job: it reads the incident back and
 * brings the thread up to date, so a burst of deliveries costs a few coalesced writes, not one each.
 *
 * Replicas share nothing but the store: every incident write is version-guarded and retried, and
 * one process serialises its own writes per service and environment.
 */
import type { Logger } from 'pino';
import { label, type Alert } from '../alerts/alert.js';
import {
  allResolved,
  closeIncident,
  firingOf,
  mergeAlerts,
  type Incident,
  type IncomingAlert,
  type TriggerDecision,
} from '../domain/incident.js';
import type { RollbackPlan } from '../domain/plan.js';
import type { FiringAlert } from '../domain/rollback-types.js';
import { KeyedQueue } from '../lib/keyed-queue.js';
import type { ActiveLocks, Dedup, Docs, RollbackReader } from '../store/store.js';
import { excerpt } from '../lib/text.js';
import {
  CURRENT_INCIDENT,
  currentKey,
  IncidentRecords,
  INCIDENTS,
  MAX_CONFLICT_RETRIES,
} from './incident-records.js';
import type { Catalog, DeclareOutcome, DeclareRequest } from './rollback-service.js';

const DELIVERY_MEMORY_MS = 24 * 60 * 60_000;
const MAX_KEPT_TEXT = 300;
const MAX_KEPT_URL = 2_000;

export interface Delivery {
  /** Deduplication key of the whole delivery (`deliveryKey`, or SNS's MessageId). */
  key: string;
  alerts: readonly Alert[];
}

export interface DeliveryOutcome {
  duplicate: boolean;
  /** Alerts applied to an incident of a known service (changed or not). */
  accepted: number;
  /** Alerts of services (or environments) no plan covers: answered 202, logged and counted. */
  unknown: Array<{ service: string; environment: string; alerts: number }>;
  /** Resolved alerts of a service with no open incident. */
  stale: number;
  incidents: Array<{ id: string; service: string; environment: string; opened: boolean }>;
  /** What the sender should know: alert starts that were not believed, and what stood in. */
  notes: string[];
}

export interface IncidentSummary {
  id: string;
  service: string;
  environment: string;
  startedAt: number;
  firing: number;
  alerts: number;
  rollbackIds: string[];
}

export interface IncidentServiceOptions {
  /** Incidents are docs; alert deliveries are deduplicated; closing reads the service's active rollback. */
  store: Docs & Dedup & RollbackReader & Pick<ActiveLocks, 'activeRollbackId'>;
  catalog: () => Catalog;
  /** Declares a rollback (the rollback service); the incident's start is inherited through `current`. */
  declare: (request: DeclareRequest) => Promise<DeclareOutcome>;
  /**
   * Tells the service's active rollback which of its alerts fire now, after a delivery changed
   * that (the rollback service); stabilisation is judged on them. Its failure is logged: alert
   * intake goes on.
   */
  alertsChanged?: (service: string, environment: string, firing: FiringAlert[]) => Promise<void>;
  /** The stored incidents (shared with the rollback service and the thread); one on `store` if absent. */
  records?: IncidentRecords;
  /** Brings the incident's thread up to date; called after every change, must not throw. */
  announce?: (incidentId: string) => void;
  now: () => number;
  newId: () => string;
  log: Logger;
  /** A new incident was opened (metrics). */
  onOpened?: (incident: Incident) => void;
  /**
   * Tells the plan's stakeholders the incident opened (`incident-opened`), once per incident however
   * often it is called: it is called with every delivery the open incident takes, so one whose first
   * telling was lost (a crash, a store error) is told with the next, the alert's redelivery. Its
   * failure is logged: alert intake goes on.
   */
  tellOpened?: (incident: Incident) => Promise<void>;
}

export class IncidentService {
  private readonly queue = new KeyedQueue();

  private readonly records: IncidentRecords;

  constructor(private readonly options: IncidentServiceOptions) {
    this.records = options.records ?? new IncidentRecords(options.store);
    if (options.announce) this.records.onChange(options.announce);
  }

  get(incidentId: string): Promise<Incident | null> {
    return this.records.get(incidentId);
  }

  /** The open incident of a service and environment, if any. */
  current(service: string, environment: string): Promise<Incident | null> {
    return this.records.current(service, environment);
  }

  async listOpen(): Promise<IncidentSummary[]> {
    const pointers = await this.options.store.listDocs<{ id: string }>(CURRENT_INCIDENT);
    const incidents = await Promise.all(pointers.map((pointer) => this.get(pointer.value.id)));
    return incidents
      .filter((incident): incident is Incident => incident !== null && incident.closedAt === null)
      .map((incident) => ({
        id: incident.id,
        service: incident.service,
        environment: incident.environment,
        startedAt: incident.startedAt,
        firing: incident.alerts.filter((alert) => alert.status === 'firing').length,
        alerts: incident.alerts.length + incident.overflow,
        rollbackIds: incident.rollbackIds,
      }))
      .sort((a, b) => a.startedAt - b.startedAt);
  }

  async receive(delivery: Delivery): Promise<DeliveryOutcome> {
    const { catalog, log } = this.options;
    const outcome: DeliveryOutcome = {
      duplicate: false,
      accepted: 0,
      unknown: [],
      stale: 0,
      incidents: [],
      notes: [],
    };
    const groups = new Map<string, { service: string; environment: string; alerts: Alert[] }>();
    for (const alert of delivery.alerts) {
      const key = currentKey(alert.service, alert.environment);
      const group = groups.get(key) ?? { service: alert.service, environment: alert.environment, alerts: [] };
      group.alerts.push(alert);
      groups.set(key, group);
    }
    // Merging is idempotent, so a redelivery is applied again harmlessly; remembering the key only
    // tells the sender (and the counters) that it was one. Remembering first would lose a
    // delivery whose first attempt failed half-way.
    const plans = catalog().plans;
    for (const group of groups.values()) {
      const plan = plans.get(group.service);
      if (!plan || !plan.environments.includes(group.environment)) {
        outcome.unknown.push({
          service: group.service,
          environment: group.environment,
          alerts: group.alerts.length,
        });
        log.warn(
          { service: group.service, environment: group.environment, alerts: group.alerts.length },
          plan
            ? 'alerts for an environment the plan does not cover'
            : 'alerts for a service with no rollback plan',
        );
        continue;
      }
      const merged = await this.merge(plan, group.environment, group.alerts);
      if (merged === null) {
        outcome.stale += group.alerts.length;
        continue;
      }
      for (const unbelieved of merged.unbelievedStarts) {
        log.warn(
          { incident: merged.incident.id, fingerprint: unbelieved.fingerprint, problem: unbelieved.problem },
          'alert startsAt not believed: the time it was received stands in for the incident start',
        );
        outcome.notes.push(
          `alert ${unbelieved.name} (${unbelieved.fingerprint}): startsAt ${unbelieved.problem}; the time it was received stands in`,
        );
      }
      outcome.accepted += group.alerts.length;
      outcome.incidents.push({
        id: merged.incident.id,
        service: plan.service,
        environment: group.environment,
        opened: merged.opened,
      });
    }
    outcome.duplicate = !(await this.options.store.rememberOnce(
      `alert-delivery:${delivery.key}`,
      DELIVERY_MEMORY_MS,
    ));
    return outcome;
  }

  /**
   * After a rollback's notice reached its thread: the incident it belongs to is redrawn, and one
   * that ended may close the incident. A rollback declared in the incident that the incident does
   * not list yet (the process died between the declaration and the join) joins it now: its card is
   * drawn on the incident's message only once it is listed there.
   */
  async rollbackNoticed(rollback: {
    id: string;
    service: string;
    environment: string;
    final: boolean;
    /** The incident it was declared in, if any. */
    incidentId?: string | undefined;
  }): Promise<void> {
    const incident = await this.current(rollback.service, rollback.environment);
    if (!incident) return;
    if (incident.rollbackIds.includes(rollback.id)) this.records.changed(incident.id);
    else if (rollback.incidentId === incident.id) await this.join(incident.id, rollback.id);
    // A rollback of the service ended: the incident closes if its alerts are all resolved.
    if (rollback.final && allResolved(incident)) await this.closeIfQuiet(incident.id);
  }

  /** Records that a rollback belongs to the incident (a declaration joins the open incident). */
  join(incidentId: string, rollbackId: string): Promise<void> {
    return this.records.join(incidentId, rollbackId);
  }

  /** Marks changes as told in the thread (the announcer calls it after its reply went out). */
  update(incidentId: string, change: (incident: Incident) => Incident | null): Promise<Incident | null> {
    return this.records.update(incidentId, change);
  }

  private merge(plan: RollbackPlan, environment: string, alerts: readonly Alert[]) {
    return this.queue.run(currentKey(plan.service, environment), async () => {
      const result = await this.mergeWithRetry(plan, environment, alerts);
      if (result === null) return null;
      const { incident } = result;
      if (result.opened) this.options.onOpened?.(incident);
      // Before an automatic rollback is declared: stakeholders hear of the incident first.
      await this.options.tellOpened?.(incident).catch((error: unknown) => {
        this.options.log.warn({ err: error, incident: incident.id }, 'stakeholders not told of the incident');
      });
      // An automatic rollback not declared yet (decided now, or a crash after deciding) is declared
      // before the thread is told, so it never says "rolls back automatically" and then "could not".
      if (incident.trigger?.action === 'auto' && !incident.trigger.settled) {
        await this.actOn(incident, incident.trigger, plan);
      }
      if (result.opened || result.firing.length > 0 || result.resolved.length > 0 || result.trigger) {
        this.records.changed(incident.id);
      }
      if (result.firing.length > 0 || result.resolved.length > 0) {
        await this.options
          .alertsChanged?.(plan.service, environment, firingOf(incident.alerts))
          .catch((error: unknown) => {
            this.options.log.warn(
              { err: error, service: plan.service, environment },
              'could not tell the active rollback of its alerts',
            );
          });
      }
      if (result.resolved.length > 0 && allResolved(incident)) await this.closeIfQuiet(incident.id);
      return result;
    });
  }

  private async mergeWithRetry(plan: RollbackPlan, environment: string, alerts: readonly Alert[]) {
    const { store, now, newId } = this.options;
    const key = currentKey(plan.service, environment);
    const incoming = alerts.map(toIncoming);
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt += 1) {
      const pointer = await store.getDoc<{ id: string }>(CURRENT_INCIDENT, key);
      const stored = pointer ? await store.getDoc<Incident>(INCIDENTS, pointer.value.id) : null;
      const result = mergeAlerts({
        current: stored?.value ?? null,
        alerts: incoming,
        service: plan.service,
        environment,
        triggers: plan.triggers,
        at: now(),
        newId,
      });
      if (result === null) return null;
      const changed =
        result.opened || result.firing.length > 0 || result.resolved.length > 0 || result.trigger;
      if (!changed) return result;
      if (result.opened) {
        // The incident is written before the pointer names it, so a pointer always leads to a
        // document; of two replicas opening one, the pointer's version guard lets one win, and the
        // other drops its draft and merges into the winner's on its retry.
        await store.putDoc(INCIDENTS, result.incident.id, result.incident, 0);
        if (await store.putDoc(CURRENT_INCIDENT, key, { id: result.incident.id }, pointer?.version ?? 0))
          return result;
        await store.deleteDoc(INCIDENTS, result.incident.id);
        continue;
      }
      if (stored && (await store.putDoc(INCIDENTS, result.incident.id, result.incident, stored.version))) {
        return result;
      }
    }
    throw new Error(
      `the incident of ${plan.service} (${environment}) kept changing under ${MAX_CONFLICT_RETRIES} writes`,
    );
  }

  private async actOn(incident: Incident, trigger: TriggerDecision, plan: RollbackPlan): Promise<void> {
    const alert = incident.alerts.find((a) => a.fingerprint === trigger.fingerprint);
    const outcome = await this.options.declare({
      service: plan.service,
      environment: incident.environment,
      ...(trigger.strategy === null ? {} : { strategy: trigger.strategy }),
      reason: `${trigger.name ?? 'alert'}: ${alert?.summary ?? 'alert fired'}`,
      by: 'policy',
      incidentStartedAt: incident.startedAt,
      trigger: { kind: 'auto', delayMs: trigger.delayMs },
    });
    let refused: string | undefined;
    if (!outcome.ok) {
      if (outcome.activeId !== undefined) {
        // A rollback of this service is already under way (declared by hand, or by another replica
        // for this very incident a moment ago): it is the incident's rollback; nothing was refused.
        await this.join(incident.id, outcome.activeId);
      } else {
        refused = outcome.message;
        this.options.log.warn(
          { incident: incident.id, code: outcome.code, message: outcome.message },
          'the automatic rollback could not be declared',
        );
      }
    }
    await this.update(incident.id, (current) =>
      current.trigger === null || current.trigger.settled
        ? null
        : { ...current, trigger: { ...current.trigger, settled: true, ...(refused ? { refused } : {}) } },
    );
  }

  private async closeIfQuiet(incidentId: string): Promise<void> {
    const { store, now } = this.options;
    const incident = await this.get(incidentId);
    if (!incident || incident.closedAt !== null || !allResolved(incident)) return;
    const active = await store.activeRollbackId(incident.service, incident.environment);
    if (active !== null) {
      const rollback = await store.getRollback(active);
      if (rollback && !rollback.final) return;
    }
    const closed = await this.update(incidentId, (current) =>
      current.closedAt === null && allResolved(current) ? closeIncident(current, now()) : null,
    );
    if (closed?.closedAt !== null) this.records.changed(incidentId);
  }
}

function toIncoming(alert: Alert): IncomingAlert {
  return {
    fingerprint: alert.fingerprint,
    status: alert.status,
    name: label(alert.labels, 'alertname') ?? alert.summary,
    // The thread shows 200 characters of a summary; an incident keeps thousands of alerts.
    summary: excerpt(alert.summary, MAX_KEPT_TEXT),
    source: alert.source,
    startsAt: alert.startsAt,
    endsAt: alert.endsAt,
    url: alert.url !== null && alert.url.length > MAX_KEPT_URL ? null : alert.url,
    labels: alert.labels,
  };
}
