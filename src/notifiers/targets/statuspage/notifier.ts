/**
 * Follows one rollback on the status page: an incident opened as `investigating` when a human
 * declares the rollback (an automatic one: when it is authorised), its components at the plan's
 * outage status (from its criticality, or its own `componentStatus`), still `investigating` when it
 * is authorised, `identified` while it executes, `monitoring` (degraded performance) while it
 * validates, `resolved` (operational) at the end; a failed, aborted or called-off rollback leaves
 * the incident open with an update saying so.
 *
 * `send` is one try of one update, called by the stakeholder outbox, which keeps the updates of an
 * API key in the store and sends them in order, paced, from one replica at a time: a status page
 * that is slow or down never holds up the rollback, and hears everything once it is back. The
 * incident id lives in the store too, so whichever replica sends the next update continues the same
 * incident, and an update sent twice (its sender died before it could say so) is applied once.
 */
import { z } from 'zod';
import { OUTAGE_STATUSES, type OutageStatus } from '../../../domain/plan.js';
import type { Logger } from '../../../lib/logging.js';
import type { Docs } from '../../../store/store.js';
import type { SendContext, SendOutcome } from '../../target.js';
import type { ComponentStatus, IncidentImpact, IncidentStatus, StatuspageClient } from './api.js';
import { StatuspageIncidents, type IncidentDoc } from './incidents.js';

export { StatuspageClient, type StatuspageClientOptions } from './api.js';

export const ROLLBACK_PHASES = [
  'declared',
  'authorized',
  'executing',
  'validating',
  'resolved',
  'failed',
  'aborted',
  'called-off',
] as const;
export type RollbackPhase = (typeof ROLLBACK_PHASES)[number];

/** A stored update, read back (the outbox keeps it until Statuspage takes it). */
export const statuspageUpdate = z.object({
  effectId: z.string(),
  rollbackId: z.string(),
  phase: z.enum(ROLLBACK_PHASES),
  pageId: z.string(),
  componentIds: z.array(z.string()),
  outage: z.enum(OUTAGE_STATUSES),
  name: z.string(),
  body: z.string(),
});

export interface StatuspageUpdate {
  /** The notify effect's id: the same id is sent at most once. */
  effectId: string;
  rollbackId: string;
  phase: RollbackPhase;
  /** From the plan's communications target. */
  pageId: string;
  componentIds: readonly string[];
  /** The components' status while the incident is open (the plan's criticality, or its override). */
  outage: OutageStatus;
  /** The incident's title; used when the incident is created. */
  name: string;
  /** The rendered update text. */
  body: string;
}

export interface StatuspageNotifierOptions {
  client: StatuspageClient;
  store: Docs;
  log: Logger;
  now?: () => number;
}

interface PhaseRule {
  /** Phases only move forward: an update for an earlier phase arriving late is dropped. */
  rank: number;
  /** `keep`: the incident stays at its status (never resolved). */
  status: IncidentStatus | 'keep';
  /** `outage`: the update's outage status, with the impact it makes. */
  components?: ComponentStatus | 'outage';
  /** For failure messages. */
  says: string;
}

const PHASES: Record<RollbackPhase, PhaseRule> = {
  declared: { rank: 1, status: 'investigating', components: 'outage', says: 'open the incident' },
  authorized: {
    rank: 2,
    status: 'investigating',
    components: 'outage',
    says: 'post that the rollback started',
  },
  executing: { rank: 3, status: 'identified', says: 'mark the incident identified' },
  validating: {
    rank: 4,
    status: 'monitoring',
    components: 'degraded_performance',
    says: 'mark the incident monitoring',
  },
  resolved: { rank: 5, status: 'resolved', components: 'operational', says: 'resolve the incident' },
  failed: { rank: 5, status: 'keep', says: 'post that the rollback failed' },
  aborted: { rank: 5, status: 'keep', says: 'post that the rollback was aborted' },
  'called-off': { rank: 5, status: 'keep', says: 'post that the rollback was called off' },
};

/** The impact Statuspage itself gives an incident whose components are at this status. */
const IMPACT_OF: Record<OutageStatus, IncidentImpact> = {
  degraded_performance: 'minor',
  partial_outage: 'major',
  major_outage: 'critical',
};

/** Where a failed or aborted rollback leaves the incident: open, at the status it had. */
function keptStatus(status: IncidentStatus | undefined): IncidentStatus {
  return status === undefined || status === 'resolved' ? 'identified' : status;
}

export class StatuspageNotifier {
  private readonly incidents: StatuspageIncidents;

  constructor(private readonly options: StatuspageNotifierOptions) {
    this.incidents = new StatuspageIncidents(options.store, options.now);
  }

  /** What the thread is told when an update is given up (plain text: escape it for mrkdwn). */
  static failure(update: Pick<StatuspageUpdate, 'phase'>, reason: string): string {
    return `The status page could not ${PHASES[update.phase].says}: ${reason}. The rollback is not affected.`;
  }

  /** One try of the update: at most one request, after `context.ready()`. */
  async send(update: StatuspageUpdate, context: SendContext): Promise<SendOutcome> {
    const rule = PHASES[update.phase];
    const doc = (await this.incidents.read(update.rollbackId))?.value;
    if (doc?.applied.includes(update.effectId)) return { kind: 'skipped', reason: 'already sent' };
    if (doc && rule.rank < doc.rank) return { kind: 'skipped', reason: 'the incident is further along' };
    if (doc?.incidentId === undefined) return this.create(update, rule, doc, context);

    const status = rule.status === 'keep' ? keptStatus(doc.status) : rule.status;
    const result = await this.options.client.updateIncident(
      update.pageId,
      doc.incidentId,
      { status, body: update.body, ...this.components(update, rule.components) },
      context,
    );
    if (!result.ok) return result.outcome;
    await this.incidents.recordApplied(update.rollbackId, update.pageId, {
      effectId: update.effectId,
      rank: rule.rank,
      status,
    });
    return { kind: 'sent' };
  }

  /** No incident yet (the first update, or earlier ones failed): open it at this phase's status. */
  private async create(
    update: StatuspageUpdate,
    rule: PhaseRule,
    doc: IncidentDoc | undefined,
    context: SendContext,
  ): Promise<SendOutcome> {
    if (doc === undefined && rule.status === 'keep') {
      return { kind: 'skipped', reason: 'no incident was opened for this rollback' };
    }
    const { rollbackId, pageId, effectId } = update;
    const claim = await this.incidents.claimCreation(rollbackId, pageId, effectId);
    if (!claim.ok && claim.reason === 'exists') return this.send(update, context);
    if (!claim.ok) return { kind: 'busy', message: 'another replica is opening the incident' };

    const status = rule.status === 'keep' ? keptStatus(undefined) : rule.status;
    const result = await this.options.client.createIncident(
      pageId,
      {
        name: update.name,
        status,
        body: update.body,
        // Opened late (the first calls were given up): at the outage it would have shown.
        ...this.components(update, rule.components ?? 'outage'),
      },
      context,
    );
    if (!result.ok) {
      await this.incidents.releaseCreation(rollbackId, pageId, effectId);
      return result.outcome;
    }
    await this.incidents.recordApplied(rollbackId, pageId, {
      effectId,
      rank: rule.rank,
      status,
      incidentId: result.incident.id,
    });
    this.options.log.info(
      { rollbackId, incidentId: result.incident.id, status },
      'status page incident opened',
    );
    return { kind: 'sent' };
  }

  /** The components' status and, while the incident is open, the impact it makes. */
  private components(
    update: StatuspageUpdate,
    status: ComponentStatus | 'outage' | undefined,
  ): { components?: { ids: readonly string[]; status: ComponentStatus }; impact?: IncidentImpact } {
    if (status === undefined) return {};
    const impact = status === 'outage' ? { impact: IMPACT_OF[update.outage] } : {};
    const resolved = status === 'outage' ? update.outage : status;
    return update.componentIds.length === 0
      ? impact
      : { components: { ids: update.componentIds, status: resolved }, ...impact };
  }
}
