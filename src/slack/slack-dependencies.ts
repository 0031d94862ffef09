import type { Logger } from 'pino';
import type { IncidentService } from '../app/incident-service.js';
import type { DrillRecords } from '../app/drill-records.js';
import type { FreezeService } from '../app/freeze-service.js';
import type { RollbackReads } from '../app/rollback-reads.js';
import type { RollbackService } from '../app/rollback-service.js';
import type { RollbackPlan } from '../domain/plan.js';
import type { Dedup, RollbackReader } from '../store/store.js';
import type { OpenIncident } from './blocks/app-home.js';
import type { PreviewStep } from './blocks/replies.js';
import type { SlackMessage } from './card-publisher.js';

/** What the Slack listeners need; `slack/app.ts` receives it from the composition root. */
export interface SlackDependencies {
  service: RollbackService;
  incidents: Pick<IncidentService, 'get'>;
  /** Rollbacks as they are shown (lists, App Home). */
  reads: Pick<RollbackReads, 'list' | 'view'>;
  /** The status card of a rollback as it is now, and the channel it belongs to. */
  drawCard: (rollbackId: string) => Promise<{ channel: string; message: SlackMessage } | null>;
  /** The steps of a strategy with their parameters as they would run (secrets left as references). */
  previewSteps: (plan: RollbackPlan, strategyName: string) => PreviewStep[];
  /** Dedup: repeated deliveries and clicks; the reader: App Home, history and stats. */
  store: RollbackReader & Dedup;
  freezes: FreezeService;
  drills: DrillRecords;
  /** The incidents the alert side keeps open, for App Home. */
  openIncidents: () => Promise<OpenIncident[]>;
  /** The clock (injected: the e2e tests move it). */
  now: () => number;
  log: Logger;
}
