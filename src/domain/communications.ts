/** A `Communications` manifest as the notifiers see it: parsed, durations in milliseconds. */

/** Every moment a stakeholder can be told about; templates and targets are keyed by these. */
export const COMMUNICATION_EVENTS = [
  'incident-opened',
  'rollback-declared',
  'approval-requested',
  'escalated',
  'authorized',
  'step-started',
  'step-succeeded',
  'step-failed',
  'validation-passed',
  'validation-failed',
  'periodic-update',
  'resolved',
  'failed',
  // Cancelled, rejected or expired before any step ran: nothing was changed.
  'called-off',
] as const;
export type CommunicationEvent = (typeof COMMUNICATION_EVENTS)[number];

export type CommunicationTarget = 'slack' | 'sns' | 'statuspage';

/** Template text per target; a manifest's single text is copied to every target. */
export type EventTemplates = Partial<Record<CommunicationTarget, string>>;

export interface CommunicationsPolicy {
  name: string;
  targets: {
    slack?: { channels: string[]; events?: string[] };
    sns?: { topicArn: string; events?: string[] };
    statuspage?: { pageId: string; componentIds: string[]; events?: string[] };
  };
  /** By event name (`rollback-declared`, `resolved`, ...). */
  templates: Record<string, EventTemplates>;
  updateEveryMs: number;
}
