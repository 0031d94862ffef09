/**
 * The whole bot assembled from its parts: engine runtime, application services, Slack app and
 * routes over one store. Only wiring: each behaviour lives in the module named for it.
 */
import { randomBytes } from 'node:crypto';
import { credentialsOf, type Bot, type BotOptions } from './bot-options.js';
import { createSlackMessages } from './slack-messages.js';
import { createStepRunning } from './step-running.js';
import { botRoutes } from '../http/bot-routes.js';
import { IncidentRecords } from '../app/incident-records.js';
import { IncidentService } from '../app/incident-service.js';
import { DrillRecords } from '../app/drill-records.js';
import { freezeEffectHandler } from '../app/freeze-effect.js';
import { FreezeService } from '../app/freeze-service.js';
import { HOLD_MS, noticeFanout } from '../app/notice-fanout.js';
import { OwedNotices } from '../app/owed-notices.js';
import { communicationsOf, recordedVersions, RollbackService } from '../app/rollback-service.js';
import { RollbackReads } from '../app/rollback-reads.js';
import { contextOf } from '../app/rollback-view.js';
import { previewStrategy } from '../executors/render-params.js';
import { createMetrics } from '../metrics/metrics.js';
import { createSlackApp, listen } from '../slack/app.js';
import { openIncidentsFrom } from '../slack/blocks/app-home.js';
import { slackWebClient } from '../slack/web-client.js';
import { slackNotifyHandler } from '../slack/notify-handler.js';
import { RoleDirectory } from '../slack/role-directory.js';
import { createStakeholders } from '../notifiers/create-stakeholders.js';
import { planNoticeText } from '../notifiers/templates/index.js';
import { knownSecrets } from '../config/known-secrets.js';
import { executorKindsOf } from '../domain/plan.js';
import { SecretMask } from '../domain/secret-mask.js';
import { maskedFetch } from '../slack/masked-fetch.js';
import { slackTransport } from '../slack/slack-transport.js';

const newRollbackId = (): string => `rb-${randomBytes(3).toString('hex')}`;
const newIncidentId = (): string => `inc-${randomBytes(3).toString('hex')}`;

export type { Bot, BotOptions } from './bot-options.js';

export async function createBot(options: BotOptions): Promise<Bot> {
  const { store, log, catalog } = options;
  const now = options.now ?? Date.now;
  const metrics = options.metrics ?? createMetrics();
  const secrets = options.secrets ?? new SecretMask();
  // Its own credentials and its plans' secrets: masked in every output, message and log line.
  secrets.add([...credentialsOf(options), ...knownSecrets(options.env, catalog().plans.values())]);
  const slackFetch = maskedFetch(secrets, slackTransport({ env: options.env }));
  const { botToken: token, apiUrl, retries } = options.slack;
  const client = slackWebClient({ token, apiUrl, retries, fetch: slackFetch, log });
  const roles = new RoleDirectory({
    client,
    now,
    log,
    ...(options.roleLookupWaitMs === undefined ? {} : { lookupWaitMs: options.roleLookupWaitMs }),
  });
  const rolesOf = roles.rolesOf.bind(roles);
  const records = new IncidentRecords(store);
  const reads = new RollbackReads({ store, now, secrets });
  const groupMembers = (group: string) => roles.groupMembers(group);
  const { drawer, threads, cards } = createSlackMessages({
    client,
    store,
    reads,
    records,
    catalog,
    groupMembers,
    now,
    log,
    incidentSweepMs: options.incidentSweepMs,
  });
  const drills = new DrillRecords(store);
  const freezes = new FreezeService({ store, catalog, rolesOf, now });

  const {
    notify: stakeholders,
    incidentOpened,
    outbox: stakeholderOutbox,
  } = createStakeholders({
    store,
    view: (id, atLeast) => reads.view(id, atLeast),
    planOf: (name) => catalog().plans.get(name),
    communicationsOf: (plan) => communicationsOf(catalog(), plan),
    versionsOf: (name, environment) => recordedVersions(store, name, environment),
    slack: client.chat,
    sns: options.sns,
    statuspage: options.statuspage,
    // A target that failed is said in the rollback's thread; the rollback goes on.
    report: (rollbackId, message) => {
      cards.warn(rollbackId, message);
    },
    log,
    now,
    ...(options.stakeholderOutbox ? { outbox: options.stakeholderOutbox } : {}),
  });
  const { runtime, targets } = createStepRunning(options, { store, secrets, cards, now, log });
  // In this order: the read model keeps the committed record the card is then drawn from.
  runtime.engine.onCommitted(reads.committed);
  runtime.engine.onCommitted(cards.committed);
  runtime.engine.onCommitted(metrics.commitListener(log));
  const service = new RollbackService({
    engine: runtime.engine,
    store,
    catalog,
    rolesOf,
    now,
    newId: options.newId ?? newRollbackId,
    log,
    resolver: targets,
    incidents: records,
  });
  const incidents = new IncidentService({
    store,
    records,
    catalog,
    declare: (request) => service.declare(request),
    alertsChanged: (name, environment, firing) => service.alertsChanged(name, environment, firing),
    now,
    newId: newIncidentId,
    log,
    onOpened: (incident) => {
      metrics.incidentsOpened.inc({ service: incident.service, environment: incident.environment });
    },
    tellOpened: (incident) => incidentOpened(incident, incident.openedAt),
  });
  records.onChange((incidentId) => {
    threads.announce(incidentId);
  });
  const handlers = metrics.instrumentHandlers({
    // The rollback's thread first, then the stakeholders, then its incident (which may close).
    notify: noticeFanout({
      thread: slackNotifyHandler({
        store,
        reads,
        cards,
        showCard: (id, version) => cards.shows(id, version),
        groupMembers,
        customText: planNoticeText({ catalog, now, log }),
      }),
      stakeholders,
      rollbackOf: (effect) => reads.record(effect.rollbackId, effect.version),
      owed: new OwedNotices({ store, lapseMs: HOLD_MS }),
      after: (rollback) =>
        incidents.rollbackNoticed({ ...rollback, incidentId: contextOf(rollback).incidentId }),
      log,
    }),
    freeze: freezeEffectHandler({ store, reads, drills, freezes, log }),
  });
  for (const [kind, handler] of Object.entries(handlers)) runtime.handle(kind, handler);
  const app = await createSlackApp(
    {
      ...options.slack,
      fetch: slackFetch,
      routes: botRoutes({
        incidents,
        reads,
        store,
        freezes,
        metrics,
        now,
        log,
        alertToken: options.alertToken,
        apiToken: options.apiToken,
        snsReceiver: options.snsReceiver,
      }),
      log,
    },
    {
      service,
      incidents,
      reads,
      drawCard: (id) => drawer.draw(id),
      previewSteps: (plan, strategyName) => previewStrategy(plan, strategyName, now()),
      store,
      freezes,
      drills,
      openIncidents: options.openIncidents ?? openIncidentsFrom(incidents),
      now,
      log,
    },
  );

  return {
    app,
    runtime,
    service,
    reads,
    incidents,
    threads,
    metrics,
    freezes,
    drills,
    async start(port, host = '0.0.0.0') {
      // Before the workers: a library loaded inside a running step would hold its lease up.
      await options.registry.preload(
        [...catalog().plans.values()].flatMap((plan) => [...executorKindsOf(plan)]),
      );
      runtime.start();
      stakeholderOutbox.start();
      threads.start();
      return listen(app, port, host);
    },
    async stop(graceMs = 8_000) {
      await app.stop();
      // The workers' last effects may still announce incidents and redraw cards: settle those after.
      await runtime.stop(graceMs);
      // The cards first: their redraws may redraw an incident's message. Replies still waiting for
      // Slack are given up (logged): the process is going away.
      cards.close();
      await cards.settled();
      await threads.stop();
      await threads.settled();
      // What it has not sent stays in the store: the next process (or another replica) sends it.
      await stakeholderOutbox.stop(Math.min(graceMs, 2_000));
    },
  };
}
