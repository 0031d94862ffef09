/**
 * The whole bot assembled from its parts: engine runtime, application service, Slack app and
 * routes over one store. `main.ts` builds it from the environment; the e2e tests and the demo build
 * it against the Slack simulator with an injected clock.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { App } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { IncidentRecords } from './app/incident-records.js';
import { IncidentService } from './app/incident-service.js';
import { DrillRecords } from './app/drill-records.js';
import { freezeEffectHandler } from './app/freeze-effect.js';
import { FreezeService } from './app/freeze-service.js';
import { noticeFanout } from './app/notice-fanout.js';
import { communicationsOf, RollbackService, type Catalog } from './app/rollback-service.js';
import { RollbackReads } from './app/rollback-reads.js';
import { createEngineRuntime, type EngineRuntime } from './engine/runtime.js';
import type { EffectHandler } from './engine/outbox-worker.js';
import type { ExecutorRegistry } from './executors/registry.js';
import { previewStrategy } from './executors/render-params.js';
import { createStepPerformer } from './executors/step-performer.js';
import { createPlanResolver, stepTargetDecider } from './executors/plan-resolver.js';
import { SnsVerifier, type SnsFetch, type SnsVerifierOptions } from './alerts/sns-signature.js';
import { alertRoutes } from './http/alert-routes.js';
import { snsRoute } from './http/sns-route.js';
import { httpRoutes, storeReadiness } from './http/routes.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { createSlackApp } from './slack/app.js';
import type { OpenIncident } from './slack/blocks/app-home.js';
import { boltLogger } from './slack/bolt-logger.js';
import { CardPublisher } from './slack/card-publisher.js';
import { IncidentThreads } from './slack/incident-thread.js';
import { roleGroupsOf, slackNotifyHandler } from './slack/notify-handler.js';
import { cardDrawer } from './slack/card-drawer.js';
import { StepOutputRelay } from './slack/step-output.js';
import { RoleDirectory } from './slack/role-directory.js';
import { createStakeholders } from './notifiers/create-stakeholders.js';
import type { SnsPublisher } from './notifiers/targets/sns/publisher.js';
import { planNoticeText } from './notifiers/templates/index.js';
import type { Store } from './store/store.js';
import { knownSecrets } from './config/known-secrets.js';
import { SecretMask } from './domain/secret-mask.js';
import { maskedFetch } from './slack/masked-fetch.js';

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
  snsReceiver?: Omit<SnsVerifierOptions, 'now' | 'fetch'> & { fetch?: SnsFetch };
  store: Store;
  /** Stakeholder targets: SNS (a publisher) and the status page (its API, when a key is set). */
  sns?: SnsPublisher | undefined;
  statuspage?:
    | {
        apiUrl: string;
        apiKey?: string | undefined;
        fetch?: typeof fetch;
        /** Retry pacing of the status page calls (defaults: 5 attempts from 1 s). */
        retry?: { maxAttempts?: number; baseDelayMs?: number };
      }
    | undefined;
  catalog: () => Catalog;
  registry: ExecutorRegistry;
  /** The process environment, for `${env:NAME}` secrets in step parameters. */
  env: Readonly<Record<string, string | undefined>>;
  /**
   * The process's secret mask (the logger masks its lines with the same one); the bot adds its own
   * credentials and its plans' secrets to it. A fresh one when not given.
   */
  secrets?: SecretMask;
  log: Logger;
  now?: () => number;
  newId?: () => string;
  leaseTtlMs?: number;
  /** Prometheus metrics served at `/metrics`; a fresh registry when not given. */
  metrics?: Metrics;
  /** Open incidents for App Home (the incident service provides them); none when absent. */
  openIncidents?: () => Promise<OpenIncident[]>;
}

export interface Bot {
  app: App;
  runtime: EngineRuntime;
  service: RollbackService;
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

const newRollbackId = (): string => `rb-${randomBytes(3).toString('hex')}`;
const newIncidentId = (): string => `inc-${randomBytes(3).toString('hex')}`;

export async function createBot(options: BotOptions): Promise<Bot> {
  const { store, log, catalog } = options;
  const now = options.now ?? Date.now;
  const metrics = options.metrics ?? createMetrics();
  const secrets = options.secrets ?? new SecretMask();
  // Its own credentials and its plans' secrets: masked in every output, message and log line.
  secrets.add([
    options.slack.botToken,
    options.slack.signingSecret,
    options.slack.appToken,
    options.apiToken,
    options.alertToken,
    options.statuspage?.apiKey,
    ...knownSecrets(options.env, catalog().plans.values()),
  ]);
  const slackFetch = maskedFetch(secrets);
  const client = new WebClient(options.slack.botToken, {
    slackApiUrl: options.slack.apiUrl,
    fetch: slackFetch,
    logger: boltLogger(log),
    ...(options.slack.retries === undefined ? {} : { retryConfig: { retries: options.slack.retries } }),
  });
  const roles = new RoleDirectory({ client, now, log });
  const rolesOf = roles.rolesOf.bind(roles);
  const records = new IncidentRecords(store);
  const reads = new RollbackReads({ store, now, secrets });
  const drawCard = cardDrawer({ store, reads, catalog, now });
  const cards = new CardPublisher({ client, store, log, draw: drawCard });
  const drills = new DrillRecords(store);
  const freezes = new FreezeService({ store, catalog, rolesOf, now });

  const { notify: stakeholders, queue: statuspageQueue } = createStakeholders({
    store,
    view: (id) => reads.view(id),
    planOf: (name) => catalog().plans.get(name),
    communicationsOf: (plan) => communicationsOf(catalog(), plan),
    slack: client.chat,
    sns: options.sns,
    statuspage: options.statuspage,
    // A target that failed is said in the rollback's thread; the rollback goes on.
    report: (rollbackId, message) => {
      cards.warn(rollbackId, message);
    },
    log,
    now,
  });
  const targets = createPlanResolver({ registry: options.registry, env: options.env, now });
  const stepOutput = new StepOutputRelay({ cards, log });
  const performer = createStepPerformer({
    registry: options.registry,
    env: options.env,
    secrets,
    log,
    onLine: stepOutput.onLine,
  });
  const runtime = createEngineRuntime({
    store,
    log,
    now,
    workerId: `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`,
    performCheck: performer.performCheck,
    targetFor: stepTargetDecider(targets),
    performStep: stepOutput.wrap(performer.performStep),
    handlers: metrics.instrumentHandlers({
      notify: withIncidents(
        slackNotifyHandler({
          store,
          service: reads,
          cards,
          roleGroups: () => roleGroupsOf(catalog()),
          customText: planNoticeText({ catalog, now, log }),
        }),
      ),
      freeze: freezeEffectHandler({
        store,
        drills,
        freezes,
        log,
      }),
    }),
    ...(options.leaseTtlMs === undefined ? {} : { leaseTtlMs: options.leaseTtlMs }),
  });
  // A listener runs inside the engine's write: a metrics bug must not fail a committed transition.
  runtime.engine.onCommitted((rollback, effects) => {
    try {
      metrics.observeCommit(rollback, effects);
    } catch (error) {
      log.warn({ err: error, rollbackId: rollback.id }, 'could not record metrics of a commit');
    }
  });
  const service = new RollbackService({
    engine: runtime.engine,
    store,
    catalog,
    rolesOf,
    now,
    newId: options.newId ?? newRollbackId,
    log,
    secrets,
    resolver: targets,
    incidents: records,
  });
  const incidents = new IncidentService({
    store,
    records,
    catalog,
    declare: (request) => service.declare(request),
    now,
    newId: newIncidentId,
    log,
    onOpened: (incident) => {
      metrics.incidentsOpened.inc({ service: incident.service, environment: incident.environment });
    },
  });
  const threads = new IncidentThreads({
    client,
    store,
    incidents: records,
    channelOf: (name) => catalog().plans.get(name)?.channel ?? null,
    rollback: async (id) => {
      const view = await service.view(id);
      if (!view) return null;
      const declared = view.timeline[0];
      return {
        id: view.id,
        state: view.state,
        toVersion: view.toVersion,
        declaredBy: declared?.by ?? 'system',
      };
    },
    deployments: (name, environment) => store.listDeployments(name, environment, 20),
    now,
    log,
  });
  records.onChange((incidentId) => {
    threads.announce(incidentId);
  });
  /**
   * After the thread (or its failure): stakeholders are told; rollbacks of an incident redraw its
   * thread, one that ends may close it. One rollback's notices are handled in order.
   */
  function withIncidents(handler: EffectHandler): EffectHandler {
    return noticeFanout({
      thread: handler,
      stakeholders,
      log,
      after: async (effect) => {
        const rollback = await store.getRollback(effect.rollbackId);
        if (rollback) await incidents.rollbackNoticed(rollback);
      },
    });
  }
  const app = await createSlackApp(
    {
      ...options.slack,
      fetch: slackFetch,
      routes: [
        ...alertRoutes({ incidents, token: options.alertToken, now, log, count: metrics.countAlerts }),
        snsRoute({
          incidents,
          log,
          now,
          count: metrics.countAlerts,
          verifier: new SnsVerifier({
            topicArns: [],
            ...options.snsReceiver,
            fetch: options.snsReceiver?.fetch ?? globalThis.fetch,
            now,
          }),
        }),
        ...httpRoutes({
          service,
          store,
          freezes,
          now,
          apiToken: options.apiToken,
          log,
          metrics,
          ready: storeReadiness(store),
        }),
      ],
      log,
    },
    {
      service,
      incidents,
      cards,
      drawCard,
      previewSteps: (plan, strategyName) => previewStrategy(plan, strategyName, now()),
      store,
      freezes,
      drills,
      openIncidents:
        options.openIncidents ??
        (async () =>
          (await incidents.listOpen()).map((incident) => ({
            service: incident.service,
            environment: incident.environment,
            startedAt: incident.startedAt,
            alertCount: incident.alerts,
          }))),
      now,
      log,
    },
  );

  return {
    app,
    runtime,
    service,
    incidents,
    threads,
    metrics,
    freezes,
    drills,
    async start(port, host = '0.0.0.0') {
      runtime.start();
      const server = (await app.start({ port, host })) as { address(): { port: number } | string | null };
      const address = server.address();
      return typeof address === 'object' && address !== null ? address.port : port;
    },
    async stop(graceMs = 8_000) {
      await app.stop();
      // The workers' last effects may still announce incidents and redraw cards: settle those after.
      await runtime.stop(graceMs);
      await threads.settled();
      await cards.settled();
      await statuspageQueue.drain(Math.min(graceMs, 2_000));
    },
  };
}
