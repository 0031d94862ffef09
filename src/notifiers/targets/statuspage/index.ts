/**
 * The status page of the plan (`communications.statuspage`) or of its Communications manifest: one
 * incident follows the rollback through its phases (notifier.ts); its components show the plan's
 * outage (`componentStatus`, else from the criticality). Its updates are one lane per API key,
 * spaced 1 s apart: Statuspage allows one request per second per key.
 *
 * Not through `once`: the incident's own document (incidents.ts) is what makes repeats harmless.
 * It records the effects applied, drops a phase that arrives after a later one and claims the
 * incident's creation, and it must: whether an update is still due depends on the incident's state,
 * not on the effect alone.
 */
import type { CommunicationEvent } from '../../../domain/communications.js';
import { outageOf, type OutageStatus } from '../../../domain/plan.js';
import type { NotifyDetail } from '../../../domain/rollback-types.js';
import type { Logger } from '../../../lib/logging.js';
import type { Docs } from '../../../store/store.js';
import type { StakeholderNotice, StakeholderTarget } from '../../target.js';
import {
  StatuspageClient,
  StatuspageNotifier,
  statuspageUpdate,
  type RollbackPhase,
  type StatuspageUpdate,
} from './notifier.js';

/** Statuspage allows one request per second per API key. */
const SPACING_MS = 1_000;

/** How the bot reaches Statuspage (`STATUSPAGE_API_URL`, `STATUSPAGE_API_KEY`). */
export interface StatuspageConfig {
  apiUrl: string;
  /** Unset: no status page updates. */
  apiKey?: string | undefined;
  fetch?: typeof fetch;
}

/** The target over its own client and incident documents; undefined without an API key. */
export function createStatuspageTarget(
  config: StatuspageConfig | undefined,
  deps: {
    store: Docs;
    log: Logger;
    now?: () => number;
  },
): StakeholderTarget<StatuspageSettings, StatuspageUpdate> | undefined {
  if (config?.apiKey === undefined || config.apiKey === '') return undefined;
  const { log } = deps;
  const client = new StatuspageClient({
    apiUrl: config.apiUrl,
    apiKey: config.apiKey,
    ...(config.fetch ? { fetch: config.fetch } : {}),
    log,
  });
  const notifier = new StatuspageNotifier({
    client,
    store: deps.store,
    log,
    ...(deps.now ? { now: deps.now } : {}),
  });
  return statuspageTarget(notifier, client.laneKey);
}

export interface StatuspageSettings {
  pageId: string;
  componentIds: readonly string[];
  /** The components' status while the incident is open: the plan's override, else its criticality's. */
  outage: OutageStatus;
  events?: readonly string[] | undefined;
}

/** Every phase is followed unless the settings name events: an incident needs all of them. */
const PHASE_EVENTS_TOLD: readonly CommunicationEvent[] = [
  'incident-opened',
  'authorized',
  'step-started',
  'validation-passed',
  'resolved',
  'failed',
  'called-off',
];

const PHASE_NOTICES = new Set<string>([
  'declared',
  'authorized',
  'step-started',
  'step-succeeded',
  'resolved',
  'failed',
  'aborted',
  'cancelled',
  'rejected',
  'expired',
]);

export function statuspageTarget(
  statuspage: StatuspageNotifier,
  lane: string,
): StakeholderTarget<StatuspageSettings, StatuspageUpdate> {
  return {
    kind: 'statuspage',
    template: 'statuspage',
    defaultEvents: PHASE_EVENTS_TOLD,
    spacingMs: SPACING_MS,
    body: statuspageUpdate,
    mayHear: (detail) => PHASE_NOTICES.has(detail.event),
    settingsOf(plan, policy) {
      const page = plan.communications?.statuspage ?? policy?.targets.statuspage;
      return (
        page && {
          pageId: page.pageId,
          componentIds: page.componentIds,
          outage: outageOf(plan),
          events: policy?.targets.statuspage?.events,
        }
      );
    },
    hears(notice, settings) {
      const phase = phaseOf(notice);
      if (phase === null || !statuspageWants(settings.events, phase)) return null;
      // Customers read the opening as the incident it is, not as a rollback being declared.
      return phase === 'declared' ? 'incident-opened' : (notice.event ?? phaseEvent(phase));
    },
    messages(notice, rendered, settings) {
      const { rollback } = notice;
      const phase = phaseOf(notice);
      if (phase === null || rollback === null) return [];
      const update: StatuspageUpdate = {
        effectId: notice.effectId,
        rollbackId: rollback.id,
        phase,
        pageId: settings.pageId,
        componentIds: [...settings.componentIds],
        outage: settings.outage,
        name: `${rollback.service} (${rollback.environment}) degraded: rolling back`,
        body: rendered.text,
      };
      return [{ lane, part: 'statuspage', body: update }];
    },
    send: (update, context) => statuspage.send(update, context),
    label: () => 'The status page',
    failure: (update, reason) => StatuspageNotifier.failure(update, reason),
  };
}

/** The phase of a rollback's notice; none for what is not one (`incident-opened` at the alert). */
function phaseOf(notice: StakeholderNotice): RollbackPhase | null {
  if (notice.detail === null || notice.rollback === null) return null;
  return statuspagePhase(notice.detail, notice.rollback.steps.length);
}

/**
 * The status page follows the rollback: open when a human declares it (the customers' incident is
 * confirmed), or when an automatic one is authorised; identified when the first step starts,
 * monitoring once the last step is done and validation runs, resolved at the end. A rollback called
 * off (cancelled, rejected, expired) says so on the incident it opened, if it opened one.
 */
export function statuspagePhase(notice: NotifyDetail, stepCount: number): RollbackPhase | null {
  switch (notice.event) {
    case 'declared':
      // An automatic trigger is no human's confirmation: its page opens when it is authorised.
      return notice.autoStartAt === null ? 'declared' : null;
    case 'authorized':
      return 'authorized';
    case 'step-started':
      return notice.stepIndex === 0 && notice.attempt === 1 ? 'executing' : null;
    case 'step-succeeded':
      return notice.stepIndex === stepCount - 1 ? 'validating' : null;
    case 'resolved':
      return 'resolved';
    case 'failed':
      return 'failed';
    case 'aborted':
      return 'aborted';
    case 'cancelled':
    case 'rejected':
    case 'expired':
      return 'called-off';
    default:
      return null;
  }
}

function phaseEvent(phase: RollbackPhase): CommunicationEvent {
  switch (phase) {
    case 'declared':
      return 'incident-opened';
    case 'authorized':
      return 'authorized';
    case 'executing':
      return 'step-started';
    case 'validating':
      return 'validation-passed';
    case 'resolved':
      return 'resolved';
    case 'failed':
    case 'aborted':
      return 'failed';
    case 'called-off':
      return 'called-off';
  }
}

/**
 * `incident-opened` in a status page's events stands for the incident it opens: at the declaration,
 * or at authorisation for an automatic rollback (or when the opening was not told).
 */
function statuspageWants(events: readonly string[] | undefined, phase: RollbackPhase): boolean {
  if (events === undefined) return PHASE_EVENTS_TOLD.includes(phaseEvent(phase));
  return (
    events.includes(phaseEvent(phase)) ||
    (phase === 'declared' && events.includes('rollback-declared')) ||
    (phase === 'authorized' && events.includes('incident-opened'))
  );
}
