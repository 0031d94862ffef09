/**
 * The two Statuspage REST calls the bot makes (create an incident, update it), each one try that
 * ends in a `SendOutcome` the stakeholder outbox understands, never a throw. The outbox sends the
 * calls of one API key in one lane (`laneKey`, derived from the key, which itself never reaches a
 * log or the store), one at a time across replicas, so the key's one-request-per-second budget holds.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { excerpt, networkError } from '../../../lib/text.js';
import type { Logger } from '../../../lib/logging.js';
import { retryAfterMs } from '../../stakeholder-outbox.js';
import type { SendContext, SendOutcome } from '../../target.js';

export const INCIDENT_STATUSES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const COMPONENT_STATUSES = [
  'operational',
  'under_maintenance',
  'degraded_performance',
  'partial_outage',
  'major_outage',
] as const;
export type ComponentStatus = (typeof COMPONENT_STATUSES)[number];

/** Statuspage's incident impact (`impact_override`); it computes the same from the components. */
export type IncidentImpact = 'none' | 'minor' | 'major' | 'critical';

export interface IncidentChange {
  status: IncidentStatus;
  /** The update's text, shown on the page. */
  body: string;
  /** Components set to one status; omitted: components stay as they are. */
  components?: { ids: readonly string[]; status: ComponentStatus };
  /** Omitted: the impact stays as it is (or as Statuspage computes it from the components). */
  impact?: IncidentImpact;
}

export interface NewIncident extends IncidentChange {
  name: string;
}

export interface Incident {
  id: string;
  status: string;
}

export type CallResult = { ok: true; incident: Incident } | { ok: false; outcome: SendOutcome };

export interface StatuspageClientOptions {
  /** `STATUSPAGE_API_URL`, e.g. https://api.statuspage.io/v1 (the client appends /pages/...). */
  apiUrl: string;
  apiKey: string;
  fetch?: typeof fetch;
  log: Logger;
  /** Per request (default 10 s). */
  timeoutMs?: number;
}

const incidentAnswer = z.object({ id: z.string().min(1), status: z.string() });
const errorAnswer = z.object({ error: z.union([z.string(), z.array(z.string())]) });

export class StatuspageClient {
  /** The outbox lane of the key's calls: one per API key, without revealing it. */
  readonly laneKey: string;
  private readonly apiUrl: string;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;

  constructor(private readonly options: StatuspageClientOptions) {
    this.apiUrl = options.apiUrl.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.laneKey = createHash('sha256').update(options.apiKey).digest('hex').slice(0, 12);
  }

  createIncident(pageId: string, incident: NewIncident, context: SendContext): Promise<CallResult> {
    return this.call(
      'POST',
      `/pages/${encodeURIComponent(pageId)}/incidents`,
      incidentBody(incident),
      context,
    );
  }

  updateIncident(
    pageId: string,
    incidentId: string,
    change: IncidentChange,
    context: SendContext,
  ): Promise<CallResult> {
    const path = `/pages/${encodeURIComponent(pageId)}/incidents/${encodeURIComponent(incidentId)}`;
    return this.call('PATCH', path, incidentBody(change), context);
  }

  private async call(
    method: string,
    path: string,
    body: Record<string, unknown>,
    context: SendContext,
  ): Promise<CallResult> {
    await context.ready();
    const what = `${method} ${path}`;
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(`${this.apiUrl}${path}`, {
        method,
        headers: {
          authorization: `OAuth ${this.options.apiKey}`,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify(body),
        signal: AbortSignal.any([context.signal, AbortSignal.timeout(this.timeoutMs)]),
      });
      text = await response.text();
    } catch (error) {
      return {
        ok: false,
        outcome: { kind: 'failed', message: `Statuspage did not answer: ${cause(error)}` },
      };
    }
    if (!response.ok) {
      const message = `Statuspage answered ${response.status} to ${what}${errorText(text)}`;
      return {
        ok: false,
        outcome: isRetryableStatus(response.status)
          ? {
              kind: 'failed',
              message,
              retryAfterMs: retryAfterMs(response.headers.get('retry-after'), Date.now()),
            }
          : { kind: 'refused', message },
      };
    }
    const parsed = incidentAnswer.safeParse(parseJson(text));
    if (!parsed.success) {
      this.options.log.warn({ call: what, body: excerpt(text) }, 'Statuspage answered without an incident');
      return {
        ok: false,
        outcome: { kind: 'failed', message: `Statuspage answered ${what} without an incident id` },
      };
    }
    return { ok: true, incident: parsed.data };
  }
}

/** 420 (Statuspage's "enhance your calm"), 429 and 5xx pass; another 4xx will be given again. */
export function isRetryableStatus(status: number): boolean {
  return status === 420 || status === 429 || status >= 500;
}

/** The API's shape: `components` maps ids to a status and `component_ids` lists the affected ones. */
function incidentBody(change: IncidentChange & { name?: string }): Record<string, unknown> {
  const incident: Record<string, unknown> = {
    ...(change.name === undefined ? {} : { name: change.name }),
    status: change.status,
    body: change.body,
    ...(change.impact === undefined ? {} : { impact_override: change.impact }),
  };
  if (change.components && change.components.ids.length > 0) {
    const { ids, status } = change.components;
    incident.components = Object.fromEntries(ids.map((id) => [id, status]));
    incident.component_ids = [...ids];
  }
  return { incident };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function errorText(text: string): string {
  const parsed = errorAnswer.safeParse(parseJson(text));
  if (parsed.success) return `: ${excerpt([parsed.data.error].flat().join('; '), 200)}`;
  return text.trim() === '' ? '' : `: ${excerpt(text, 200)}`;
}

/** fetch says "fetch failed"; the reason (ECONNREFUSED, a time-out) is in its cause. */
function cause(error: unknown): string {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
    ? 'timed out or stopped'
    : networkError(error);
}
