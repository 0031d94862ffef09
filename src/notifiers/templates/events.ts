/**
 * Which communication event (DESIGN section 7) a rollback notice belongs to. The Slack thread hears
 * every notice; stakeholders only these. `incident-opened` comes from alerts, not from a rollback.
 */
import type { CommunicationEvent } from '../../domain/communications.js';
import type { NotifyDetail, NotifyEvent } from '../../domain/rollback-types.js';

const EVENT_OF: Record<NotifyEvent, CommunicationEvent | null> = {
  declared: 'rollback-declared',
  'approval-requested': 'approval-requested',
  // One approval of several is thread chatter; `authorized` tells stakeholders when it counts.
  approved: null,
  escalated: 'escalated',
  reminder: null,
  // Thread business: the card shows the new targets; stakeholders hear when it is authorized.
  'targets-changed': null,
  authorized: 'authorized',
  'step-started': 'step-started',
  'step-succeeded': 'step-succeeded',
  'step-failed': 'step-failed',
  // The plan chose not to run it (its `when` was false): the thread and the card say so, and
  // stakeholders hear how the rollback ends, not each step it did not need.
  'step-skipped': null,
  // The step stopped without finishing and a human must decide: stakeholders hear it as a failure.
  'step-interrupted': 'step-failed',
  'validation-passed': 'validation-passed',
  'validation-failed': 'validation-failed',
  // The service did not stay healthy through the window: for stakeholders, validation failed.
  'stability-lost': 'validation-failed',
  // Thread business: a human decides; stakeholders hear the outcome (or the periodic update).
  'watch-breached': null,
  'manual-check-requested': null,
  'status-update': 'periodic-update',
  // Steps after resolution are the team's clean-up: stakeholders were told it is resolved, and it
  // stays so whatever they do. The thread (and the failure counter in the metrics) hears them.
  'after-steps-scheduled': null,
  'after-step-started': null,
  'after-step-succeeded': null,
  'after-step-failed': null,
  'after-step-interrupted': null,
  'after-steps-cancelled': null,
  resolved: 'resolved',
  failed: 'failed',
  // Stopped after steps ran: what was done is not undone, which stakeholders must read as a failure.
  aborted: 'failed',
  // Before anything ran: stakeholders told of the declaration hear it was called off.
  cancelled: 'called-off',
  rejected: 'called-off',
  expired: 'called-off',
};

export function communicationEventOf(notice: Pick<NotifyDetail, 'event'>): CommunicationEvent | null {
  return EVENT_OF[notice.event];
}
