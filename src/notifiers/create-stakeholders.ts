/**
 * Builds the stakeholder targets this process can reach, the outbox that keeps and sends their
 * messages, and the fan-out over them, so the composition root only passes its clients in. A target
 * whose client is not configured (no SNS publisher, no Statuspage key) is not registered: a plan
 * naming it tells the others.
 */
import type { RollbackView } from '../app/rollback-view.js';
import type { CommunicationsPolicy } from '../domain/communications.js';
import type { RollbackPlan } from '../domain/plan.js';
import type { Logger } from '../lib/logging.js';
import type { Docs, Leases } from '../store/store.js';
import { StakeholderOutbox, type StakeholderOutboxOptions } from './stakeholder-outbox.js';
import {
  incidentOpenedNotifier,
  report,
  stakeholderNotifier,
  type IncidentOpenedNotifier,
  type StakeholderNotifier,
  type StakeholderOptions,
} from './stakeholders.js';
import { StakeholderRegistry } from './target-registry.js';
import { slackChannelTarget, type SlackPoster } from './targets/slack-channel/index.js';
import { snsTarget } from './targets/sns/index.js';
import type { SnsPublisher } from './targets/sns/publisher.js';
import { createStatuspageTarget, type StatuspageConfig } from './targets/statuspage/index.js';

/** How the outbox retries and looks for work (defaults in stakeholder-outbox.ts). */
export type OutboxTuning = Pick<
  StakeholderOutboxOptions,
  'baseDelayMs' | 'maxDelayMs' | 'maxAgeMs' | 'maxWaiting' | 'pollMs' | 'now' | 'sleep' | 'random'
>;

export interface StakeholderDeps {
  /** Where the messages wait (and the targets keep what they did once, the status page its incidents). */
  store: Docs & Leases;
  /** The rollback as of `atLeast` (the notice's version) or newer. */
  view: (rollbackId: string, atLeast: number) => Promise<RollbackView | null>;
  planOf: (service: string) => RollbackPlan | undefined;
  communicationsOf: (plan: RollbackPlan) => CommunicationsPolicy | undefined;
  /** The recorded current and previous versions, for `incident-opened` before any rollback. */
  versionsOf?: StakeholderOptions['versionsOf'];
  slack: SlackPoster;
  sns?: SnsPublisher | undefined;
  statuspage?: StatuspageConfig | undefined;
  /** Posts a line (mrkdwn whose foreign text the sender escaped) in the rollback's thread. */
  report: (rollbackId: string, message: string) => void;
  log: Logger;
  /** The rollback's clock (the status page's creation claims). */
  now?: () => number;
  outbox?: OutboxTuning;
}

export interface Stakeholders {
  notify: StakeholderNotifier;
  /** `incident-opened` when an alert opened an incident: call it for every delivery, it tells once. */
  incidentOpened: IncidentOpenedNotifier;
  registry: StakeholderRegistry;
  /** Sends what the notifiers kept: `start` it with the workers, `stop` it when stopping. */
  outbox: StakeholderOutbox;
}

export function createStakeholders(deps: StakeholderDeps): Stakeholders {
  const { store, log } = deps;
  const registry = new StakeholderRegistry().register(slackChannelTarget(deps.slack));
  if (deps.sns) registry.register(snsTarget(deps.sns));
  const statuspage = createStatuspageTarget(deps.statuspage, {
    store,
    log,
    ...(deps.now ? { now: deps.now } : {}),
  });
  if (statuspage) registry.register(statuspage);
  const outbox = new StakeholderOutbox({
    store,
    registry,
    report: (subject, message) => {
      report(deps, subject, message);
    },
    log,
    ...deps.outbox,
  });
  const options: StakeholderOptions = {
    registry,
    outbox,
    view: deps.view,
    planOf: deps.planOf,
    communicationsOf: deps.communicationsOf,
    ...(deps.versionsOf ? { versionsOf: deps.versionsOf } : {}),
    report: deps.report,
    log,
  };
  return {
    notify: stakeholderNotifier(options),
    incidentOpened: incidentOpenedNotifier(options),
    registry,
    outbox,
  };
}
