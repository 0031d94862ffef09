/**
 * How the kubernetes executor reaches a cluster: a KubeConfig (a kubeconfig file, the pod's service
 * account, or one a test builds), the AppsV1 API, per-call options that make every request abortable and pick the
 * patch content type, and API errors turned into one plain line.
 */
import * as k8s from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { delimiter, join } from 'node:path';
import type { KubernetesParams } from './params.js';

/** Builds the KubeConfig for a step; tests inject one built with `loadFromOptions`. */
export type KubeConfigLoader = (params: KubernetesParams) => k8s.KubeConfig;

/** Where the kubelet mounts a pod's service account: its token (rotated), the cluster CA, the namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeCredentialSources {
  /** The bot's environment: KUBECONFIG, HOME, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT. */
  env: Readonly<Record<string, string | undefined>>;
  /** Default SERVICE_ACCOUNT_DIR; a test points it at a folder of its own. */
  serviceAccountDir?: string;
}

/**
 * Credentials of a step, in kubectl's order: the step's `kubeconfig`, else $KUBECONFIG (files
 * merged, the first one's current context wins), else ~/.kube/config, else the pod's service
 * account. Read from the given environment and folder rather than the client library's defaults,
 * which read process.env and, with nothing found, silently talk to http://localhost:8080: here no
 * credentials is a failure that says where it looked.
 */
export function kubeConfigLoader(sources: KubeCredentialSources): KubeConfigLoader {
  const { env } = sources;
  const serviceAccountDir = sources.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  return (params) => {
    const config = new k8s.KubeConfig();
    const files = kubeconfigFiles(params, env);
    if (files.length > 0) {
      config.loadFromFile(files[0]!);
      for (const file of files.slice(1)) {
        const more = new k8s.KubeConfig();
        more.loadFromFile(file);
        config.mergeConfig(more, true);
      }
      return config;
    }
    if (loadInCluster(config, env, serviceAccountDir)) return config;
    throw new Error(
      `no credentials found: no kubeconfig (with.kubeconfig, KUBECONFIG, ~/.kube/config) and no service account (KUBERNETES_SERVICE_HOST and ${join(serviceAccountDir, 'token')})`,
    );
  };
}

function kubeconfigFiles(params: KubernetesParams, env: KubeCredentialSources['env']): string[] {
  if (params.kubeconfig !== undefined) return [params.kubeconfig];
  const listed = (env['KUBECONFIG'] ?? '').split(delimiter).filter((file) => file !== '');
  if (listed.length > 0) return listed;
  const home = env['HOME'];
  const own = home ? join(home, '.kube', 'config') : undefined;
  return own !== undefined && existsSync(own) ? [own] : [];
}

/**
 * The pod's own service account, as client-go's InClusterConfig: https to the API server the
 * kubelet names, verified with the mounted CA, with the token file as the user. The token is read
 * again every minute by the client library (the kubelet rotates it) and the KubeConfig is built
 * again for every step, so a long-running bot never holds an expired one.
 */
function loadInCluster(config: k8s.KubeConfig, env: KubeCredentialSources['env'], dir: string): boolean {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const tokenFile = join(dir, 'token');
  if (!host || !existsSync(tokenFile)) return false;
  const port = env['KUBERNETES_SERVICE_PORT'] || '443';
  const namespaceFile = join(dir, 'namespace');
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined;
  config.loadFromOptions({
    clusters: [
      {
        name: 'inCluster',
        server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
        caFile: join(dir, 'ca.crt'),
        skipTLSVerify: false,
      },
    ],
    users: [{ name: 'inClusterUser', authProvider: { name: 'tokenFile', config: { tokenFile } } }],
    contexts: [
      {
        name: 'inClusterContext',
        cluster: 'inCluster',
        user: 'inClusterUser',
        ...(namespace ? { namespace } : {}),
      },
    ],
    currentContext: 'inClusterContext',
  });
  return true;
}

/** Selects the requested context, or says which ones exist. */
export function selectContext(config: k8s.KubeConfig, context: string | undefined): string | undefined {
  if (context === undefined) return undefined;
  const names = config.getContexts().map((c) => c.name);
  if (!names.includes(context)) {
    return `kubeconfig has no context "${context}"; contexts: ${names.join(', ') || 'none'}`;
  }
  config.setCurrentContext(context);
  return undefined;
}

/** Options for one call: the request is aborted with `signal`, and may carry a Content-Type. */
export function callOptions(signal: AbortSignal, contentType?: string): k8s.ConfigurationOptions {
  const middleware: k8s.ObservableMiddleware = {
    pre: (request) => {
      request.setSignal(signal);
      if (contentType !== undefined) request.setHeaderParam('Content-Type', contentType);
      return new k8s.Observable(Promise.resolve(request));
    },
    post: (response) => new k8s.Observable(Promise.resolve(response)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/** The HTTP status of an API error, if it is one. */
export function apiStatus(error: unknown): number | undefined {
  return error instanceof k8s.ApiException ? (error as k8s.ApiException<unknown>).code : undefined;
}

/** "404 NotFound: deployments.apps \"api\" not found", or the network error's message. */
export function describeApiError(error: unknown): string {
  if (error instanceof k8s.ApiException) {
    const failure = error as k8s.ApiException<unknown>;
    const status = statusObject(failure.body);
    if (status?.message)
      return `${failure.code}${status.reason ? ` ${status.reason}` : ''}: ${status.message}`;
    if (failure.code === 401) return '401 Unauthorized: the API server refused the credentials';
    return `${failure.code} from the API server`;
  }
  if (error instanceof Error) {
    const cause: unknown = error.cause;
    return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}

function statusObject(body: unknown): { reason?: string; message?: string } | undefined {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body.trim() ? { message: body.trim().slice(0, 300) } : undefined;
    }
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { reason, message } = value as { reason?: unknown; message?: unknown };
  return {
    ...(typeof reason === 'string' ? { reason } : {}),
    ...(typeof message === 'string' ? { message } : {}),
  };
}
