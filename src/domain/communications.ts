/** A `Communications` manifest as the notifiers see it: parsed, durations in milliseconds. */

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
