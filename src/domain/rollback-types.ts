/**
 * Data shapes of one rollback as the machine keeps it: the input at declaration, the context
 * (JSON-serialisable only: it is persisted as is), and the effects the engine carries out.
 * Events and their validation live in `rollback-events.ts`; the machine in `rollback-machine.ts`.
 */
import type { ApprovalRecord } from './authority.js';
import type { AuthorityPolicy, Contact, PlanLinks, StrategySpec } from './plan.js';
import type { PlanResolution, StepTarget } from './step-target.js';

export const STATE_NAMES = [
  'declared',
  'pending',
  'authorized',
  'executing',
  'validating',
  'resolved',
  'rejected',
  'cancelled',
  'aborted',
  'failed',
] as const;
/** Top-level state names: the public `state` of a rollback (DESIGN section 9). */
export type StateName = (typeof STATE_NAMES)[number];

export const FINAL_STATES = ['resolved', 'rejected', 'cancelled', 'aborted', 'failed'] as const;

// `probe`: the next round of checks while stabilising. `after`: the next step after resolution.
// `watch`: the next sample of the strategy's watch checks while the steps run. `rto`: the ETA
// (declaration + the plan's RTO) passed before the rollback ended.
export const TIMER_NAMES = [
  'tier',
  'reminder',
  'expire',
  'pending',
  'stabilize',
  'probe',
  'watch',
  'update',
  'after',
  'rto',
] as const;
export type TimerName = (typeof TIMER_NAMES)[number];

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'interrupted';
export type CheckStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'inconclusive' | 'skipped';

export type Trigger = { kind: 'manual' } | { kind: 'auto'; delayMs: number };

export interface RollbackInput {
  id: string;
  service: string;
  environment: string;
  strategy: StrategySpec;
  /** Copied into the context: a config reload mid-incident changes nothing retroactively. */
  policy: AuthorityPolicy;
  fromVersion: string | null;
  toVersion: string;
  reason: string;
  declaredBy: string;
  /** Declaration time (epoch ms). */
  at: number;
  incidentStartedAt: number;
  trigger: Trigger;
  drill: boolean;
  /** The plan touches a database (`strategyNeedsHuman`): an automatic trigger still waits for a human. */
  requiresHuman: boolean;
  /** Period of the `status-update` notification while the rollback runs; absent or 0: none. */
  updateEveryMs?: number;
  /** What the platform steps will restore, read when the rollback was declared. */
  resolution?: PlanResolution | null;
  /** The alerts of the service and environment firing at the declaration (its incident's). */
  firingAlerts?: FiringAlert[];
  /**
   * The plan's recovery time objective: the ETA is the declaration plus this, and when it passes
   * before the rollback ended, the next tier is paged. Absent: no ETA.
   */
  rtoMs?: number;
  /** The plan's owner, contacts and links, as they were at the declaration. */
  owner?: string;
  contacts?: Contact[];
  links?: PlanLinks;
  /**
   * The open incident the declaration joined, if any: its card is drawn on the incident's message
   * and its notices go into that thread (absent: its own card). Also its alerts' `severity` label.
   */
  incidentId?: string;
  severity?: string;
}

/** An alert of the rollback's service and environment, as the machine keeps it. */
export interface FiringAlert {
  fingerprint: string;
  name: string;
  summary?: string;
}

export interface StepState {
  name: string;
  uses: string;
  status: StepStatus;
  /** Attempts requested so far (a `runStep` effect was emitted for each). */
  attempts: number;
  startedAt?: number;
  endedAt?: number;
  /** The last failure, cleared when the step is run again. */
  error?: string;
  output?: Record<string, unknown>;
  /** Who skipped it, when skipped: a user id, or `condition` when its `when` was false. */
  skippedBy?: string;
  /** Why its `when` skipped it, e.g. `steps.migrate-check.output.applied was false`. */
  skipReason?: string;
  /** Recorded when the step first started: every attempt drives the object to this target. */
  target?: StepTarget;
}

/**
 * A step after resolution (`strategy.after`), planned when the rollback is resolved. `pending` with
 * `attempts` 0 waits for its time; with 1 it was asked to run. `skipped`: it will not run (an
 * earlier one failed, or a new rollback of the service superseded this one; `note` says which).
 * It runs once: there is no retry after resolution (a human decides what to do by hand).
 */
export interface AfterStepState {
  name: string;
  uses: string;
  status: StepStatus;
  /** The resolution time plus its delay; it never starts before, nor before the one above ends. */
  dueAt: number;
  attempts: number;
  startedAt?: number;
  endedAt?: number;
  error?: string;
  output?: Record<string, unknown>;
  /** Why it was skipped or interrupted without failing. */
  note?: string;
}

export interface CheckState {
  name: string;
  uses: string;
  /** `manual` when the check `uses: manual`: a human marks it done. */
  kind: 'auto' | 'manual';
  status: CheckStatus;
  attempts: number;
  at?: number;
  by?: string;
  detail?: string;
}

/** A watched metric while the steps run: its last sample. */
export interface WatchState {
  name: string;
  uses: string;
  status: 'pending' | 'running' | 'ok' | 'breached' | 'inconclusive';
  attempts: number;
  at?: number;
  detail?: string;
}

/** A check's result as kept for the card while stabilising. */
export interface CheckResult {
  status: 'succeeded' | 'failed' | 'inconclusive';
  at: number;
  detail?: string;
}

/** The stabilisation window in progress (or as it ended). */
export interface Stabilization {
  startedAt: number;
  until: number;
  /** Rounds of automatic checks started so far. */
  rounds: number;
  /** Failed check runs so far. */
  failures: number;
  /** The window's end came while a round was running: it resolves when the round passes. */
  over: boolean;
  /** The last result of each automatic check, by check index. */
  last: Record<number, CheckResult>;
  /** What ended the window early (`check Probe`, `alert HighErrorRate`). */
  endedBy?: string;
}

export interface Deadline {
  dueAt: number;
  seq: number;
}

export type OutcomeCode = 'resolved' | 'rejected' | 'cancelled' | 'expired' | 'aborted' | 'failed';

export interface Outcome {
  code: OutcomeCode;
  reason: string;
  by: string;
  at: number;
}

export interface Authorization {
  /** A user id (last approver) or `policy`. */
  by: string;
  at: number;
  via: 'approval' | 'policy';
}

export interface Acceptance {
  by: string;
  role: string;
  at: number;
}

/** The declaration, as given (with `at` kept as `declaredAt`), plus everything that happened since. */
export interface RollbackContext extends Omit<
  RollbackInput,
  'at' | 'updateEveryMs' | 'resolution' | 'firingAlerts'
> {
  declaredAt: number;
  /** The latest resolution of the steps' targets; approvals count only for its digest. */
  resolution: PlanResolution | null;
  updateEveryMs: number;
  steps: StepState[];
  checks: CheckState[];
  approvals: ApprovalRecord[];
  /** Index of the step being run or decided on; `steps.length` once execution is over. */
  currentStep: number;
  /** Index of the authority tier in force, as last announced. */
  currentTier: number;
  /** When the approval request went out (expiry counts from here); null before `declared`. */
  approvalRequestedAt: number | null;
  timerSeq: number;
  deadlines: Partial<Record<TimerName, Deadline>>;
  authorization: Authorization | null;
  /** A failed validation accepted by an authorised user. */
  acceptance: Acceptance | null;
  /**
   * The alerts of the service and environment firing now, as last told (absent in rollbacks from
   * before it existed: none known). Stability cannot be declared while one fires.
   */
  firingAlerts?: FiringAlert[];
  /** The strategy's watches and their last samples (absent in rollbacks from before them). */
  watches?: WatchState[];
  /** A breached watch no human has answered yet: the next step waits for one. */
  watchHold?: { watchIndex: number; detail: string; at: number } | null;
  /** The stabilisation window, once one started (absent in rollbacks from before it existed). */
  stabilization?: Stabilization | null;
  /** Steps after resolution, planned when it resolved; absent before, and for any other ending. */
  afterSteps?: AfterStepState[];
  outcome: Outcome | null;
  lastEventAt: number;
}

/** What a human may decide when the machine asks. */
export type Choice = 'retry' | 'skip' | 'abort' | 'revalidate' | 'accept' | 'continue';

export interface TierNotice {
  index: number;
  approver: string;
  notify?: string;
  since: number;
  until: number | null;
}

export interface ApprovalTally {
  count: number;
  required: number;
}

export type NotifyDetail =
  | { event: 'declared'; autoStartAt: number | null }
  | { event: 'approval-requested'; tier: TierNotice; approvals: ApprovalTally; expiresAt: number }
  | { event: 'approved'; approver: string; role: string; approvals: ApprovalTally }
  /**
   * A new tier is in force; or, with `rto`, the ETA passed before the rollback ended and `tier` (the
   * one above the tier in force, or the last) is paged.
   */
  | { event: 'escalated'; tier: TierNotice; rto?: { eta: number; rtoMs: number } }
  | { event: 'reminder'; tier: TierNotice; approvals: ApprovalTally; expiresAt: number }
  | { event: 'authorized'; via: Authorization['via'] }
  | { event: 'targets-changed'; approvalsVoided: number }
  | { event: 'step-started'; stepIndex: number; attempt: number }
  | { event: 'step-succeeded'; stepIndex: number; attempt: number }
  /** The step's `when` was false: it never ran. `condition` as written, `why` what it found. */
  | { event: 'step-skipped'; stepIndex: number; condition: string; why: string }
  | {
      event: 'step-failed';
      stepIndex: number;
      attempt: number;
      error: string;
      /** What happens next: retried automatically, a human is asked, or the rollback fails. */
      next: 'retry' | 'ask' | 'abort';
      choices: Choice[];
    }
  | { event: 'step-interrupted'; stepIndex: number; attempt: number; choices: Choice[] }
  | { event: 'validation-passed'; accepted: boolean; stabilizeUntil: number | null }
  | {
      event: 'validation-failed';
      checkIndex: number;
      status: 'failed' | 'inconclusive';
      detail: string;
      choices: Choice[];
    }
  | {
      /** The stabilisation window ended early: a check failed beyond the limit, or an alert fired. */
      event: 'stability-lost';
      checkIndex: number | null;
      alert: string | null;
      status: 'failed' | 'inconclusive';
      detail: string;
      rounds: number;
      failures: number;
      failureLimit: number;
      choices: Choice[];
    }
  | {
      /** A watched metric breached while the steps run: the next step waits for continue or abort. */
      event: 'watch-breached';
      watchIndex: number;
      detail: string;
      /** The step running (or last run) when it breached. */
      stepIndex: number;
      choices: Choice[];
    }
  | { event: 'manual-check-requested'; checkIndex: number }
  | { event: 'status-update' }
  /** The steps after resolution are planned: `dueAt` of each, by index in `strategy.after`. */
  | { event: 'after-steps-scheduled'; dueAt: number[] }
  | { event: 'after-step-started'; afterIndex: number }
  | { event: 'after-step-succeeded'; afterIndex: number }
  /** `skipped`: how many after-steps below it will not run now. */
  | { event: 'after-step-failed'; afterIndex: number; error: string; skipped: number }
  | { event: 'after-step-interrupted'; afterIndex: number; skipped: number }
  /** A new rollback of the service and environment: `interrupted` names the step it stopped, if any. */
  | { event: 'after-steps-cancelled'; supersededBy: string; interrupted: number | null; skipped: number }
  | { event: 'resolved' | 'failed' | 'aborted' | 'cancelled' | 'rejected' | 'expired'; reason: string };

export type NotifyEvent = NotifyDetail['event'];

/** A notification: `at`/`by` say when and through whom it happened. */
export type NotifyEffect = { kind: 'notify'; at: number; by: string } & NotifyDetail;

/** `after`: the index is in `strategy.after` (a step after resolution), not in `strategy.steps`. */
export type StepPhase = 'after';

export type Effect =
  | { kind: 'runStep'; stepIndex: number; attempt: number; phase?: StepPhase }
  /** The rollback ended while this attempt was asked for or running: stop it (AbortSignal). */
  | { kind: 'cancelStep'; stepIndex: number; attempt: number; phase?: StepPhase }
  | { kind: 'runCheck'; checkIndex: number; attempt: number }
  | { kind: 'runWatch'; watchIndex: number; attempt: number }
  | { kind: 'scheduleTimer'; timer: TimerName; dueAt: number; seq: number }
  | NotifyEffect
  | { kind: 'freeze'; on: boolean };
