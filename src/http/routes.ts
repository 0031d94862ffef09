/**
 * The HTTP routes beside Slack's (DESIGN section 9): health for the load balancer, and the JSON API
 * for pipelines and dashboards (bearer `API_TOKEN`). Alerts, deployments and freeze arrive with
 * their issues.
 */
import type { CustomRoute } from '@slack/bolt';
import type { Logger } from 'pino';
import type { RollbackService } from '../app/rollback-service.js';
import { hasBearer, safeRoute, sendJson } from './respond.js';

export interface RouteDependencies {
  service: Pick<RollbackService, 'view' | 'list'>;
  apiToken: string | undefined;
  /** Whether the bot can serve: the store answers and Slack accepted the token. */
  ready: () => Promise<{ ok: boolean; detail: Record<string, string> }>;
  log: Logger;
}

export function httpRoutes(deps: RouteDependencies): CustomRoute[] {
  const { log, service } = deps;
  const api = (handler: Parameters<typeof safeRoute>[1]): ReturnType<typeof safeRoute> =>
    safeRoute(log, async (req, res) => {
      if (!hasBearer(req, deps.apiToken)) {
        res.setHeader('www-authenticate', 'Bearer');
        sendJson(res, 401, { error: 'a valid bearer token (API_TOKEN) is required' });
        return;
      }
      await handler(req, res);
    });
  return [
    {
      path: '/healthz',
      method: ['GET'],
      handler: (_req, res) => {
        sendJson(res, 200, { ok: true });
      },
    },
    {
      path: '/readyz',
      method: ['GET'],
      handler: safeRoute(log, async (_req, res) => {
        const ready = await deps.ready();
        sendJson(res, ready.ok ? 200 : 503, ready);
      }),
    },
    {
      path: '/api/rollbacks',
      method: ['GET'],
      handler: api(async (req, res) => {
        const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
        const filter: { service?: string; state?: string } = {};
        const serviceName = query.get('service');
        const state = query.get('state');
        if (serviceName) filter.service = serviceName;
        if (state) filter.state = state;
        sendJson(res, 200, { rollbacks: await service.list(filter) });
      }),
    },
    {
      path: '/api/rollbacks/:id',
      method: ['GET'],
      handler: api(async (req, res) => {
        const raw = req.params?.['id'];
        const id = typeof raw === 'string' ? raw : '';
        const view = await service.view(id);
        if (view) sendJson(res, 200, view);
        else sendJson(res, 404, { error: `no rollback ${id}` });
      }),
    },
  ];
}
