/**
 * Builds the stakeholder targets this process can reach and the fan-out over them, so the
 * composition root only passes its clients in. A target whose client is not configured (no SNS
 * publisher, no Statuspage key) is not registered: a plan naming it tells the others.
 */
import type { RollbackView } from '../app/rollback-view.js';
import type { CommunicationsPolicy } from '../domain/communications.js';
import type { RollbackPlan } from '../domain/plan.js';
import type { Logger } from '../lib/logging.js';
import type { Docs } from '../store/store.js';
import { RateQueue } from './rate-queue.js';
import {
  incidentOpenedNotifier,
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

export interface StakeholderDeps {
  /** Where the targets keep what they did once (and the status page its incidents). */
  store: Docs;
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
  now?: () => number;
}

export interface Stakeholders {
  notify: StakeholderNotifier;
  /** `incident-opened` when an alert opened an incident: call it for every delivery, it tells once. */
  incidentOpened: IncidentOpenedNotifier;
  registry: StakeholderRegistry;
  /** Paces the calls of rate-limited targets (Statuspage); drain it when stopping. */
  queue: RateQueue;
}

export function createStakeholders(deps: StakeholderDeps): Stakeholders {
  const { store, report, log } = deps;
  const queue = new RateQueue({ log, ...deps.statuspage?.retry });
  const registry = new StakeholderRegistry().register(slackChannelTarget(deps.slack));
  if (deps.sns) registry.register(snsTarget(deps.sns));
  const statuspage = createStatuspageTarget(deps.statuspage, {
    store,
    queue,
    report,
    log,
    ...(deps.now ? { now: deps.now } : {}),
  });
  if (statuspage) registry.register(statuspage);
  const options: StakeholderOptions = {
    registry,
    store,
    view: deps.view,
    planOf: deps.planOf,
    communicationsOf: deps.communicationsOf,
    ...(deps.versionsOf ? { versionsOf: deps.versionsOf } : {}),
    report,
    log,
  };
  return {
    notify: stakeholderNotifier(options),
    incidentOpened: incidentOpenedNotifier(options),
    registry,
    queue,
  };
}
