/**
 * The one interface every stakeholder target implements (DESIGN section 7), as `Executor` is for
 * steps: a kind, the events it hears by default, where the plan or its Communications manifest
 * configures it, and `deliver`. The fan-out (stakeholders.ts) reads the rollback, picks the targets
 * the plan names, renders each one's template and hands it over; a target only talks to its API.
 */
import type { RollbackView } from '../app/rollback-view.js';
import type { CommunicationEvent } from '../domain/communications.js';
import type { CommunicationsPolicy, CommunicationTarget } from '../domain/communications.js';
import type { RollbackPlan } from '../domain/plan.js';
import type { NotifyDetail } from '../domain/rollback-types.js';
import type { Logger } from '../lib/logging.js';

/** What stakeholders hear when a target names no events: the seeds' "who is told what". */
export const STAKEHOLDER_EVENTS: readonly CommunicationEvent[] = [
  'incident-opened',
  'rollback-declared',
  'authorized',
  'resolved',
  'failed',
  'called-off',
];

/**
 * What a notice is about: a rollback, or an incident that no rollback belongs to yet (the alert
 * opened it). Names it in logs, records and SNS attributes.
 */
export interface NoticeSubject {
  kind: 'rollback' | 'incident';
  id: string;
  service: string;
  environment: string;
}

/** One `notify` effect, or one `incident-opened`, as every target sees it. */
export interface StakeholderNotice {
  /**
   * Stable across redeliveries: what makes a repeat recognisable. A `notify` effect's id, or
   * `incident-opened:<id>` (the incident's, or the rollback's declared without one).
   */
  effectId: string;
  /** The rollback's notice; null for `incident-opened`, which is none. */
  detail: NotifyDetail | null;
  /** The communication event the notice is, if it is one (`communicationEventOf`). */
  event: CommunicationEvent | null;
  at: number;
  subject: NoticeSubject;
  /** The rollback; null when the notice is about an incident without one. */
  rollback: RollbackView | null;
}

/** The target's template rendered with the rollback's variables. */
export interface RenderedNotice {
  /** The event whose template was rendered (what `hears` answered). */
  event: CommunicationEvent;
  text: string;
  /** Empty unless the template family has a subject line (SNS). */
  subject: string;
}

export interface DeliveryContext {
  /**
   * Runs `work` once per effect and `part` however often the effect is delivered, on any replica
   * (the one `doOnce` of store/once.ts, keyed `<effectId>:<part>`), in the background. Resolves once
   * the work has started or was found done or claimed elsewhere, so deliveries start in the order
   * of the notices while none waits for another to finish; rejects only when the claim could not
   * be read or written. A failure of the work releases the claim (a redelivery tries again) and
   * goes to `failed`.
   */
  once(part: string, work: () => Promise<void>, failed: (error: unknown) => void): Promise<void>;
  /**
   * Says in the rollback's thread that the target was not told (an incident without a rollback has
   * no thread of its own here: it is logged). The message is Slack mrkdwn as it is to be shown: the
   * sender escapes the foreign text in it (errors) and keeps its mentions.
   */
  report(message: string): void;
  log: Logger;
}

/**
 * `S` is the target's settings as the plan and its manifest give them; `undefined` from
 * `settingsOf` means the plan does not name the target and it hears nothing.
 */
export interface StakeholderTarget<S = unknown> {
  /** Unique in the registry; names the target in logs and in the thread's failure lines. */
  readonly kind: string;
  /** Which template texts and escaping its message uses (templates/ keys them by this). */
  readonly template: CommunicationTarget;
  /** What it hears when its settings name no `events`. */
  readonly defaultEvents: readonly CommunicationEvent[];
  /** Cheap, before the rollback is read: whether a notice of this kind can concern the target. */
  mayHear(detail: NotifyDetail): boolean;
  settingsOf(plan: RollbackPlan, policy: CommunicationsPolicy | undefined): S | undefined;
  /** The event whose template this notice is told with; null: the target stays silent. */
  hears(notice: StakeholderNotice, settings: S): CommunicationEvent | null;
  /**
   * Hands the message over and returns without waiting for the target's answer (a slow or dead
   * target never delays the rollback). A redelivered effect must not tell anyone twice.
   */
  deliver(
    notice: StakeholderNotice,
    rendered: RenderedNotice,
    settings: S,
    context: DeliveryContext,
  ): Promise<void>;
}

/** The usual `hears`: the notice's communication event, when the settings' events (or the defaults) list it. */
export function heardEvent(
  notice: Pick<StakeholderNotice, 'event'>,
  events: readonly string[] | undefined,
  defaultEvents: readonly CommunicationEvent[],
): CommunicationEvent | null {
  return notice.event !== null && (events ?? defaultEvents).includes(notice.event) ? notice.event : null;
}
