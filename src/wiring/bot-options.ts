/**
 * What the bot is built from and what it offers: `main.ts` fills the options from the environment,
 * the e2e tests and the demo fill them against the Slack simulator with an injected clock.
 */
import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import type { DrillRecords } from '../app/drill-records.js';
import type { FreezeService } from '../app/freeze-service.js';
import type { IncidentService } from '../app/incident-service.js';
import type { RollbackReads } from '../app/rollback-reads.js';
import type { Catalog, RollbackService } from '../app/rollback-service.js';
import type { SecretMask } from '../domain/secret-mask.js';
import type { EngineRuntime } from '../engine/runtime.js';
import type { ExecutorRegistry } from '../executors/registry.js';
import type { SnsReceiverOptions } from '../http/bot-routes.js';
import type { Metrics } from '../metrics/metrics.js';
import type { OutboxTuning } from '../notifiers/create-stakeholders.js';
import type { SnsPublisher } from '../notifiers/targets/sns/publisher.js';
import type { StatuspageConfig } from '../notifiers/targets/statuspage/index.js';
import type { OpenIncident } from '../slack/blocks/app-home.js';
import type { IncidentThreads } from '../slack/incident-thread.js';
import type { Store } from '../store/store.js';

export interface BotOptions {
  slack: {
    botToken: string;
    signingSecret: string;
    appToken?: string | undefined;
    apiUrl: string;
    retries?: number;
  };
  apiToken?: string | undefined;
  /** ALERT_WEBHOOK_TOKEN: the alert receivers refuse every delivery without it. */
  alertToken?: string | undefined;
  /** The SNS receiver's trust: allowed topics, extra certificate URL prefixes and CAs. */
  snsReceiver?: SnsReceiverOptions;
  store: Store;
  /** Stakeholder targets: SNS (a publisher) and the status page (its API, when a key is set). */
  sns?: SnsPublisher | undefined;
  statuspage?: StatuspageConfig | undefined;
  /** How the stakeholder outbox retries (defaults: from 1 s, doubling to 30 s; given up after 24 h). */
  stakeholderOutbox?: OutboxTuning;
  catalog: () => Catalog;
  registry: ExecutorRegistry;
  /**
   * The process environment, for `${env:NAME}` secrets in step parameters and what a command step's
   * `inheritEnv` hands to its program.
   */
  env: Readonly<Record<string, string | undefined>>;
  /** STEP_TIMEOUT_MAX in milliseconds: no step, check or watch runs longer (default 60m). */
  stepTimeoutMaxMs?: number;
  /**
   * The process's secret mask (the logger masks its lines with the same one); the bot adds its own
   * credentials and its plans' secrets to it. A fresh one when not given.
   */
  secrets?: SecretMask;
  log: Logger;
  now?: () => number;
  newId?: () => string;
  leaseTtlMs?: number;
  /** How often incident threads that Slack could not take are synced again (default 5 s). */
  incidentSweepMs?: number;
  /** How long a click waits for Slack's user groups before its role counts as unknown (default 5 s). */
  roleLookupWaitMs?: number;
  /** Prometheus metrics served at `/metrics`; a fresh registry when not given. */
  metrics?: Metrics;
  /** Open incidents for App Home (the incident service provides them); none when absent. */
  openIncidents?: () => Promise<OpenIncident[]>;
}

export interface Bot {
  app: App;
  runtime: EngineRuntime;
  service: RollbackService;
  /** Rollbacks as people and programs see them. */
  reads: RollbackReads;
  incidents: IncidentService;
  threads: IncidentThreads;
  /** Counters the alert receivers and other adapters add to (`metrics.alertsReceived.inc(...)`). */
  metrics: Metrics;
  freezes: FreezeService;
  drills: DrillRecords;
  /** Starts the workers and the HTTP server; resolves with the bound port. */
  start(port: number, host?: string): Promise<number>;
  /** Graceful: stop taking requests and work, hand running steps back, within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** The bot's own credentials: secrets to mask wherever text leaves the bot. */
export function credentialsOf(options: BotOptions): Array<string | undefined> {
  return [
    options.slack.botToken,
    options.slack.signingSecret,
    options.slack.appToken,
    options.apiToken,
    options.alertToken,
    options.statuspage?.apiKey,
  ];
}
