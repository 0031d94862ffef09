/**
 * The one interface every stakeholder target implements (DESIGN section 7), as `Executor` is for
 * steps: a kind, the events it hears by default, where the plan or its Communications manifest
 * configures it, the messages a notice makes and how one is sent. The fan-out (stakeholders.ts) reads
 * the rollback, picks the targets the plan names, renders each one's template and keeps the
 * messages (stakeholder-outbox.ts), which sends them; a target only talks to its API.
 */
import type { RollbackView } from '../app/rollback-view.js';
import type { CommunicationEvent } from '../domain/communications.js';
import type { CommunicationsPolicy, CommunicationTarget } from '../domain/communications.js';
import type { RollbackPlan } from '../domain/plan.js';
import type { NotifyDetail } from '../domain/rollback-types.js';
import type { z } from 'zod';

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

/** One message a notice makes for a target: kept in the store until the target takes it. */
export interface OutgoingMessage<M> {
  /**
   * Messages of one lane are sent one at a time, in order, paced by `spacingMs`, by one replica at a
   * time: the unit of the target's rate limit (a Statuspage API key) or its destination (an SNS
   * topic, a Slack channel).
   */
  lane: string;
  /** Unique within the notice: the message is `<effectId>:<part>`, so a repeated effect adds nothing. */
  part: string;
  /** Plain JSON: it is stored, and read back with the target's `body` schema. */
  body: M;
}

/** What a target gets to send one message. */
export interface SendContext {
  /** Await it right before the request: the lane counts its spacing from the request's end. */
  ready(): Promise<void>;
  /** Aborted when the process stops and its grace period is over. */
  signal: AbortSignal;
  /**
   * Runs `work` once per message across replicas and retries (`doOnce` of store/once.ts, keyed
   * `<effectId>:<part>` in `COLLECTIONS.stakeholderPosts`): `busy` while another process holds a fresh claim.
   * A failure releases the claim and is rethrown.
   */
  once(work: () => Promise<void>): Promise<'ran' | 'done' | 'busy' | 'skipped'>;
}

/** What one try to send came to. A thrown error counts as `failed`. */
export type SendOutcome =
  /** The target took it. */
  | { kind: 'sent' }
  /** Nothing needed sending (already sent, or no longer relevant). */
  | { kind: 'skipped'; reason: string }
  /** Not taken now (no answer, 5xx, 429): tried again later, after `retryAfterMs` if the server said. */
  | { kind: 'failed'; message: string; retryAfterMs?: number | undefined }
  /** Someone else holds what it needs (another process is creating the incident): soon again. */
  | { kind: 'busy'; message: string }
  /** Will never be taken (a 4xx, a channel that is gone): given up, and the thread is told. */
  | { kind: 'refused'; message: string };

/**
 * `S` is the target's settings as the plan and its manifest give them; `undefined` from
 * `settingsOf` means the plan does not name the target and it hears nothing. `M` is one stored
 * message (stakeholder-outbox.ts keeps and sends them).
 */
export interface StakeholderTarget<S = unknown, M = unknown> {
  /** Unique in the registry; names the target in logs and in the thread's failure lines. */
  readonly kind: string;
  /** Which template texts and escaping its message uses (templates/ keys them by this). */
  readonly template: CommunicationTarget;
  /** What it hears when its settings name no `events`. */
  readonly defaultEvents: readonly CommunicationEvent[];
  /** Least time between the end of a lane's request and the start of its next one. */
  readonly spacingMs: number;
  /** Reads a stored message back (an earlier release may have written it). */
  readonly body: z.ZodType<M>;
  /** Cheap, before the rollback is read: whether a notice of this kind can concern the target. */
  mayHear(detail: NotifyDetail): boolean;
  settingsOf(plan: RollbackPlan, policy: CommunicationsPolicy | undefined): S | undefined;
  /** The event whose template this notice is told with; null: the target stays silent. */
  hears(notice: StakeholderNotice, settings: S): CommunicationEvent | null;
  /** The messages this notice makes, rendered: each is kept, then sent in its lane's order. */
  messages(notice: StakeholderNotice, rendered: RenderedNotice, settings: S): Array<OutgoingMessage<M>>;
  /** One try at sending one message; a refusal is an outcome, not a throw. */
  send(message: M, context: SendContext): Promise<SendOutcome>;
  /** Where the message goes, as the thread's lines name it (mrkdwn: foreign text escaped). */
  label(message: M): string;
  /** The thread's line when the message is given up; `reason` is already escaped mrkdwn. */
  failure(message: M, reason: string): string;
}

/** The usual `hears`: the notice's communication event, when the settings' events (or the defaults) list it. */
export function heardEvent(
  notice: Pick<StakeholderNotice, 'event'>,
  events: readonly string[] | undefined,
  defaultEvents: readonly CommunicationEvent[],
): CommunicationEvent | null {
  return notice.event !== null && (events ?? defaultEvents).includes(notice.event) ? notice.event : null;
}
