/**
 * The stored incidents: one document per incident and a pointer to the open one of each service and
 * environment. Both services use it (the incident service opens and merges, the rollback service
 * joins a declaration to the open incident) and the Slack thread reads and marks it, so none of them
 * calls another to reach an incident. Whoever must hear of a change (the thread) subscribes.
 */
import type { Incident } from '../domain/incident.js';
import { changeDoc } from '../store/change-doc.js';
import { COLLECTIONS } from '../store/collections.js';
import type { Docs } from '../store/store.js';

export const INCIDENTS = COLLECTIONS.incidents;
/** The open incident of each service and environment: `[service, environment]` -> `{ id }`. */
export const CURRENT_INCIDENT = COLLECTIONS.incidentCurrent;
export const MAX_CONFLICT_RETRIES = 50;

export const currentKey = (service: string, environment: string): string =>
  JSON.stringify([service, environment]);

export class IncidentRecords {
  private readonly listeners: Array<(incidentId: string) => void> = [];

  constructor(private readonly store: Pick<Docs, 'getDoc' | 'putDoc'>) {}

  /** `listener` hears every incident that changed (it must not throw). */
  onChange(listener: (incidentId: string) => void): void {
    this.listeners.push(listener);
  }

  changed(incidentId: string): void {
    for (const listener of this.listeners) listener(incidentId);
  }

  async get(incidentId: string): Promise<Incident | null> {
    return (await this.store.getDoc<Incident>(INCIDENTS, incidentId))?.value ?? null;
  }

  /** The open incident of a service and environment, if any. */
  async current(service: string, environment: string): Promise<Incident | null> {
    const pointer = await this.store.getDoc<{ id: string }>(
      CURRENT_INCIDENT,
      currentKey(service, environment),
    );
    if (!pointer) return null;
    const incident = await this.get(pointer.value.id);
    return incident && incident.closedAt === null ? incident : null;
  }

  /** Changes an incident with optimistic retries; `change` returns null to leave it as it is. */
  async update(
    incidentId: string,
    change: (incident: Incident) => Incident | null,
  ): Promise<Incident | null> {
    return changeDoc<Incident>(
      this.store,
      INCIDENTS,
      incidentId,
      (current) => (current === null ? null : change(current)),
      MAX_CONFLICT_RETRIES,
    );
  }

  /** Records that a rollback belongs to the incident (a declaration joins the open incident). */
  async join(incidentId: string, rollbackId: string): Promise<void> {
    await this.update(incidentId, (incident) =>
      incident.rollbackIds.includes(rollbackId)
        ? null
        : { ...incident, rollbackIds: [...incident.rollbackIds, rollbackId] },
    );
    this.changed(incidentId);
  }
}
