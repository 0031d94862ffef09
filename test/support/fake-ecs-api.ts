/**
 * A local ECS API speaking the wire protocol the AWS SDK v3 client sends (JSON 1.1: POST /,
 * `Content-Type: application/x-amz-json-1.1`, `X-Amz-Target: AmazonEC2ContainerServiceV20141113.Op`,
 * errors as `{"__type":"com.amazonaws.ecs#ClientException","message":...}` with status 400), for
 * what the ecs executor calls: DescribeServices, DescribeTaskDefinition, ListTaskDefinitions and
 * UpdateService. It keeps a small model: task definition families with ACTIVE/INACTIVE revisions
 * and their containers; services with a task definition and deployments. UpdateService starts a
 * PRIMARY deployment that moves by one running task per DescribeServices to COMPLETED, or FAILED
 * when the test says the rollout stalls (optionally with the circuit breaker's rollback). Every
 * request is recorded (operation, parsed body, headers) and its SigV4 signature is verified with
 * the test's credentials, so the SDK's own serialisation, signing and retries run. Reach it with
 * AWS_ENDPOINT_URL_ECS. Binds 127.0.0.1:0.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sigV4Problem, type SigningSecret } from './aws-sigv4.js';
import type { KeyRing } from './fake-aws-json.js';

export const ECS_TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';
export const TEST_CREDENTIALS: SigningSecret = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'secret-example',
};
export const CIRCUIT_BREAKER_REASON = 'ECS deployment circuit breaker: tasks failed to start.';

export interface EcsRequest {
  operation: string;
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  at: number;
}

/**
 * How a deployment started by UpdateService goes. complete: one more task running per read of the
 * service, then COMPLETED. fail: FAILED after `afterReads` reads (default 2) with `reason`; with
 * `circuitBreakerRollback`, ECS puts the service back on the task definition it ran before.
 * never: stays IN_PROGRESS with one task running.
 */
export type RolloutPlan =
  | { outcome: 'complete' }
  | { outcome: 'fail'; afterReads?: number; reason?: string; circuitBreakerRollback?: boolean }
  | { outcome: 'never' };

export interface FakeContainer {
  name: string;
  image: string;
}

interface TaskDefinitionModel {
  arn: string;
  family: string;
  revision: number;
  status: 'ACTIVE' | 'INACTIVE';
  containers: FakeContainer[];
  registeredAt: number;
}

export interface DeploymentModel {
  id: string;
  status: 'PRIMARY' | 'ACTIVE';
  taskDefinition: string;
  desiredCount: number;
  runningCount: number;
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason: string;
  createdAt: number;
  updatedAt: number;
  plan: RolloutPlan;
  reads: number;
  /** The task definition the service ran before this deployment (for the circuit breaker's rollback). */
  before: string;
}

interface ServiceModel {
  cluster: string;
  name: string;
  arn: string;
  taskDefinition: string;
  desiredCount: number;
  deployments: DeploymentModel[];
}

export interface FakeEcsOptions {
  /** The region the SigV4 scope must name (default eu-west-1). */
  region?: string;
  account?: string;
  /** The credentials the SDK signs with; every signature is checked against them. */
  credentials?: SigningSecret;
  /** Keys a local STS issued (roleArn): also accepted, each with its session token. */
  keys?: KeyRing;
  /** ListTaskDefinitions page size when the request asks for more (default 100, ECS's own). */
  pageSize?: number;
}

class EcsException extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const now = () => Date.now() / 1000;
const text = (body: Record<string, unknown>, key: string): string | undefined =>
  typeof body[key] === 'string' ? body[key] : undefined;

export class FakeEcs {
  readonly requests: EcsRequest[] = [];
  /** How the next deployments started by UpdateService roll out, first first (default: complete). */
  readonly rollouts: RolloutPlan[] = [];
  /** Called with each request once it is recorded, before it is answered. */
  onRequest: ((request: EcsRequest) => void) | undefined;
  readonly region: string;
  private readonly account: string;
  private readonly pageSize: number;
  private readonly secret: SigningSecret;
  private readonly keys: KeyRing | undefined;
  private readonly families = new Map<string, TaskDefinitionModel[]>();
  private readonly clusters = new Map<string, Map<string, ServiceModel>>();
  private readonly throttles = new Map<string, number>();
  private deployments = 0;
  private server: ReturnType<typeof createServer> | undefined;
  url = '';

  constructor(options: FakeEcsOptions = {}) {
    this.region = options.region ?? 'eu-west-1';
    this.account = options.account ?? '123456789012';
    this.pageSize = options.pageSize ?? 100;
    this.secret = options.credentials ?? TEST_CREDENTIALS;
    this.keys = options.keys;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const at = performance.now();
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.answer(
          req.method ?? '',
          req.url ?? '',
          req.headers,
          Buffer.concat(chunks).toString('utf8'),
          at,
          res,
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => {
        resolve();
      });
    });
  }

  arn(familyRevision: string): string {
    return `arn:aws:ecs:${this.region}:${this.account}:task-definition/${familyRevision}`;
  }

  /** Registers the next revision of `family` (one container `app`, or the given ones); returns its ARN. */
  register(family: string, containers: string | FakeContainer[]): string {
    const revisions = this.families.get(family) ?? [];
    this.families.set(family, revisions);
    const revision = (revisions.at(-1)?.revision ?? 0) + 1;
    const arn = this.arn(`${family}:${revision}`);
    revisions.push({
      arn,
      family,
      revision,
      status: 'ACTIVE',
      containers: typeof containers === 'string' ? [{ name: 'app', image: containers }] : containers,
      registeredAt: now(),
    });
    return arn;
  }

  deregister(familyRevision: string): void {
    const found = this.taskDefinition(familyRevision);
    if (!found) throw new Error(`no task definition ${familyRevision}`);
    found.status = 'INACTIVE';
  }

  /** A service running `taskDefinition` with one COMPLETED deployment. */
  createService(cluster: string, name: string, taskDefinition: string, desiredCount = 4): void {
    const services = this.clusters.get(cluster) ?? new Map<string, ServiceModel>();
    this.clusters.set(cluster, services);
    const arn = this.taskDefinition(taskDefinition)?.arn;
    if (!arn) throw new Error(`no task definition ${taskDefinition}`);
    const service: ServiceModel = {
      cluster,
      name,
      arn: `arn:aws:ecs:${this.region}:${this.account}:service/${cluster}/${name}`,
      taskDefinition: arn,
      desiredCount,
      deployments: [],
    };
    this.startDeployment(service, arn, { outcome: 'complete' });
    this.settle(service.deployments[0]!, 'COMPLETED');
    services.set(name, service);
  }

  /** Someone else deploys (CI, the console): a COMPLETED deployment of `taskDefinition`, no request. */
  deployElsewhere(cluster: string, name: string, taskDefinition: string): void {
    const service = this.service(cluster, name);
    const arn = this.taskDefinition(taskDefinition)?.arn;
    if (!arn) throw new Error(`no task definition ${taskDefinition}`);
    this.startDeployment(service, arn, { outcome: 'complete' });
    this.settle(service.deployments[0]!, 'COMPLETED');
  }

  /** The service's deployments as the model holds them, PRIMARY first. */
  deploymentsOf(cluster: string, name: string): readonly DeploymentModel[] {
    return this.service(cluster, name).deployments;
  }

  runningTaskDefinition(cluster: string, name: string): string {
    return this.service(cluster, name).taskDefinition;
  }

  /** The next `times` requests for `operation` are answered ThrottlingException (400). */
  throttle(operation: string, times: number): void {
    this.throttles.set(operation, times);
  }

  /** Parsed bodies of the requests for `operation`, in order (throttled ones included). */
  calls(operation: string): Record<string, unknown>[] {
    return this.requests.filter((r) => r.operation === operation).map((r) => r.body);
  }

  private answer(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    raw: string,
    at: number,
    res: ServerResponse,
  ): void {
    const target = headers['x-amz-target'];
    const operation =
      typeof target === 'string' && target.startsWith(ECS_TARGET_PREFIX)
        ? target.slice(ECS_TARGET_PREFIX.length)
        : '';
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = raw === '' ? {} : JSON.parse(raw);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        body = parsed as Record<string, unknown>;
      }
    } catch {
      body = { unparsable: raw };
    }
    const request: EcsRequest = { operation, body, headers, at };
    this.requests.push(request);
    this.onRequest?.(request);
    try {
      this.check(method, path, headers, raw, body);
      const throttled = this.throttles.get(operation) ?? 0;
      if (throttled > 0) {
        this.throttles.set(operation, throttled - 1);
        throw new EcsException('ThrottlingException', 'Rate exceeded');
      }
      this.send(res, 200, this.operate(operation, body));
    } catch (error) {
      if (!(error instanceof EcsException)) throw error;
      this.send(res, error.status, { __type: `com.amazonaws.ecs#${error.type}`, message: error.message });
    }
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify(body));
  }

  /** What the real endpoint refuses before it looks at the operation. */
  private check(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    raw: string,
    body: Record<string, unknown>,
  ): void {
    if (method !== 'POST' || path !== '/')
      throw new EcsException('UnknownOperationException', `${method} ${path}`, 404);
    const accessKeyId = /Credential=([^/]+)\//.exec(headers.authorization ?? '')?.[1];
    const issued = accessKeyId === undefined ? undefined : this.keys?.keys.get(accessKeyId);
    if (issued?.sessionToken !== undefined && headers['x-amz-security-token'] !== issued.sessionToken) {
      throw new EcsException(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
        403,
      );
    }
    const problem = sigV4Problem(
      { method, url: path, headers, body: raw },
      issued ?? this.secret,
      this.region,
      'ecs',
    );
    if (problem) throw new EcsException(problem.type, problem.message, 403);
    if (headers['content-type'] !== 'application/x-amz-json-1.1') {
      throw new EcsException(
        'SerializationException',
        `unexpected content type ${headers['content-type'] ?? ''}`,
      );
    }
    if ('unparsable' in body) throw new EcsException('SerializationException', 'body is not JSON');
  }

  private operate(operation: string, body: Record<string, unknown>): unknown {
    switch (operation) {
      case 'DescribeServices':
        return this.describeServices(body);
      case 'DescribeTaskDefinition':
        return this.describeTaskDefinition(body);
      case 'ListTaskDefinitions':
        return this.listTaskDefinitions(body);
      case 'UpdateService':
        return this.updateService(body);
      default:
        throw new EcsException('UnknownOperationException', `unknown operation ${operation}`);
    }
  }

  private describeServices(body: Record<string, unknown>): unknown {
    const cluster = this.cluster(text(body, 'cluster'));
    const names = Array.isArray(body['services'])
      ? body['services'].filter((s) => typeof s === 'string')
      : [];
    if (names.length === 0) throw new EcsException('InvalidParameterException', 'Services cannot be empty.');
    const services: unknown[] = [];
    const failures: unknown[] = [];
    for (const name of names) {
      const service = [...cluster.values()].find((s) => s.name === name || s.arn === name);
      if (!service) {
        failures.push({
          arn: `arn:aws:ecs:${this.region}:${this.account}:service/${name}`,
          reason: 'MISSING',
        });
        continue;
      }
      this.advance(service);
      services.push(this.serviceJson(service));
    }
    return { services, failures };
  }

  private describeTaskDefinition(body: Record<string, unknown>): unknown {
    const found = this.taskDefinition(text(body, 'taskDefinition') ?? '');
    if (!found) throw new EcsException('ClientException', 'Unable to describe task definition.');
    return {
      taskDefinition: {
        taskDefinitionArn: found.arn,
        family: found.family,
        revision: found.revision,
        status: found.status,
        containerDefinitions: found.containers.map((c) => ({
          name: c.name,
          image: c.image,
          essential: true,
        })),
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        registeredAt: found.registeredAt,
      },
      tags: [],
    };
  }

  private listTaskDefinitions(body: Record<string, unknown>): unknown {
    const family = text(body, 'familyPrefix');
    const status = text(body, 'status') ?? 'ACTIVE';
    const sort = text(body, 'sort') ?? 'ASC';
    const maxResults = typeof body['maxResults'] === 'number' ? body['maxResults'] : 100;
    if (maxResults < 1 || maxResults > 100) {
      throw new EcsException('InvalidParameterException', 'maxResults must be between 1 and 100.');
    }
    // familyPrefix is the full family name (ECS's documentation), not a prefix.
    const all = (
      family === undefined ? [...this.families.values()].flat() : (this.families.get(family) ?? [])
    )
      .filter((d) => d.status === status)
      .sort((a, b) => a.family.localeCompare(b.family) || a.revision - b.revision);
    if (sort === 'DESC') all.reverse();
    const token = text(body, 'nextToken');
    const start =
      token === undefined
        ? 0
        : Number(Buffer.from(token, 'base64url').toString('utf8').replace('offset:', ''));
    if (!Number.isInteger(start) || start < 0)
      throw new EcsException('InvalidParameterException', 'Invalid token');
    const end = start + Math.min(maxResults, this.pageSize);
    return {
      taskDefinitionArns: all.slice(start, end).map((d) => d.arn),
      ...(end < all.length ? { nextToken: Buffer.from(`offset:${end}`).toString('base64url') } : {}),
    };
  }

  private updateService(body: Record<string, unknown>): unknown {
    const cluster = this.cluster(text(body, 'cluster'));
    const name = text(body, 'service') ?? '';
    const service = [...cluster.values()].find((s) => s.name === name || s.arn === name);
    if (!service) throw new EcsException('ServiceNotFoundException', 'Service not found.');
    const requested = text(body, 'taskDefinition');
    let arn = service.taskDefinition;
    if (requested !== undefined) {
      const found = this.taskDefinition(requested);
      if (!found) throw new EcsException('ClientException', 'TaskDefinition not found.');
      if (found.status === 'INACTIVE')
        throw new EcsException('ClientException', 'TaskDefinition is inactive');
      arn = found.arn;
    }
    if (arn !== service.taskDefinition || body['forceNewDeployment'] === true) {
      this.startDeployment(service, arn, this.rollouts.shift() ?? { outcome: 'complete' });
    }
    return { service: this.serviceJson(service) };
  }

  private cluster(name: string | undefined): Map<string, ServiceModel> {
    const key = name === undefined ? 'default' : name.slice(name.lastIndexOf('/') + 1);
    const cluster = this.clusters.get(key);
    if (!cluster) throw new EcsException('ClusterNotFoundException', 'Cluster not found.');
    return cluster;
  }

  private service(cluster: string, name: string): ServiceModel {
    const service = this.clusters.get(cluster)?.get(name);
    if (!service) throw new Error(`no service ${cluster}/${name}`);
    return service;
  }

  /** By ARN, `family:revision`, or `family` (its newest ACTIVE revision), as ECS accepts. */
  private taskDefinition(name: string): TaskDefinitionModel | undefined {
    const short = name.startsWith('arn:') ? name.slice(name.lastIndexOf('/') + 1) : name;
    const match = /^(.+):(\d+)$/.exec(short);
    if (!match)
      return this.families
        .get(short)
        ?.filter((d) => d.status === 'ACTIVE')
        .at(-1);
    return this.families.get(match[1]!)?.find((d) => d.revision === Number(match[2]));
  }

  private startDeployment(service: ServiceModel, taskDefinition: string, plan: RolloutPlan): void {
    this.deployments += 1;
    const id = `ecs-svc/${(4_000_000_000_000_000_000n + BigInt(this.deployments)).toString()}`;
    for (const d of service.deployments) d.status = 'ACTIVE';
    service.deployments.unshift({
      id,
      status: 'PRIMARY',
      taskDefinition,
      desiredCount: service.desiredCount,
      runningCount: 0,
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: `ECS deployment ${id} in progress.`,
      createdAt: now(),
      updatedAt: now(),
      plan,
      reads: 0,
      before: service.taskDefinition,
    });
    service.taskDefinition = taskDefinition;
  }

  private settle(deployment: DeploymentModel, state: 'COMPLETED' | 'FAILED', reason?: string): void {
    deployment.rolloutState = state;
    deployment.updatedAt = now();
    if (state === 'COMPLETED') {
      deployment.runningCount = deployment.desiredCount;
      deployment.rolloutStateReason = `ECS deployment ${deployment.id} completed.`;
    } else {
      deployment.runningCount = 0;
      deployment.rolloutStateReason = reason ?? CIRCUIT_BREAKER_REASON;
    }
  }

  /** One read of the service moves its PRIMARY deployment's rollout by one step. */
  private advance(service: ServiceModel): void {
    const deployment = service.deployments[0];
    if (deployment?.rolloutState !== 'IN_PROGRESS') return;
    deployment.reads += 1;
    const { plan } = deployment;
    if (plan.outcome === 'never') {
      deployment.runningCount = Math.min(1, deployment.desiredCount);
    } else if (plan.outcome === 'complete') {
      deployment.runningCount += 1;
      deployment.updatedAt = now();
      if (deployment.runningCount >= deployment.desiredCount) {
        this.settle(deployment, 'COMPLETED');
        service.deployments = [deployment];
      }
    } else if (deployment.reads >= (plan.afterReads ?? 2)) {
      this.settle(deployment, 'FAILED', plan.reason);
      if (plan.circuitBreakerRollback === true) {
        this.startDeployment(service, deployment.before, { outcome: 'complete' });
        this.settle(service.deployments[0]!, 'COMPLETED');
        service.deployments = service.deployments.filter((d) => d.status === 'PRIMARY' || d === deployment);
      }
    }
  }

  private serviceJson(service: ServiceModel): unknown {
    const running = service.deployments.reduce((sum, d) => sum + d.runningCount, 0);
    return {
      serviceArn: service.arn,
      serviceName: service.name,
      clusterArn: `arn:aws:ecs:${this.region}:${this.account}:cluster/${service.cluster}`,
      status: 'ACTIVE',
      desiredCount: service.desiredCount,
      runningCount: running,
      pendingCount: 0,
      launchType: 'FARGATE',
      taskDefinition: service.taskDefinition,
      deploymentConfiguration: {
        deploymentCircuitBreaker: { enable: true, rollback: false },
        maximumPercent: 200,
        minimumHealthyPercent: 100,
      },
      deployments: service.deployments.map((d) => ({
        id: d.id,
        status: d.status,
        taskDefinition: d.taskDefinition,
        desiredCount: d.desiredCount,
        pendingCount: 0,
        runningCount: d.runningCount,
        failedTasks: d.rolloutState === 'FAILED' ? d.desiredCount : 0,
        createdAt: d.createdAt,
        updatedAt: d.updatedAt,
        launchType: 'FARGATE',
        rolloutState: d.rolloutState,
        rolloutStateReason: d.rolloutStateReason,
      })),
      events: [],
    };
  }
}

/** A started fake; close it in afterEach. */
export const startFakeEcs = (options?: FakeEcsOptions): Promise<FakeEcs> => new FakeEcs(options).start();
