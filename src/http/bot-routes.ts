/**
 * Every HTTP route the bot serves beside Slack's: the alert receivers (SNS among them, with its
 * signature verifier) and the API, health and metrics routes, from the parts they use.
 */
import type { CustomRoute } from '@slack/bolt';
import type { Logger } from 'pino';
import { SnsVerifier, type SnsFetch, type SnsVerifierOptions } from '../alerts/sns-signature.js';
import type { FreezeService } from '../app/freeze-service.js';
import type { IncidentService } from '../app/incident-service.js';
import type { RollbackReads } from '../app/rollback-reads.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Store } from '../store/store.js';
import { alertRoutes } from './alert-routes.js';
import { httpRoutes, storeReadiness } from './routes.js';
import { snsRoute } from './sns-route.js';

/** The SNS receiver's trust: allowed topics, extra certificate URL prefixes and CAs. */
export type SnsReceiverOptions = Omit<SnsVerifierOptions, 'now' | 'fetch'> & { fetch?: SnsFetch };

export function botRoutes(deps: {
  incidents: Pick<IncidentService, 'receive'>;
  reads: RollbackReads;
  store: Store;
  freezes: FreezeService;
  metrics: Metrics;
  now: () => number;
  log: Logger;
  alertToken: string | undefined;
  apiToken: string | undefined;
  snsReceiver: SnsReceiverOptions | undefined;
}): CustomRoute[] {
  const { incidents, now, log, metrics } = deps;
  return [
    ...alertRoutes({ incidents, token: deps.alertToken, now, log, count: metrics.countAlerts }),
    snsRoute({
      incidents,
      log,
      now,
      count: metrics.countAlerts,
      verifier: new SnsVerifier({
        topicArns: [],
        ...deps.snsReceiver,
        fetch: deps.snsReceiver?.fetch ?? globalThis.fetch,
        now,
      }),
    }),
    ...httpRoutes({
      reads: deps.reads,
      store: deps.store,
      freezes: deps.freezes,
      now,
      apiToken: deps.apiToken,
      log,
      metrics,
      ready: storeReadiness(deps.store),
    }),
  ];
}
