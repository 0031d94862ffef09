/**
 * A local AppConfig speaking the REST JSON protocol the SDK sends: `GET /applications/{app}/
 * environments/{env}/deployments?max_results=N&next_token=T` (newest first, in pages with a
 * `NextToken`), `GET .../deployments/{number}`, `POST .../deployments` with a JSON body (answered
 * 201), SigV4 for `appconfig` checked against the test's keys, errors with `x-amzn-errortype` and
 * `{"Message": ...}`. A deployment started here moves on each read: `complete` (DEPLOYING 50%,
 * then COMPLETE), `rollback` (ROLLED_BACK, as when its alarm fires), or `never`. A test deploys
 * "from elsewhere" directly. Reach it with AWS_ENDPOINT_URL_APPCONFIG.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sigV4Problem } from './aws-sigv4.js';
import { KeyRing } from './fake-aws-json.js';

export type DeploymentPlan = 'complete' | 'rollback' | 'never';

export interface FakeDeployment {
  DeploymentNumber: number;
  ConfigurationProfileId: string;
  ConfigurationVersion: string;
  VersionLabel?: string;
  DeploymentStrategyId: string;
  State: string;
  PercentageComplete: number;
  EventLog: Array<{ EventType: string; TriggeredBy: string; Description: string }>;
  Description?: string;
  plan: DeploymentPlan;
}

export interface AppconfigRequest {
  method: string;
  path: string;
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
}

export interface FakeAppconfig {
  url: string;
  requests: AppconfigRequest[];
  /** How the next deployments started through the API go, first first (default complete). */
  plans: DeploymentPlan[];
  deployElsewhere(
    profile: string,
    version: string,
    options?: { label?: string; state?: string },
  ): FakeDeployment;
  deployments(): FakeDeployment[];
  stall(method: string): void;
  /** The largest page ListDeployments answers, whatever max_results says (default 50, AWS's largest). */
  pageSize: number;
  close(): Promise<void>;
}

export async function startFakeAppconfig(options: {
  application: string;
  environment: string;
  keys?: KeyRing;
}): Promise<FakeAppconfig> {
  const keys = options.keys ?? new KeyRing();
  const base = `/applications/${options.application}/environments/${options.environment}/deployments`;
  const deployments: FakeDeployment[] = [];
  const requests: AppconfigRequest[] = [];
  const plans: DeploymentPlan[] = [];
  const stalled = new Set<string>();
  const paging = { pageSize: 50 };

  const add = (profile: string, version: string, extra: Partial<FakeDeployment>): FakeDeployment => {
    const d: FakeDeployment = {
      DeploymentNumber: deployments.length + 1,
      ConfigurationProfileId: profile,
      ConfigurationVersion: version,
      DeploymentStrategyId: 'AppConfig.Linear50PercentEvery30Seconds',
      State: 'COMPLETE',
      PercentageComplete: 100,
      EventLog: [],
      plan: 'complete',
      ...extra,
    };
    deployments.push(d);
    return d;
  };
  const shape = ({ plan: _plan, ...d }: FakeDeployment) => ({
    ApplicationId: options.application,
    EnvironmentId: options.environment,
    ...d,
  });
  const send = (res: ServerResponse, status: number, body: unknown, type?: string): true => {
    res.writeHead(status, {
      'content-type': 'application/json',
      'x-amzn-requestid': randomUUID(),
      ...(type === undefined ? {} : { 'x-amzn-errortype': type }),
    });
    res.end(JSON.stringify(body));
    return true;
  };
  const move = (d: FakeDeployment) => {
    if (d.State !== 'DEPLOYING') return;
    if (d.plan === 'complete') {
      if (d.PercentageComplete < 50) d.PercentageComplete = 50;
      else Object.assign(d, { State: 'COMPLETE', PercentageComplete: 100 });
    } else if (d.plan === 'rollback') {
      Object.assign(d, { State: 'ROLLED_BACK' });
      d.EventLog.unshift({
        EventType: 'ROLLBACK_COMPLETED',
        TriggeredBy: 'CLOUDWATCH_ALARM',
        Description: 'Rollback triggered by CloudWatch alarm checkout-5xx',
      });
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const method = req.method ?? '';
      const url = req.url ?? '';
      const [path = '', query = ''] = url.split('?', 2);
      let body: Record<string, unknown>;
      try {
        body = raw === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
      } catch {
        return send(res, 400, { Message: 'body is not JSON' }, 'BadRequestException');
      }
      requests.push({ method, path: url, body, headers: req.headers });
      const accessKeyId = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const key = keys.keys.get(accessKeyId);
      if (!key)
        return send(
          res,
          403,
          { Message: 'The security token included in the request is invalid.' },
          'UnrecognizedClientException',
        );
      const problem = sigV4Problem(
        { method, url, headers: req.headers, body: raw },
        key,
        'eu-west-1',
        'appconfig',
      );
      if (problem) return send(res, 403, { message: problem.message }, problem.type);
      if (stalled.has(method)) return false;
      if (!path.startsWith(base))
        return send(
          res,
          404,
          { Message: 'Application or environment not found' },
          'ResourceNotFoundException',
        );
      const rest = path.slice(base.length);
      if (method === 'GET' && rest === '') {
        const asked = new URLSearchParams(query);
        const max = Number(asked.get('max_results') ?? 50);
        if (!(max >= 1 && max <= 50)) {
          return send(res, 400, { Message: 'MaxResults must be between 1 and 50' }, 'BadRequestException');
        }
        const size = Math.min(max, paging.pageSize);
        const from = Number(asked.get('next_token') ?? 0);
        const newestFirst = [...deployments].reverse();
        const items = newestFirst.slice(from, from + size).map((d) => ({
          DeploymentNumber: d.DeploymentNumber,
          ConfigurationVersion: d.ConfigurationVersion,
          State: d.State,
          PercentageComplete: d.PercentageComplete,
          ...(d.VersionLabel === undefined ? {} : { VersionLabel: d.VersionLabel }),
        }));
        const more = from + size < newestFirst.length;
        return send(res, 200, { Items: items, ...(more ? { NextToken: String(from + size) } : {}) });
      }
      if (method === 'GET' && /^\/\d+$/.test(rest)) {
        const d = deployments.find((x) => x.DeploymentNumber === Number(rest.slice(1)));
        if (!d)
          return send(
            res,
            404,
            { Message: `Deployment ${rest.slice(1)} not found` },
            'ResourceNotFoundException',
          );
        const answer = shape(d);
        move(d);
        return send(res, 200, answer);
      }
      if (method === 'POST' && rest === '') {
        if (deployments.some((d) => d.State === 'DEPLOYING' || d.State === 'BAKING')) {
          return send(res, 409, { Message: 'Deployment is already in progress' }, 'ConflictException');
        }
        const d = add(String(body['ConfigurationProfileId']), String(body['ConfigurationVersion']), {
          DeploymentStrategyId: String(body['DeploymentStrategyId']),
          State: 'DEPLOYING',
          PercentageComplete: 0,
          plan: plans.shift() ?? 'complete',
          ...(typeof body['Description'] === 'string' ? { Description: body['Description'] } : {}),
        });
        return send(res, 201, shape(d));
      }
      return send(res, 404, { Message: `${method} ${path}` }, 'ResourceNotFoundException');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    plans,
    deployElsewhere: (profile, version, extra = {}) =>
      add(profile, version, {
        ...(extra.label === undefined ? {} : { VersionLabel: extra.label }),
        ...(extra.state === undefined ? {} : { State: extra.state }),
      }),
    deployments: () => deployments,
    stall: (method) => {
      stalled.add(method);
    },
    get pageSize() {
      return paging.pageSize;
    },
    set pageSize(size: number) {
      paging.pageSize = size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
