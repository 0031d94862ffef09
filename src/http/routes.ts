/**
 * The HTTP routes beside Slack's (DESIGN section 9): health for the load balancer, and the JSON API
 * for pipelines and dashboards (bearer `API_TOKEN`): rollbacks, deployments, the deployment freeze;
 * Prometheus metrics at `/metrics`.
 * Alert receivers arrive with their issue.
 */
import type { CustomRoute } from '@slack/bolt';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { FreezeService } from '../app/freeze-service.js';
import type { RollbackReads } from '../app/rollback-reads.js';
import { checkReportedTime } from '../domain/reported-time.js';
import { findUnsafeCharacter } from '../domain/untrusted-text.js';
import { versionSchema } from '../domain/version.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Deployments, Store } from '../store/store.js';
import { readJson } from './read-json.js';
import { hasBearer, safeRoute, sendError, sendJson } from './respond.js';

export interface RouteDependencies {
  reads: Pick<RollbackReads, 'view' | 'list'>;
  store: Pick<Deployments, 'recordDeployment'>;
  freezes: Pick<FreezeService, 'status'>;
  now: () => number;
  apiToken: string | undefined;
  /** Whether the bot can serve: the store answers and Slack accepted the token. */
  ready: () => Promise<{ ok: boolean; detail: Record<string, string> }>;
  log: Logger;
  /**
   * Served at `GET /metrics` without authentication, as Prometheus scrapes it: the figures name
   * services and outcomes, never secrets. Keep the port off the public internet or filter the path.
   */
  metrics?: Pick<Metrics, 'render'>;
}

/** Shown in incident threads: nothing that makes it read as something else. */
const plainText = z.string().superRefine((text, ctx) => {
  const found = findUnsafeCharacter(text);
  if (found !== undefined) ctx.addIssue({ code: 'custom', message: `has ${found.escape} (${found.kind})` });
});
const name = z.string().trim().min(1).max(200).pipe(plainText);
const deploymentSchema = z.strictObject({
  service: name,
  environment: name,
  version: z.string().trim().pipe(versionSchema),
  commit: z.string().max(200).pipe(plainText).optional(),
  by: z.string().max(200).pipe(plainText).optional(),
  at: z.iso.datetime({ offset: true }).optional(),
});

const problemText = (error: z.ZodError): string =>
  error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');

export function httpRoutes(deps: RouteDependencies): CustomRoute[] {
  const { log, reads } = deps;
  const api = (handler: Parameters<typeof safeRoute>[1]): ReturnType<typeof safeRoute> =>
    safeRoute(log, async (req, res) => {
      if (!hasBearer(req, deps.apiToken)) {
        res.setHeader('www-authenticate', 'Bearer');
        sendError(res, 401, 'unauthorized', 'a valid bearer token (API_TOKEN) is required');
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
    ...(deps.metrics === undefined ? [] : [metricsRoute(deps.metrics, log)]),
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
        sendJson(res, 200, { rollbacks: await reads.list(filter) });
      }),
    },
    {
      path: '/api/deployments',
      method: ['POST'],
      handler: api(async (req, res) => {
        const body = await readJson(req);
        if (!body.ok) {
          sendError(res, body.status, body.code, body.error);
          return;
        }
        const parsed = deploymentSchema.safeParse(body.value);
        if (!parsed.success) {
          sendError(res, 400, 'bad_request', problemText(parsed.error));
          return;
        }
        const { at, ...deployment } = parsed.data;
        const now = deps.now();
        // Believed within a day back and a minute ahead: a record dated 2999 would stay current forever.
        const when =
          at === undefined ? { ok: true as const, at: now } : checkReportedTime(Date.parse(at), now);
        if (!when.ok) {
          sendError(
            res,
            400,
            'bad_request',
            `at: ${when.problem}; a deployment is recorded within 24 hours of happening (leave out at for now)`,
          );
          return;
        }
        const recorded = { ...deployment, at: when.at };
        await deps.store.recordDeployment(recorded);
        sendJson(res, 201, { ...recorded, at: new Date(recorded.at).toISOString() });
      }),
    },
    {
      path: '/api/freeze',
      method: ['GET'],
      handler: api(async (req, res) => {
        const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
        const serviceName = query.get('service');
        const environment = query.get('environment') ?? 'production';
        if (!serviceName) {
          sendError(res, 400, 'bad_request', 'say which service: /api/freeze?service=S&environment=E');
          return;
        }
        // Frozen while a rollback of the service and environment is active, or frozen by hand; with
        // a version, also when a resolved rollback marked that version bad.
        const version = query.get('version') ?? undefined;
        const status = await deps.freezes.status(serviceName, environment, version);
        sendJson(
          res,
          200,
          status.frozen
            ? {
                frozen: true,
                reason: status.reason,
                ...(status.rollbackId === undefined ? {} : { rollbackId: status.rollbackId }),
              }
            : { frozen: false },
        );
      }),
    },
    {
      path: '/api/rollbacks/:id',
      method: ['GET'],
      handler: api(async (req, res) => {
        const raw = req.params?.['id'];
        const id = typeof raw === 'string' ? raw : '';
        const view = await reads.view(id);
        if (view) sendJson(res, 200, view);
        else sendError(res, 404, 'not_found', `no rollback ${id}`);
      }),
    },
  ];
}

function metricsRoute(metrics: Pick<Metrics, 'render'>, log: Logger): CustomRoute {
  return {
    path: '/metrics',
    method: ['GET'],
    handler: safeRoute(log, async (_req, res) => {
      const { contentType, body } = await metrics.render();
      res.writeHead(200, { 'content-type': contentType });
      res.end(body);
    }),
  };
}

/** `/readyz`: ready while the store answers; the detail says what failed. */
export function storeReadiness(
  store: Pick<Store, 'ping'>,
): () => Promise<{ ok: boolean; detail: Record<string, string> }> {
  return async () => {
    try {
      await store.ping();
      return { ok: true, detail: { store: 'ok' } };
    } catch (error) {
      return { ok: false, detail: { store: String(error) } };
    }
  };
}
