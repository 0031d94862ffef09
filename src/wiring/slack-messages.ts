/**
 * The bot's Slack messages assembled: the rollback status cards and the incident threads. Both
 * draw cards through the one drawer (an incident's message carries its rollbacks' cards); the cards'
 * writer asks the incident thread to redraw a card that lives on its message. Built in that order,
 * so neither needs a forward reference to the other.
 */
import type { Logger } from 'pino';
import type { IncidentRecords } from '../app/incident-records.js';
import type { RollbackReads } from '../app/rollback-reads.js';
import type { Catalog } from '../app/rollback-service.js';
import { CardDrawer } from '../slack/card-drawer.js';
import type { ChatApi } from '../slack/card-publisher.js';
import { IncidentThreads } from '../slack/incident-thread.js';
import type { GroupMembers } from '../slack/paging.js';
import { RollbackCards } from '../slack/rollback-cards.js';
import type { Store } from '../store/store.js';

/** Deployments an incident's message offers to go back to. */
const DEPLOYMENTS_SHOWN = 20;

export function createSlackMessages(deps: {
  client: ChatApi;
  store: Store;
  reads: RollbackReads;
  records: IncidentRecords;
  catalog: () => Catalog;
  groupMembers: GroupMembers;
  now: () => number;
  log: Logger;
  /** How often incident threads that fell behind are synced again. */
  incidentSweepMs?: number | undefined;
}): { drawer: CardDrawer; threads: IncidentThreads; cards: RollbackCards } {
  const { client, store, reads, catalog, now, log } = deps;
  const drawer = new CardDrawer({ reads, catalog, groupMembers: deps.groupMembers, now });
  const threads = new IncidentThreads({
    client,
    store,
    incidents: deps.records,
    channelOf: (name) => catalog().plans.get(name)?.channel ?? null,
    rollback: (id) => reads.brief(id),
    cards: drawer.inIncident,
    deployments: (name, environment) => store.listDeployments(name, environment, DEPLOYMENTS_SHOWN),
    now,
    log,
    ...(deps.incidentSweepMs === undefined ? {} : { sweepMs: deps.incidentSweepMs }),
  });
  const cards = new RollbackCards({ client, store, reads, drawer, incidentMessages: threads, log });
  return { drawer, threads, cards };
}
