/**
 * Rollbacks with an audit trail, for the record (history, KPIs, post-mortem): the real machine
 * driven by `RollbackDriver`, each accepted event written down the way the engine audits it.
 */
import { rollbackView, type RollbackView } from '../../src/app/rollback-view.js';
import { persist } from '../../src/domain/rollback-machine.js';
import type { AuditRecord, RecordedRollback } from '../../src/domain/rollback-record.js';
import type { AuditEntry, StoredRollback } from '../../src/store/store.js';
import { chainEntry, chainStart, verifyAuditChain, type AuditVerdict } from '../../src/lib/audit-chain.js';
import type { RollbackEvent } from '../../src/domain/rollback-events.js';
import type { Effect, RollbackInput } from '../../src/domain/rollback-types.js';
import { MINUTE, SECOND, T0, USERS, at, rollbackInput } from './domain-fixtures.js';
import { RollbackDriver, ev } from './rollback-driver.js';

export class RecordingDriver extends RollbackDriver {
  readonly audit: AuditRecord[] = [];

  constructor(input: RollbackInput = rollbackInput()) {
    super(input);
    this.audit.push({ at: input.at, event: 'DECLARE', by: input.declaredBy, state: this.state });
  }

  override send(event: RollbackEvent): Effect[] {
    const effects = super.send(event);
    const { type, at: when, by, ...detail } = event;
    this.audit.push({
      at: when,
      event: type,
      by,
      state: this.state,
      ...(Object.keys(detail).length === 0 ? {} : { detail }),
    });
    return effects;
  }

  record(): RecordedRollback {
    return { id: this.ctx.id, state: this.state, context: this.ctx };
  }
}

const s = (seconds: number): number => seconds * SECOND;

/**
 * The post-mortem journey: an alert at T0, declared at 2m05s, approved at 3m10s, step 2 fails once
 * and is retried, both checks pass, stable after 5 minutes: resolved at 10m20s.
 */
export function resolvedJourney(input: Partial<RollbackInput> = {}): RecordingDriver {
  const run = new RecordingDriver(rollbackInput({ at: at(s(125)), incidentStartedAt: T0, ...input }));
  run.send(ev.approve(at(s(190))));
  run.send(ev.started(at(s(191)), 0));
  run.send(ev.succeeded(at(s(200)), 0));
  run.send(ev.started(at(s(201)), 1));
  run.send(ev.failed(at(s(230)), 1, 'exit code 1: upstream "blue" has 0 healthy hosts'));
  run.send(ev.retry(at(s(250)), 1, USERS.lead, ['team-lead']));
  run.send(ev.started(at(s(251)), 1, 2));
  run.send(ev.succeeded(at(s(290)), 1));
  run.send(ev.checkPassed(at(s(300)), 0));
  run.send(ev.manualDone(at(s(320)), 1));
  run.fire('stabilize', at(s(320) + 5 * MINUTE));
  return run;
}

/** Declared at `declareAfter` of its incident (starting `start`), resolved `takes` later. */
export function quickResolved(
  id: string,
  options: {
    start: number;
    declareAfter: number;
    approveAfter: number;
    takes: number;
    drill?: boolean;
    service?: string;
  },
): RecordedRollback {
  const declared = options.start + options.declareAfter;
  const run = new RecordingDriver(
    rollbackInput({
      id,
      at: declared,
      incidentStartedAt: options.start,
      drill: options.drill ?? false,
      ...(options.service === undefined ? {} : { service: options.service }),
      strategy: { name: 'direct', steps: [], validate: [], stabilizeMs: 0 },
    }),
  );
  run.send(ev.approve(declared + options.approveAfter));
  // No steps, checks or stabilisation: resolved on approval; stretch the end to `takes`.
  const ctx = run.ctx;
  return {
    id,
    state: run.state,
    context: { ...ctx, outcome: { ...ctx.outcome!, at: declared + options.takes } },
  };
}

/** The view of a driven rollback, as `GET /api/rollbacks/:id` and the renderers see it. */
export function viewOf(run: RecordingDriver, now: number): RollbackView {
  const ctx = run.ctx;
  const stored: StoredRollback = {
    id: ctx.id,
    service: ctx.service,
    environment: ctx.environment,
    version: run.audit.length,
    state: run.state,
    final: ctx.outcome !== null,
    snapshot: persist(run.snapshot),
    createdAt: ctx.declaredAt,
    updatedAt: ctx.lastEventAt,
  };
  const audit: AuditEntry[] = run.audit.map((entry, index) => ({ ...entry, version: index + 1 }));
  return rollbackView(stored, audit, now);
}

/** The audit of a driven rollback as the engine stores it: versions 1, 2, ... and hash-chained. */
export function chainedAudit(run: RecordingDriver): AuditEntry[] {
  let prev = chainStart(run.ctx.id);
  return run.audit.map((entry, index) => {
    const chained = chainEntry({ ...entry, version: index + 1 }, prev);
    prev = chained.hash;
    return chained;
  });
}

/** The audit verdict of a driven rollback stored intact (or as `edit` leaves its stored entries). */
export function auditVerdictOf(
  run: RecordingDriver,
  edit: (entries: AuditEntry[]) => AuditEntry[] = (entries) => entries,
): AuditVerdict {
  const entries = chainedAudit(run);
  const record = { version: entries.length, auditHash: entries.at(-1)?.hash };
  return verifyAuditChain({ rollbackId: run.ctx.id, entries: edit(entries), record });
}
