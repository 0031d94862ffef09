/**
 * How the kubernetes executor reaches a cluster: a KubeConfig (from a file, the defaults or one a
 * test builds), the AppsV1 API, per-call options that make every request abortable and pick the
 * patch content type, and API errors turned into one plain line.
 */
import * as k8s from '@kubernetes/client-node';
import type { KubernetesParams } from './params.js';

/** Builds the KubeConfig for a step; tests inject one built with `loadFromOptions`. */
export type KubeConfigLoader = (params: KubernetesParams) => k8s.KubeConfig;

export const defaultKubeConfig: KubeConfigLoader = (params) => {
  const config = new k8s.KubeConfig();
  if (params.kubeconfig === undefined) config.loadFromDefault();
  else config.loadFromFile(params.kubeconfig);
  return config;
};

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
