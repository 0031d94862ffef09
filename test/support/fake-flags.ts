/**
 * Flag services for the feature-flag executor's tests, served through http-peer.ts: a small Unleash
 * admin API and a small LaunchDarkly REST API that keep each flag's state per environment, answer
 * reads with the documented shapes (Unleash `environments[]` with `enabled`, LaunchDarkly
 * `environments[env].on`, filtered by `?env=`), apply the writes, and refuse an unknown token or flag
 * as the real services do.
 */
import type { ServerResponse } from 'node:http';
import { reply, type PeerHandler, type RecordedRequest } from './http-peer.js';

/** `project/flag` → environment → on. */
export type FlagTable = Map<string, Map<string, boolean>>;

export function flagTable(flags: Record<string, Record<string, boolean>>): FlagTable {
  return new Map(Object.entries(flags).map(([key, envs]) => [key, new Map(Object.entries(envs))]));
}

export interface FakeFlags {
  handler: PeerHandler;
  flags: FlagTable;
  /** The requests that could change a flag. */
  writes(requests: readonly RecordedRequest[]): RecordedRequest[];
}

const writes = (requests: readonly RecordedRequest[]) => requests.filter((r) => r.method !== 'GET');

function route(request: RecordedRequest): { path: string[]; query: URLSearchParams } {
  const url = new URL(request.path, 'http://peer');
  return { path: url.pathname.split('/').filter(Boolean).map(decodeURIComponent), query: url.searchParams };
}

export function fakeUnleash(token: string, flags: FlagTable): FakeFlags {
  const notFound = (res: ServerResponse, message: string) => {
    reply(res, 404, { id: '7c1f9a52-2f0e-4c55-9d0e-5b8f3f0c6c11', name: 'NotFoundError', message });
  };
  const handler: PeerHandler = (request, res) => {
    if (request.headers['authorization'] !== token) {
      reply(res, 401, {
        id: '0e3c6f44-7a1b-4a0e-8c55-0f6c2d1e9b21',
        name: 'AuthenticationRequired',
        message: 'You must log in to use Unleash.',
      });
      return;
    }
    // /api/admin/projects/{project}/features/{flag}[/environments/{env}/{on|off}]
    const { path } = route(request);
    const [api, admin, projects, project, features, flag, environments, env, toggle] = path;
    if (api !== 'api' || admin !== 'admin' || projects !== 'projects' || features !== 'features') {
      notFound(res, `No route for ${request.method} ${request.path}`);
      return;
    }
    const states = flags.get(`${project}/${flag}`);
    if (states === undefined) {
      notFound(res, `Could not find feature flag with name ${flag ?? ''}`);
      return;
    }
    if (request.method === 'GET' && path.length === 6) {
      reply(res, 200, {
        name: flag,
        type: 'release',
        project,
        description: null,
        stale: false,
        impressionData: false,
        archived: false,
        createdAt: '2026-10-01T09:00:00.000Z',
        environments: [...states].map(([name, enabled], index) => ({
          name,
          environment: name,
          featureName: flag,
          type: name === 'production' ? 'production' : 'development',
          enabled,
          sortOrder: index,
          variantCount: 0,
          strategies: [],
          variants: [],
        })),
        variants: [],
        tags: [],
      });
      return;
    }
    if (
      request.method === 'POST' &&
      environments === 'environments' &&
      (toggle === 'on' || toggle === 'off')
    ) {
      if (env === undefined || !states.has(env)) {
        notFound(res, `Could not find environment ${env ?? ''} for feature flag ${flag ?? ''}`);
        return;
      }
      states.set(env, toggle === 'on');
      reply(res, 200);
      return;
    }
    notFound(res, `No route for ${request.method} ${request.path}`);
  };
  return { handler, flags, writes };
}

export function fakeLaunchDarkly(token: string, flags: FlagTable): FakeFlags {
  const body = (flag: string, states: Map<string, boolean>, only: string | null) => ({
    key: flag,
    name: flag,
    kind: 'boolean',
    _version: 3,
    archived: false,
    variations: [{ value: true }, { value: false }],
    environments: Object.fromEntries(
      [...states]
        .filter(([env]) => only === null || env === only)
        .map(([env, on]) => [
          env,
          {
            on,
            archived: false,
            salt: 'c2FsdA',
            sel: '8d4e7c1f',
            lastModified: 1_790_000_000_000,
            version: 7,
            targets: [],
            rules: [],
            fallthrough: { variation: 0 },
            offVariation: 1,
            _environmentName: env[0]!.toUpperCase() + env.slice(1),
          },
        ]),
    ),
  });
  const handler: PeerHandler = (request, res) => {
    if (request.headers['authorization'] !== token) {
      reply(res, 401, { code: 'unauthorized', message: 'Invalid account ID header' });
      return;
    }
    // /api/v2/flags/{projectKey}/{flag}
    const { path, query } = route(request);
    const [api, v2, kind, project, flag] = path;
    const states =
      api === 'api' && v2 === 'v2' && kind === 'flags' && path.length === 5
        ? flags.get(`${project}/${flag}`)
        : undefined;
    if (flag === undefined || states === undefined) {
      reply(res, 404, { code: 'not_found', message: 'Unknown flag' });
      return;
    }
    if (request.method === 'GET') {
      reply(res, 200, body(flag, states, query.get('env')));
      return;
    }
    if (request.method === 'PATCH') {
      const patch = JSON.parse(request.body) as {
        environmentKey?: string;
        instructions?: { kind?: string }[];
      };
      const env = patch.environmentKey ?? '';
      if (!states.has(env)) {
        reply(res, 400, { code: 'invalid_request', message: 'unknown environment' });
        return;
      }
      for (const instruction of patch.instructions ?? []) {
        if (instruction.kind === 'turnFlagOn') states.set(env, true);
        if (instruction.kind === 'turnFlagOff') states.set(env, false);
      }
      reply(res, 200, body(flag, states, null));
      return;
    }
    reply(res, 405, { code: 'method_not_allowed', message: 'Method not allowed' });
  };
  return { handler, flags, writes };
}
