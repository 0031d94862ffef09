/**
 * Follows one rollback on the status page: an incident opened as `investigating` when a human
 * declares the rollback (an automatic one: when it is authorised), its components at the plan's
 * outage status (from its criticality, or its own `componentStatus`), still `investigating` when it
 * is authorised, `identified` while it executes, `monitoring` (degraded performance) while it
 * validates, `resolved` (operational) at the end; a failed, aborted or called-off rollback leaves
 * the incident open with an update saying so.
 *
 * `update` only queues the call and returns: a status page that is slow or down never holds up the
 * rollback. When the queue gives a call up, `onFailure` says so (the caller posts it in the thread).
 * The incident id lives in the store, so whichever replica carries out the next effect continues
 * the same incident, and an effect delivered twice is sent once.
 */
import type { OutageStatus } from '../../../domain/plan.js';
import type { Logger } from '../../../lib/logging.js';
import type { Docs } from '../../../store/store.js';
import type { AttemptContext, AttemptOutcome } from '../../rate-queue.js';
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
  /** A call was given up: tell the humans (the message is safe to show as it is). */
  onFailure: (rollbackId: string, message: string) => void;
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
  /** Effects queued in this process and not yet finished, so a repeat is not queued twice. */
  private readonly pending = new Set<string>();

  constructor(private readonly options: StatuspageNotifierOptions) {
    this.incidents = new StatuspageIncidents(options.store, options.now);
  }

  /** Queues the update and returns at once; false when it was already queued or the queue is closed. */
  update(update: StatuspageUpdate): boolean {
    if (this.pending.has(update.effectId)) return false;
    const rule = PHASES[update.phase];
    const finished = () => this.pending.delete(update.effectId);
    // Whether the call had to open the incident: a failure then says so, whatever the phase.
    const tried = { opening: false };
    this.pending.add(update.effectId);
    const queued = this.options.client.submit({
      label: `statuspage ${update.phase} ${update.rollbackId}`,
      attempt: (context) => this.attempt(update, context, tried),
      onDone: finished,
      onGiveUp: (reason) => {
        finished();
        this.options.log.warn(
          { rollbackId: update.rollbackId, effectId: update.effectId, phase: update.phase, reason },
          'status page update given up',
        );
        this.options.onFailure(
          update.rollbackId,
          `The status page could not ${tried.opening ? 'open the incident' : rule.says}: ${reason}. The rollback is not affected.`,
        );
      },
    });
    if (!queued) finished();
    return queued;
  }

  private async attempt(
    update: StatuspageUpdate,
    context: AttemptContext,
    tried: { opening: boolean },
  ): Promise<AttemptOutcome> {
    tried.opening = false;
    const rule = PHASES[update.phase];
    const doc = (await this.incidents.read(update.rollbackId))?.value;
    if (doc?.applied.includes(update.effectId)) return { kind: 'skipped', reason: 'already sent' };
    if (doc && rule.rank < doc.rank) return { kind: 'skipped', reason: 'the incident is further along' };
    if (doc?.incidentId === undefined) return this.create(update, rule, doc, context, tried);

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
    return { kind: 'done' };
  }

  /** No incident yet (the first update, or earlier ones failed): open it at this phase's status. */
  private async create(
    update: StatuspageUpdate,
    rule: PhaseRule,
    doc: IncidentDoc | undefined,
    context: AttemptContext,
    tried: { opening: boolean },
  ): Promise<AttemptOutcome> {
    if (doc === undefined && rule.status === 'keep') {
      return { kind: 'skipped', reason: 'no incident was opened for this rollback' };
    }
    tried.opening = true;
    const { rollbackId, pageId, effectId } = update;
    const claim = await this.incidents.claimCreation(rollbackId, pageId, effectId);
    if (!claim.ok && claim.reason === 'exists') return this.attempt(update, context, tried);
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
    return { kind: 'done' };
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
