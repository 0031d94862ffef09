/**
 * Which Statuspage incident a rollback has, kept in the store so that any replica continues it: the
 * incident id, its last status, the furthest phase applied (an older phase arriving late is stale)
 * and the effects already carried out (a repeated effect is not sent twice). Creating is claimed
 * first, so two replicas do not open two incidents for one rollback. Every write is guarded by the
 * document's version and merged again on a conflict.
 */
import { z } from 'zod';
import { changeDoc } from '../../../store/change-doc.js';
import { COLLECTIONS } from '../../../store/collections.js';
import type { Docs, VersionedDoc } from '../../../store/store.js';
import { INCIDENT_STATUSES, type IncidentStatus } from './api.js';

const COLLECTION = COLLECTIONS.statuspageIncidents;
/** Effect ids remembered per rollback: a rollback has a handful of status page updates. */
const APPLIED_KEPT = 50;
/** A creation claim older than this belongs to a call that died: longer than a request's time-out. */
const CLAIM_TTL_MS = 30_000;
const WRITE_TRIES = 5;

const incidentDoc = z.object({
  pageId: z.string(),
  incidentId: z.string().optional(),
  status: z.enum(INCIDENT_STATUSES).optional(),
  rank: z.number().int(),
  applied: z.array(z.string()),
  creating: z.object({ effectId: z.string(), since: z.number() }).optional(),
});

export type IncidentDoc = z.infer<typeof incidentDoc>;

export type Claim = { ok: true } | { ok: false; reason: 'busy' | 'exists'; doc: IncidentDoc };

export class StatuspageIncidents {
  constructor(
    private readonly store: Docs,
    private readonly now: () => number = Date.now,
  ) {}

  async read(rollbackId: string): Promise<VersionedDoc<IncidentDoc> | null> {
    const doc = await this.store.getDoc<unknown>(COLLECTION, rollbackId);
    return doc ? { version: doc.version, value: readable(doc.value) } : null;
  }

  /** Claims the creation of the incident for `effectId` (again, if the claim is already its own). */
  async claimCreation(rollbackId: string, pageId: string, effectId: string): Promise<Claim> {
    let claim: Claim = { ok: true };
    await this.update(rollbackId, pageId, (doc) => {
      if (doc.incidentId !== undefined) {
        claim = { ok: false, reason: 'exists', doc };
        return undefined;
      }
      const held = doc.creating;
      if (held && held.effectId !== effectId && this.now() - held.since < CLAIM_TTL_MS) {
        claim = { ok: false, reason: 'busy', doc };
        return undefined;
      }
      claim = { ok: true };
      return { ...doc, creating: { effectId, since: this.now() } };
    });
    return claim;
  }

  /** Lets another call create the incident (this one failed). */
  async releaseCreation(rollbackId: string, pageId: string, effectId: string): Promise<void> {
    await this.update(rollbackId, pageId, (doc) => {
      if (doc.creating?.effectId !== effectId) return undefined;
      const { creating: _released, ...rest } = doc;
      return rest;
    });
  }

  /** Records a call that reached Statuspage: the incident (when created), its status and the effect. */
  async recordApplied(
    rollbackId: string,
    pageId: string,
    applied: { effectId: string; rank: number; status: IncidentStatus; incidentId?: string },
  ): Promise<void> {
    await this.update(rollbackId, pageId, (doc) => {
      // Once the incident exists, nobody needs to create it any more.
      const { creating: _done, ...rest } = doc;
      return {
        ...(applied.incidentId === undefined ? doc : rest),
        incidentId: doc.incidentId ?? applied.incidentId,
        status: applied.status,
        rank: Math.max(doc.rank, applied.rank),
        applied: [...doc.applied.filter((id) => id !== applied.effectId), applied.effectId].slice(
          -APPLIED_KEPT,
        ),
      };
    });
  }

  /** Read, change, write guarded by the version; `change` returning undefined writes nothing. */
  private async update(
    rollbackId: string,
    pageId: string,
    change: (doc: IncidentDoc) => IncidentDoc | undefined,
  ): Promise<void> {
    await changeDoc<unknown>(
      this.store,
      COLLECTION,
      rollbackId,
      (stored) => {
        const current = stored === null ? null : readable(stored);
        const base: IncidentDoc = current
          ? { ...current, pageId: current.pageId || pageId }
          : { pageId, rank: 0, applied: [] };
        return change(base) ?? null;
      },
      WRITE_TRIES,
    );
  }
}

/**
 * A document this version cannot read starts afresh (written over at its version) rather than
 * blocking every later update.
 */
function readable(value: unknown): IncidentDoc {
  const parsed = incidentDoc.safeParse(value);
  return parsed.success ? parsed.data : { pageId: '', rank: 0, applied: [] };
}
