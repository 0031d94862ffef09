/**
 * A local fake of the Kubernetes API server, serving exactly what the kubernetes executor calls:
 * GET a Deployment, LIST ReplicaSets by label selector, PATCH a Deployment with a JSON Patch. Bodies
 * and errors have the real shapes (Deployment, ReplicaSetList, Status). After a patch that changes
 * the pod template it plays the Deployment controller: bumps the generation, reuses the ReplicaSet
 * whose template matches (giving it the next revision, as the real controller does) or creates one,
 * then advances the rollout by one step per read of the Deployment. It serves Argo Rollouts (GET,
 * a merge patch of /status, a JSON Patch) and StatefulSets/DaemonSets with their ControllerRevisions
 * the same way (docs/executors/kubernetes.md says exactly what). Binds 127.0.0.1:0.
 */
import * as k8s from '@kubernetes/client-node';
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import type { RecordedRequest } from './http-peer.js';

/** succeed: one more replica updated per read; stall: stuck at 1 updated, then ProgressDeadlineExceeded; never: nothing moves. */
export type RolloutMode = 'succeed' | 'stall' | 'never';

export interface FakeKubeOptions {
  token?: string;
  rollout?: RolloutMode;
  /** stall: reads of the Deployment after the patch before the deadline condition appears. */
  stallAfterReads?: number;
  /** Reads of the Deployment after the patch are never answered (an API server that hangs). */
  hangReadsAfterPatch?: boolean;
  /** Serve https with this key and certificate (PEM), as a real API server does; default plain http. */
  tls?: { key: string; cert: string };
}

export interface SeedRevision {
  revision: number;
  image: string;
}

/** The JSON the fake keeps and serves (the fields it uses of the real objects). */
export interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    containers: {
      name: string;
      image: string;
      ports?: { containerPort: number; protocol: string }[];
      env?: { name: string; value: string }[];
    }[];
    restartPolicy?: string;
  };
}

interface Metadata {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations: Record<string, string>;
  ownerReferences?: {
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller: boolean;
    blockOwnerDeletion: boolean;
  }[];
}

interface Condition {
  type: string;
  status: string;
  reason: string;
  message?: string;
}

export interface FakeDeployment {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  metadata: Metadata & { generation: number };
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: PodTemplate;
    strategy: unknown;
    revisionHistoryLimit: number;
    progressDeadlineSeconds: number;
    paused?: boolean;
  };
  status: {
    observedGeneration: number;
    replicas: number;
    updatedReplicas: number;
    readyReplicas: number;
    availableReplicas: number;
    unavailableReplicas?: number;
    conditions: Condition[];
  };
}

export interface FakeReplicaSet {
  metadata: Metadata;
  spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: PodTemplate };
  status: { replicas: number; observedGeneration: number };
}

/** An argoproj.io/v1alpha1 Rollout (canary), with the status fields the Argo controller reports. */
export interface FakeRollout {
  apiVersion: 'argoproj.io/v1alpha1';
  kind: 'Rollout';
  metadata: Metadata & { generation: number };
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: PodTemplate;
    strategy: unknown;
    revisionHistoryLimit: number;
  };
  status: {
    phase: 'Healthy' | 'Progressing' | 'Paused' | 'Degraded';
    message?: string;
    abort?: boolean;
    observedGeneration: string;
    replicas: number;
    updatedReplicas: number;
    readyReplicas: number;
    availableReplicas: number;
    currentPodHash: string;
    stableRS: string;
    currentStepIndex?: number;
    conditions: Condition[];
  };
}

/** A StatefulSet or DaemonSet: spec and status as the real API returns them (the fields used). */
export interface FakeWorkload {
  apiVersion: 'apps/v1';
  kind: 'StatefulSet' | 'DaemonSet';
  metadata: Metadata & { generation: number };
  spec: {
    replicas?: number;
    serviceName?: string;
    selector: { matchLabels: Record<string, string> };
    template: PodTemplate;
    updateStrategy: unknown;
    revisionHistoryLimit: number;
  };
  /** StatefulSet: observedGeneration, replicas, readyReplicas, currentReplicas, updatedReplicas,
   * availableReplicas, currentRevision, updateRevision, collisionCount. DaemonSet:
   * observedGeneration, desiredNumberScheduled, currentNumberScheduled, updatedNumberScheduled,
   * numberReady, numberAvailable, numberUnavailable, numberMisscheduled. */
  status: Record<string, number | string>;
}

export interface FakeControllerRevision {
  apiVersion: 'apps/v1';
  kind: 'ControllerRevision';
  metadata: Metadata;
  revision: number;
  data: { spec: { template: PodTemplate & { $patch: 'replace' } } };
}

export interface FakeKubeApi {
  url: string;
  token: string;
  requests: RecordedRequest[];
  deployments: Map<string, FakeDeployment>;
  replicaSets: FakeReplicaSet[];
  rollouts: Map<string, FakeRollout>;
  /** StatefulSets and DaemonSets by `Kind/namespace/name`. */
  workloads: Map<string, FakeWorkload>;
  controllerRevisions: FakeControllerRevision[];
  /** A StatefulSet or DaemonSet (3 nodes) with one ControllerRevision per revision, the last current. */
  addWorkload(seed: {
    kind: 'StatefulSet' | 'DaemonSet';
    namespace: string;
    name: string;
    replicas: number;
    revisions: SeedRevision[];
  }): FakeWorkload;
  /** A KubeConfig pointing at this server, built with loadFromOptions (this server's token by default). */
  kubeConfig(userToken?: string): k8s.KubeConfig;
  addDeployment(seed: {
    namespace: string;
    name: string;
    replicas: number;
    revisions: SeedRevision[];
  }): FakeDeployment;
  /**
   * An Argo Rollout with one ReplicaSet per revision; `midway`: the last revision is a canary paused
   * at its first step (1 replica updated, phase Paused), the one before it is stable.
   */
  addRollout(seed: {
    namespace: string;
    name: string;
    replicas: number;
    revisions: SeedRevision[];
    midway?: boolean;
  }): FakeRollout;
  /**
   * From the next read on, rollouts in progress move by this mode: e.g. `succeed` after `stall`, as
   * when the pods of a stalled rollout become ready and the controller completes it (a Deployment's
   * ProgressDeadlineExceeded gives way to NewReplicaSetAvailable, a Degraded Rollout turns Healthy).
   */
  setRollout(mode: RolloutMode): void;
  /** A ReplicaSet with the same labels that another Deployment owns (must be ignored). */
  addForeignReplicaSet(namespace: string, app: string, revision: number, image: string): void;
  close(): Promise<void>;
}

const REVISION = 'deployment.kubernetes.io/revision';
const HASH = 'pod-template-hash';
const ARGO_REVISION = 'rollout.argoproj.io/revision';
const ARGO_HASH = 'rollouts-pod-template-hash';

export async function startFakeKubeApi(options: FakeKubeOptions = {}): Promise<FakeKubeApi> {
  const token = options.token ?? 'fake-token';
  let mode = options.rollout ?? 'succeed';
  const requests: RecordedRequest[] = [];
  const deployments = new Map<string, FakeDeployment>();
  const replicaSets: FakeReplicaSet[] = [];
  /** Reads of each Deployment since its last template change; absent when settled. */
  const progress = new Map<string, number>();
  const rollouts = new Map<string, FakeRollout>();
  /** Reads of each Rollout since its abort; absent when settled. */
  const aborting = new Map<string, number>();
  const workloads = new Map<string, FakeWorkload>();
  const controllerRevisions: FakeControllerRevision[] = [];
  let resourceVersion = 1000;
  const nextVersion = () => String(++resourceVersion);

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const at = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at,
      };
      requests.push(recorded);
      handle(recorded, res);
    });
  };
  const server = options.tls ? createTlsServer(options.tls, listener) : createServer(listener);

  function handle(request: RecordedRequest, res: ServerResponse): void {
    if (request.headers.authorization !== `Bearer ${token}`) {
      status(res, 401, 'Unauthorized', 'Unauthorized');
      return;
    }
    const url = new URL(request.path, 'http://fake');
    const deployment = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)$/.exec(url.pathname);
    const rsList = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/replicasets$/.exec(url.pathname);
    const rollout =
      /^\/apis\/argoproj\.io\/v1alpha1\/namespaces\/([^/]+)\/rollouts\/([^/]+)(\/status)?$/.exec(
        url.pathname,
      );
    const workload = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(statefulsets|daemonsets)\/([^/]+)$/.exec(
      url.pathname,
    );
    const crList = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/controllerrevisions$/.exec(url.pathname);
    if (workload && request.method === 'GET') {
      readWorkload(res, workload[2]!, workload[1]!, workload[3]!);
    } else if (workload && request.method === 'PATCH') {
      patchWorkload(request, res, workload[2]!, workload[1]!, workload[3]!);
    } else if (crList && request.method === 'GET') {
      listControllerRevisions(res, crList[1]!, url.searchParams.get('labelSelector'));
    } else if (rollout && request.method === 'GET' && !rollout[3]) {
      readRollout(res, rollout[1]!, rollout[2]!);
    } else if (rollout && request.method === 'PATCH' && rollout[3]) {
      patchRolloutStatus(request, res, rollout[1]!, rollout[2]!);
    } else if (rollout && request.method === 'PATCH') {
      patchRollout(request, res, rollout[1]!, rollout[2]!);
    } else if (deployment && request.method === 'GET') {
      readDeployment(res, deployment[1]!, deployment[2]!);
    } else if (deployment && request.method === 'PATCH') {
      patchDeployment(request, res, deployment[1]!, deployment[2]!);
    } else if (rsList && request.method === 'GET') {
      listReplicaSets(res, rsList[1]!, url.searchParams.get('labelSelector'));
    } else {
      status(res, 404, 'NotFound', 'the server could not find the requested resource');
    }
  }

  function readDeployment(res: ServerResponse, namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const found = deployments.get(key);
    if (!found) {
      notFound(res, name);
      return;
    }
    const reads = progress.get(key);
    if (reads !== undefined) {
      if (options.hangReadsAfterPatch) return; // never answered
      progress.set(key, reads + 1);
      advance(key, found, reads + 1);
    }
    json(res, 200, found);
  }

  function listReplicaSets(res: ServerResponse, namespace: string, selector: string | null): void {
    const wanted: Record<string, string> = {};
    for (const term of selector ? selector.split(',') : []) {
      const match = /^([^=!]+)=([^=]*)$/.exec(term);
      if (!match) {
        status(res, 400, 'BadRequest', `the fake supports only k=v selectors, not "${term}"`);
        return;
      }
      wanted[match[1]!] = match[2]!;
    }
    const items = replicaSets.filter(
      (rs) =>
        rs.metadata.namespace === namespace &&
        Object.entries(wanted).every(([k, v]) => rs.metadata.labels?.[k] === v),
    );
    json(res, 200, {
      kind: 'ReplicaSetList',
      apiVersion: 'apps/v1',
      metadata: { resourceVersion: String(resourceVersion) },
      items,
    });
  }

  function patchDeployment(
    request: RecordedRequest,
    res: ServerResponse,
    namespace: string,
    name: string,
  ): void {
    const key = `${namespace}/${name}`;
    const found = deployments.get(key);
    if (!found) {
      notFound(res, name);
      return;
    }
    const type = request.headers['content-type'];
    if (type !== 'application/json-patch+json') {
      status(
        res,
        415,
        'UnsupportedMediaType',
        `the fake applies only application/json-patch+json, not ${type}`,
      );
      return;
    }
    let ops: unknown;
    try {
      ops = JSON.parse(request.body);
    } catch {
      ops = undefined;
    }
    if (!Array.isArray(ops)) {
      status(res, 400, 'BadRequest', 'the body is not a JSON Patch list');
      return;
    }
    const next = structuredClone(found);
    const problem = applyJsonPatch(next as unknown as Record<string, unknown>, ops as JsonPatchOp[]);
    if (problem) {
      status(res, 422, 'Invalid', problem);
      return;
    }
    next.metadata.resourceVersion = nextVersion();
    if (!isDeepStrictEqual(next.spec, found.spec)) next.metadata.generation = found.metadata.generation + 1;
    if (!isDeepStrictEqual(next.spec.template, found.spec.template)) {
      startRollout(next);
      progress.set(key, 0);
    }
    deployments.set(key, next);
    json(res, 200, next);
  }

  const workloadKey = (resource: string, namespace: string, name: string) =>
    `${resource === 'statefulsets' ? 'StatefulSet' : 'DaemonSet'}/${namespace}/${name}`;

  function workloadNotFound(res: ServerResponse, resource: string, name: string): void {
    status(res, 404, 'NotFound', `${resource}.apps "${name}" not found`, {
      name,
      group: 'apps',
      kind: resource,
    });
  }

  function readWorkload(res: ServerResponse, resource: string, namespace: string, name: string): void {
    const key = workloadKey(resource, namespace, name);
    const found = workloads.get(key);
    if (!found) {
      workloadNotFound(res, resource, name);
      return;
    }
    const reads = progress.get(key);
    if (reads !== undefined) {
      if (options.hangReadsAfterPatch) return; // never answered
      progress.set(key, reads + 1);
      advanceWorkload(key, found, reads + 1);
    }
    json(res, 200, found);
  }

  function listControllerRevisions(res: ServerResponse, namespace: string, selector: string | null): void {
    const wanted: Record<string, string> = {};
    for (const term of selector ? selector.split(',') : []) {
      const match = /^([^=!]+)=([^=]*)$/.exec(term);
      if (!match) {
        status(res, 400, 'BadRequest', `the fake supports only k=v selectors, not "${term}"`);
        return;
      }
      wanted[match[1]!] = match[2]!;
    }
    json(res, 200, {
      kind: 'ControllerRevisionList',
      apiVersion: 'apps/v1',
      metadata: { resourceVersion: String(resourceVersion) },
      items: controllerRevisions.filter(
        (cr) =>
          cr.metadata.namespace === namespace &&
          Object.entries(wanted).every(([k, v]) => cr.metadata.labels?.[k] === v),
      ),
    });
  }

  function patchWorkload(
    request: RecordedRequest,
    res: ServerResponse,
    resource: string,
    namespace: string,
    name: string,
  ): void {
    const key = workloadKey(resource, namespace, name);
    const found = workloads.get(key);
    if (!found) {
      workloadNotFound(res, resource, name);
      return;
    }
    const type = request.headers['content-type'];
    if (type !== 'application/json-patch+json') {
      status(
        res,
        415,
        'UnsupportedMediaType',
        `the fake applies only application/json-patch+json, not ${type}`,
      );
      return;
    }
    let ops: unknown;
    try {
      ops = JSON.parse(request.body);
    } catch {
      ops = undefined;
    }
    if (!Array.isArray(ops)) {
      status(res, 400, 'BadRequest', 'the body is not a JSON Patch list');
      return;
    }
    const next = structuredClone(found);
    const problem = applyJsonPatch(next as unknown as Record<string, unknown>, ops as JsonPatchOp[]);
    if (problem) {
      status(res, 422, 'Invalid', problem);
      return;
    }
    next.status = found.status;
    next.metadata.resourceVersion = nextVersion();
    if (!isDeepStrictEqual(next.spec, found.spec)) next.metadata.generation = found.metadata.generation + 1;
    if (!isDeepStrictEqual(next.spec.template, found.spec.template)) {
      const revision = startWorkloadRollout(next);
      if (next.kind === 'StatefulSet') next.status.updateRevision = revision.metadata.name;
      progress.set(key, 0);
    }
    workloads.set(key, next);
    json(res, 200, next);
  }

  const ownedRevisions = (workload: FakeWorkload) =>
    controllerRevisions.filter((cr) => cr.metadata.ownerReferences?.[0]?.uid === workload.metadata.uid);

  /** As the controllers do: the revision with the same template gets the next number, or a new one is made. */
  function startWorkloadRollout(workload: FakeWorkload): FakeControllerRevision {
    const mine = ownedRevisions(workload);
    const revision = Math.max(0, ...mine.map((cr) => cr.revision)) + 1;
    const match = mine.find((cr) => {
      const { $patch: _, ...template } = cr.data.spec.template;
      return isDeepStrictEqual(template, workload.spec.template);
    });
    if (match) {
      match.revision = revision;
      return match;
    }
    const created = controllerRevisionFor(workload, revision, workload.spec.template);
    controllerRevisions.push(created);
    return created;
  }

  /** One step per read: not observed, then succeed (one pod/node per read), stall (stuck at one) or never. */
  function advanceWorkload(key: string, workload: FakeWorkload, reads: number): void {
    if (reads < 2) return;
    const s = workload.status;
    s.observedGeneration = workload.metadata.generation;
    const step = reads - 1;
    const wanted =
      workload.kind === 'StatefulSet' ? workload.spec.replicas! : Number(s.desiredNumberScheduled);
    const updated = mode === 'succeed' ? Math.min(wanted, step) : mode === 'stall' ? 1 : 0;
    const ready = mode === 'succeed' ? Math.min(wanted, step - 1) : mode === 'stall' ? wanted - 1 : wanted;
    const done = mode === 'succeed' && updated === wanted && ready === wanted;
    if (workload.kind === 'StatefulSet') {
      Object.assign(s, {
        updatedReplicas: updated,
        currentReplicas: wanted - updated,
        readyReplicas: ready,
        availableReplicas: ready,
      });
      if (done) {
        s.currentRevision = s.updateRevision!;
        s.currentReplicas = wanted;
      }
    } else {
      Object.assign(s, {
        updatedNumberScheduled: updated,
        numberReady: ready,
        numberAvailable: ready,
      });
      if (ready < wanted) s.numberUnavailable = wanted - ready;
      else Reflect.deleteProperty(s, 'numberUnavailable');
    }
    if (done) progress.delete(key);
    workload.metadata.resourceVersion = nextVersion();
  }

  function controllerRevisionFor(
    owner: FakeWorkload,
    revision: number,
    template: PodTemplate,
  ): FakeControllerRevision {
    const hash = createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, 10);
    const hashLabel =
      owner.kind === 'StatefulSet' ? 'controller.kubernetes.io/hash' : 'controller-revision-hash';
    return {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name: `${owner.metadata.name}-${hash}`,
        namespace: owner.metadata.namespace,
        uid: randomUUID(),
        resourceVersion: nextVersion(),
        labels: { ...owner.spec.selector.matchLabels, [hashLabel]: hash },
        annotations: {},
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: owner.kind,
            name: owner.metadata.name,
            uid: owner.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      revision,
      data: { spec: { template: { ...structuredClone(template), $patch: 'replace' } } },
    };
  }

  function rolloutNotFound(res: ServerResponse, name: string): void {
    status(res, 404, 'NotFound', `rollouts.argoproj.io "${name}" not found`, {
      name,
      group: 'argoproj.io',
      kind: 'rollouts',
    });
  }

  function readRollout(res: ServerResponse, namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const found = rollouts.get(key);
    if (!found) {
      rolloutNotFound(res, name);
      return;
    }
    const reads = progress.get(`rollout:${key}`);
    if (reads !== undefined) {
      if (options.hangReadsAfterPatch) return; // never answered
      progress.set(`rollout:${key}`, reads + 1);
      advanceRollout(key, found, reads + 1);
    }
    const abortReads = aborting.get(key);
    if (abortReads !== undefined) {
      if (options.hangReadsAfterPatch) return;
      aborting.set(key, abortReads + 1);
      advanceAbort(key, found, abortReads + 1);
    }
    json(res, 200, found);
  }

  /** The status subresource with a merge patch: only `status` changes, as on the real server. */
  function patchRolloutStatus(
    request: RecordedRequest,
    res: ServerResponse,
    namespace: string,
    name: string,
  ): void {
    const key = `${namespace}/${name}`;
    const found = rollouts.get(key);
    if (!found) {
      rolloutNotFound(res, name);
      return;
    }
    const type = request.headers['content-type'];
    if (type !== 'application/merge-patch+json') {
      status(
        res,
        415,
        'UnsupportedMediaType',
        `the fake patches a status only with application/merge-patch+json, not ${type}`,
      );
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      body = undefined;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      status(res, 400, 'BadRequest', 'the body is not a JSON merge patch object');
      return;
    }
    const next = structuredClone(found);
    const patchedStatus = (body as { status?: unknown }).status;
    if (patchedStatus !== undefined) {
      next.status = mergePatch(next.status, patchedStatus) as FakeRollout['status'];
    }
    next.metadata.resourceVersion = nextVersion();
    if (next.status.abort && !found.status.abort) aborting.set(key, 0);
    rollouts.set(key, next);
    json(res, 200, next);
  }

  function patchRollout(
    request: RecordedRequest,
    res: ServerResponse,
    namespace: string,
    name: string,
  ): void {
    const key = `${namespace}/${name}`;
    const found = rollouts.get(key);
    if (!found) {
      rolloutNotFound(res, name);
      return;
    }
    const type = request.headers['content-type'];
    if (type !== 'application/json-patch+json') {
      status(
        res,
        415,
        'UnsupportedMediaType',
        `the fake applies only application/json-patch+json, not ${type}`,
      );
      return;
    }
    let ops: unknown;
    try {
      ops = JSON.parse(request.body);
    } catch {
      ops = undefined;
    }
    if (!Array.isArray(ops)) {
      status(res, 400, 'BadRequest', 'the body is not a JSON Patch list');
      return;
    }
    const next = structuredClone(found);
    const problem = applyJsonPatch(next as unknown as Record<string, unknown>, ops as JsonPatchOp[]);
    if (problem) {
      status(res, 422, 'Invalid', problem);
      return;
    }
    next.status = found.status; // the main resource ignores status changes
    next.metadata.resourceVersion = nextVersion();
    if (!isDeepStrictEqual(next.spec, found.spec)) next.metadata.generation = found.metadata.generation + 1;
    if (!isDeepStrictEqual(next.spec.template, found.spec.template)) {
      startArgoRollout(next);
      aborting.delete(key);
      progress.set(`rollout:${key}`, 0);
    }
    rollouts.set(key, next);
    json(res, 200, next);
  }

  const ownedByRollout = (rollout: FakeRollout) =>
    replicaSets.filter((rs) => rs.metadata.ownerReferences?.[0]?.uid === rollout.metadata.uid);

  /** What the Argo controller does on a new template: clears abort, reuses or creates the ReplicaSet. */
  function startArgoRollout(rollout: FakeRollout): void {
    const mine = ownedByRollout(rollout);
    const revision = Math.max(0, ...mine.map((rs) => Number(rs.metadata.annotations[ARGO_REVISION]))) + 1;
    let match = mine.find((rs) =>
      isDeepStrictEqual(withoutLabel(rs.spec.template, ARGO_HASH), rollout.spec.template),
    );
    if (match) match.metadata.annotations[ARGO_REVISION] = String(revision);
    else {
      match = argoReplicaSetFor(rollout, revision, rollout.spec.template);
      replicaSets.push(match);
    }
    rollout.metadata.annotations[ARGO_REVISION] = String(revision);
    delete rollout.status.abort;
    rollout.status.currentPodHash = match.metadata.labels![ARGO_HASH]!;
  }

  /** One step per read, as for Deployments; Healthy at the end, or Degraded past the deadline. */
  function advanceRollout(key: string, rollout: FakeRollout, reads: number): void {
    if (reads < 2) return;
    const wanted = rollout.spec.replicas;
    const s = rollout.status;
    s.observedGeneration = String(rollout.metadata.generation);
    const step = reads - 1;
    s.phase = 'Progressing';
    s.message = 'more replicas need to be updated';
    if (mode === 'succeed') {
      s.updatedReplicas = Math.min(wanted, step);
      s.availableReplicas = Math.min(wanted, step - 1);
      s.replicas = s.updatedReplicas + (wanted - s.availableReplicas);
      if (s.updatedReplicas === wanted && s.availableReplicas === wanted) {
        s.phase = 'Healthy';
        delete s.message;
        s.stableRS = s.currentPodHash;
        progress.delete(`rollout:${key}`);
      }
    } else if (mode === 'stall') {
      s.updatedReplicas = 1;
      s.availableReplicas = wanted - 1;
      if (step >= (options.stallAfterReads ?? 2)) {
        const name = ownedByRollout(rollout).find(
          (rs) => rs.metadata.annotations[ARGO_REVISION] === rollout.metadata.annotations[ARGO_REVISION],
        )?.metadata.name;
        s.phase = 'Degraded';
        s.message = `ProgressDeadlineExceeded: ReplicaSet "${name}" has timed out progressing.`;
      }
    } else {
      s.updatedReplicas = 0;
      s.availableReplicas = wanted;
    }
    s.readyReplicas = s.availableReplicas;
    rollout.metadata.resourceVersion = nextVersion();
  }

  /** After an abort: RolloutAborted at once, the stable ReplicaSet back to full one read later. */
  function advanceAbort(key: string, rollout: FakeRollout, reads: number): void {
    const wanted = rollout.spec.replicas;
    const s = rollout.status;
    s.phase = 'Degraded';
    s.message = `RolloutAborted: Rollout aborted update to revision ${rollout.metadata.annotations[ARGO_REVISION]}`;
    s.updatedReplicas = 0;
    s.availableReplicas = reads < 2 ? wanted - 1 : wanted;
    s.readyReplicas = s.availableReplicas;
    s.replicas = wanted;
    delete s.currentStepIndex;
    if (reads >= 2) aborting.delete(key);
    rollout.metadata.resourceVersion = nextVersion();
  }

  function argoReplicaSetFor(rollout: FakeRollout, revision: number, template: PodTemplate): FakeReplicaSet {
    const rs = replicaSetFor(rollout, revision, template);
    const hash = rs.metadata.labels![HASH]!;
    const relabel = (labels: Record<string, string>) => {
      Reflect.deleteProperty(labels, HASH);
      labels[ARGO_HASH] = hash;
    };
    relabel(rs.metadata.labels!);
    relabel(rs.spec.selector.matchLabels);
    relabel(rs.spec.template.metadata.labels);
    rs.metadata.annotations = { [ARGO_REVISION]: String(revision) };
    rs.metadata.ownerReferences = [
      {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        name: rollout.metadata.name,
        uid: rollout.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
    return rs;
  }

  const owned = (deployment: FakeDeployment) =>
    replicaSets.filter((rs) => rs.metadata.ownerReferences?.[0]?.uid === deployment.metadata.uid);

  /** What the Deployment controller does on a new template: reuse the matching ReplicaSet or create one. */
  function startRollout(deployment: FakeDeployment): void {
    const mine = owned(deployment);
    const revision = String(Math.max(0, ...mine.map((rs) => Number(rs.metadata.annotations[REVISION]))) + 1);
    const match = mine.find((rs) =>
      isDeepStrictEqual(withoutHash(rs.spec.template), deployment.spec.template),
    );
    if (match) match.metadata.annotations[REVISION] = revision;
    else replicaSets.push(replicaSetFor(deployment, Number(revision), deployment.spec.template));
    deployment.metadata.annotations[REVISION] = revision;
  }

  /** One step of the rollout per read; the first read after the patch is not observed yet. */
  function advance(key: string, deployment: FakeDeployment, reads: number): void {
    if (reads < 2) return;
    const wanted = deployment.spec.replicas;
    const s = deployment.status;
    s.observedGeneration = deployment.metadata.generation;
    const step = reads - 1;
    let condition = progressing('True', 'ReplicaSetUpdated', 'ReplicaSet is progressing.');
    if (mode === 'succeed') {
      s.updatedReplicas = Math.min(wanted, step);
      s.availableReplicas = Math.min(wanted, step - 1);
      s.replicas = s.updatedReplicas + (wanted - s.availableReplicas);
      if (s.updatedReplicas === wanted && s.availableReplicas === wanted) {
        condition = progressing('True', 'NewReplicaSetAvailable', 'ReplicaSet has successfully progressed.');
        progress.delete(key);
      }
    } else if (mode === 'stall') {
      s.updatedReplicas = 1;
      s.availableReplicas = wanted - 1;
      s.replicas = wanted + 1;
      if (step >= (options.stallAfterReads ?? 2)) {
        const name = owned(deployment).find(
          (rs) => rs.metadata.annotations[REVISION] === deployment.metadata.annotations[REVISION],
        )?.metadata.name;
        condition = progressing(
          'False',
          'ProgressDeadlineExceeded',
          `ReplicaSet "${name}" has timed out progressing.`,
        );
      }
    } else {
      s.updatedReplicas = 0;
      s.availableReplicas = wanted;
      s.replicas = wanted;
    }
    s.readyReplicas = s.availableReplicas;
    if (s.availableReplicas < wanted) s.unavailableReplicas = wanted - s.availableReplicas;
    else delete s.unavailableReplicas;
    s.conditions = [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }, condition];
    deployment.metadata.resourceVersion = nextVersion();
  }

  function replicaSetFor(
    owner: { metadata: { name: string; namespace: string; uid: string }; spec: { replicas: number } },
    revision: number,
    template: PodTemplate,
  ): FakeReplicaSet {
    const hash = createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, 10);
    const labels = { ...template.metadata.labels, [HASH]: hash };
    const copy = structuredClone(template);
    copy.metadata.labels = labels;
    return {
      metadata: {
        name: `${owner.metadata.name}-${hash}`,
        namespace: owner.metadata.namespace,
        uid: randomUUID(),
        resourceVersion: nextVersion(),
        labels,
        annotations: {
          [REVISION]: String(revision),
          'deployment.kubernetes.io/desired-replicas': String(owner.spec.replicas),
        },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: owner.metadata.name,
            uid: owner.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        replicas: 0,
        selector: { matchLabels: { ...template.metadata.labels, [HASH]: hash } },
        template: copy,
      },
      status: { replicas: 0, observedGeneration: 1 },
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;

  return {
    url,
    token,
    requests,
    deployments,
    replicaSets,
    kubeConfig(userToken = token) {
      const config = new k8s.KubeConfig();
      config.loadFromOptions({
        clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
        users: [{ name: 'rollback-bot', token: userToken }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'rollback-bot' }],
        currentContext: 'fake',
      });
      return config;
    },
    addDeployment({ namespace, name, replicas, revisions }) {
      const latest = revisions.reduce((a, b) => (b.revision > a.revision ? b : a));
      const deployment: FakeDeployment = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {
          name,
          namespace,
          uid: randomUUID(),
          resourceVersion: nextVersion(),
          generation: latest.revision,
          annotations: { [REVISION]: String(latest.revision) },
          labels: { app: name },
        },
        spec: {
          replicas,
          selector: { matchLabels: { app: name } },
          template: templateFor(name, latest.image),
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
          revisionHistoryLimit: 10,
          progressDeadlineSeconds: 600,
        },
        status: {
          observedGeneration: latest.revision,
          replicas,
          updatedReplicas: replicas,
          readyReplicas: replicas,
          availableReplicas: replicas,
          conditions: [
            { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
            progressing('True', 'NewReplicaSetAvailable', 'ReplicaSet has successfully progressed.'),
          ],
        },
      };
      for (const { revision, image } of revisions) {
        replicaSets.push(replicaSetFor(deployment, revision, templateFor(name, image)));
      }
      deployments.set(`${namespace}/${name}`, deployment);
      return deployment;
    },
    rollouts,
    workloads,
    controllerRevisions,
    addWorkload({ kind, namespace, name, replicas, revisions }) {
      const sorted = [...revisions].sort((a, b) => a.revision - b.revision);
      const latest = sorted.at(-1)!;
      const workload: FakeWorkload = {
        apiVersion: 'apps/v1',
        kind,
        metadata: {
          name,
          namespace,
          uid: randomUUID(),
          resourceVersion: nextVersion(),
          generation: latest.revision,
          annotations: {},
          labels: { app: name },
        },
        spec: {
          ...(kind === 'StatefulSet' ? { replicas, serviceName: name } : {}),
          selector: { matchLabels: { app: name } },
          template: templateFor(name, latest.image),
          updateStrategy:
            kind === 'StatefulSet'
              ? { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }
              : { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
          revisionHistoryLimit: 10,
        },
        status: {},
      };
      let current = '';
      for (const { revision, image } of sorted) {
        const cr = controllerRevisionFor(workload, revision, templateFor(name, image));
        controllerRevisions.push(cr);
        current = cr.metadata.name;
      }
      workload.status =
        kind === 'StatefulSet'
          ? {
              observedGeneration: latest.revision,
              replicas,
              readyReplicas: replicas,
              currentReplicas: replicas,
              updatedReplicas: replicas,
              availableReplicas: replicas,
              currentRevision: current,
              updateRevision: current,
              collisionCount: 0,
            }
          : {
              observedGeneration: latest.revision,
              desiredNumberScheduled: replicas,
              currentNumberScheduled: replicas,
              updatedNumberScheduled: replicas,
              numberReady: replicas,
              numberAvailable: replicas,
              numberMisscheduled: 0,
            };
      workloads.set(`${kind}/${namespace}/${name}`, workload);
      return workload;
    },
    addRollout({ namespace, name, replicas, revisions, midway = false }) {
      const sorted = [...revisions].sort((a, b) => a.revision - b.revision);
      const latest = sorted.at(-1)!;
      const stable = midway ? sorted.at(-2)! : latest;
      const rollout: FakeRollout = {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        metadata: {
          name,
          namespace,
          uid: randomUUID(),
          resourceVersion: nextVersion(),
          generation: latest.revision,
          annotations: { [ARGO_REVISION]: String(latest.revision) },
          labels: { app: name },
        },
        spec: {
          replicas,
          selector: { matchLabels: { app: name } },
          template: templateFor(name, latest.image),
          strategy: {
            canary: {
              steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 60 }, { pause: { duration: '10m' } }],
            },
          },
          revisionHistoryLimit: 10,
        },
        status: {
          phase: 'Healthy',
          observedGeneration: String(latest.revision),
          replicas,
          updatedReplicas: replicas,
          readyReplicas: replicas,
          availableReplicas: replicas,
          currentPodHash: '',
          stableRS: '',
          currentStepIndex: 4,
          conditions: [
            {
              type: 'Available',
              status: 'True',
              reason: 'AvailableReason',
              message: 'Rollout has minimum availability',
            },
            progressing('True', 'NewReplicaSetAvailable', 'Rollout has successfully progressed'),
          ],
        },
      };
      for (const { revision, image } of sorted) {
        const rs = argoReplicaSetFor(rollout, revision, templateFor(name, image));
        replicaSets.push(rs);
        if (revision === latest.revision) rollout.status.currentPodHash = rs.metadata.labels![ARGO_HASH]!;
        if (revision === stable.revision) rollout.status.stableRS = rs.metadata.labels![ARGO_HASH]!;
      }
      if (midway) {
        Object.assign(rollout.status, {
          phase: 'Paused',
          message: 'CanaryPauseStep',
          updatedReplicas: 1,
          replicas: replicas + 1,
          currentStepIndex: 1,
        });
      }
      rollouts.set(`${namespace}/${name}`, rollout);
      return rollout;
    },
    setRollout(next) {
      mode = next;
    },
    addForeignReplicaSet(namespace, app, revision, image) {
      const other = {
        metadata: { name: `${app}-canary`, namespace, uid: randomUUID() },
        spec: { replicas: 1 },
      };
      replicaSets.push(replicaSetFor(other, revision, templateFor(app, image)));
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

function templateFor(app: string, image: string): PodTemplate {
  return {
    metadata: { labels: { app }, annotations: { 'prometheus.io/scrape': 'true' } },
    spec: {
      containers: [
        {
          name: app,
          image,
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          env: [{ name: 'MODE', value: 'prod' }],
        },
      ],
      restartPolicy: 'Always',
    },
  };
}

function progressing(status: string, reason: string, message: string): Condition {
  return { type: 'Progressing', status, reason, message };
}

function withoutHash(template: PodTemplate): PodTemplate {
  return withoutLabel(template, HASH);
}

function withoutLabel(template: PodTemplate, label: string): PodTemplate {
  const copy = structuredClone(template);
  copy.metadata.labels = Object.fromEntries(
    Object.entries(copy.metadata.labels).filter(([k]) => k !== label),
  );
  return copy;
}

/** RFC 7386 JSON merge patch: objects merge, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) Reflect.deleteProperty(result, key);
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function status(res: ServerResponse, code: number, reason: string, message: string, details?: object): void {
  json(res, code, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  });
}

function notFound(res: ServerResponse, name: string): void {
  status(res, 404, 'NotFound', `deployments.apps "${name}" not found`, {
    name,
    group: 'apps',
    kind: 'deployments',
  });
}

interface JsonPatchOp {
  op: string;
  path: string;
  value?: unknown;
}

/** RFC 6902 add, replace, remove and test on object members; returns the failure, as the API server would. */
export function applyJsonPatch(document: Record<string, unknown>, ops: JsonPatchOp[]): string | undefined {
  for (const { op, path, value } of ops) {
    const keys = path
      .split('/')
      .slice(1)
      .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop();
    if (last === undefined) return `the fake does not patch the whole document (path "${path}")`;
    let parent: unknown = document;
    for (const key of keys) {
      parent =
        typeof parent === 'object' && parent !== null ? (parent as Record<string, unknown>)[key] : undefined;
    }
    if (typeof parent !== 'object' || parent === null) return `doc is missing path: "${path}": missing value`;
    const target = new Map(Object.entries(parent));
    switch (op) {
      case 'test':
        if (!isDeepStrictEqual(target.get(last), value)) {
          return `the server rejected our request due to an error in our request: testing value ${path} failed`;
        }
        break;
      case 'add':
        target.set(last, value);
        break;
      case 'replace':
      case 'remove':
        if (!target.has(last))
          return `${op} operation does not apply: doc is missing key: ${path}: missing value`;
        if (op === 'replace') target.set(last, value);
        else target.delete(last);
        break;
      default:
        return `the fake does not implement the JSON Patch op "${op}"`;
    }
    const record = parent as Record<string, unknown>;
    for (const key of Object.keys(record)) Reflect.deleteProperty(record, key);
    Object.assign(record, Object.fromEntries(target));
  }
  return undefined;
}
