/**
 * A local Statuspage API (the part the bot uses: create and update incidents) that is as strict as
 * the real one about what matters here: the `Authorization: OAuth KEY` header, the JSON shape, and
 * its limit of one request per second per key, answered with 429 otherwise. The rate is measured
 * on the clock the test gives (a `JumpClock` makes it deterministic). Faults can be scripted
 * (420, 503, ...), a key's answers held back to play a slow server, and the whole API taken down for
 * as long as a test wants (every request answered 503, or connections refused).
 */
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { startPeer, type HttpPeer, type RecordedRequest } from './http-peer.js';

export interface SeenRequest {
  method: string;
  path: string;
  key: string | undefined;
  body: unknown;
  /** On the test's clock. */
  at: number;
  /** What the fake answered. */
  status: number;
}

export interface FakeIncident {
  id: string;
  pageId: string;
  name: string;
  status: string;
  components: Record<string, string>;
  /** `impact_override` as last set; `none` until one is. */
  impact: string;
  updates: Array<{ status: string; body: string }>;
}

export interface FakeStatuspage {
  /** The API base, as `STATUSPAGE_API_URL` takes it. */
  apiUrl: string;
  requests: SeenRequest[];
  /** Requests that came within the interval of the key's previous one (answered 429). */
  violations: Array<{ key: string; gapMs: number }>;
  incidents: Map<string, FakeIncident>;
  /** The next requests (any key) are answered with these statuses instead, in order. */
  failNext(...faults: Array<{ status: number; retryAfter?: string }>): void;
  /**
   * Down until called with null: every request answered with `status` (counted in `requests`), or
   * `'refuse'`: not listening at all.
   */
  down(mode: { status: number } | 'refuse' | null): Promise<void>;
  /** Answers to `key` wait until `release(key)`. */
  hold(key: string): void;
  release(key: string): void;
  close(): Promise<void>;
}

/** What the bot may send; strict, so an unexpected field is a 422 like a typo would be. */
const incidentBody = z.strictObject({
  incident: z
    .strictObject({
      name: z.string().min(1).optional(),
      status: z.enum(['investigating', 'identified', 'monitoring', 'resolved']).optional(),
      body: z.string().optional(),
      components: z
        .record(
          z.string(),
          z.enum([
            'operational',
            'under_maintenance',
            'degraded_performance',
            'partial_outage',
            'major_outage',
          ]),
        )
        .optional(),
      component_ids: z.array(z.string()).optional(),
      impact_override: z.enum(['none', 'maintenance', 'minor', 'major', 'critical']).optional(),
    })
    .refine(
      (incident) =>
        (incident.components === undefined) === (incident.component_ids === undefined) &&
        (incident.component_ids ?? []).every((id) => incident.components?.[id] !== undefined),
      'components and component_ids must name the same components',
    ),
});

export async function startFakeStatuspage(options: {
  keys: readonly string[];
  now: () => number;
  intervalMs?: number;
}): Promise<FakeStatuspage> {
  const intervalMs = options.intervalMs ?? 1_000;
  const requests: SeenRequest[] = [];
  const violations: FakeStatuspage['violations'] = [];
  const incidents = new Map<string, FakeIncident>();
  const faults: Array<{ status: number; retryAfter?: string }> = [];
  const lastArrival = new Map<string, number>();
  const held = new Map<string, Array<() => void>>();
  let outage: { status: number } | 'refuse' | null = null;

  function answer(seen: SeenRequest, res: ServerResponse, status: number, body: unknown, headers = {}) {
    seen.status = status;
    const send = () => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const waiting = seen.key === undefined ? undefined : held.get(seen.key);
    if (waiting) waiting.push(send);
    else send();
  }

  function handle(request: RecordedRequest, res: ServerResponse): void {
    const at = options.now();
    const auth = /^OAuth (.+)$/.exec(request.headers.authorization ?? '');
    const key = auth?.[1];
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      body = request.body;
    }
    const seen: SeenRequest = { method: request.method, path: request.path, key, body, at, status: 0 };
    requests.push(seen);
    if (key === undefined || !options.keys.includes(key)) {
      answer(seen, res, 401, { error: 'Could not authenticate' });
      return;
    }
    const previous = lastArrival.get(key);
    lastArrival.set(key, at);
    if (previous !== undefined && at - previous < intervalMs) {
      violations.push({ key, gapMs: at - previous });
      answer(seen, res, 429, { error: 'Rate limit exceeded' }, { 'retry-after': '1' });
      return;
    }
    if (outage !== null && outage !== 'refuse') {
      answer(seen, res, outage.status, { error: `down: ${outage.status}` });
      return;
    }
    const fault = faults.shift();
    if (fault) {
      const headers = fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter };
      answer(seen, res, fault.status, { error: `fault ${fault.status}` }, headers);
      return;
    }
    route(seen, res);
  }

  function route(seen: SeenRequest, res: ServerResponse): void {
    const parsed = incidentBody.safeParse(seen.body);
    const create = /^\/v1\/pages\/([^/]+)\/incidents$/.exec(seen.path);
    const update = /^\/v1\/pages\/([^/]+)\/incidents\/([^/]+)$/.exec(seen.path);
    if (!create && !update) {
      answer(seen, res, 404, { error: 'Not found' });
      return;
    }
    if (!parsed.success) {
      answer(seen, res, 422, { error: parsed.error.issues.map((issue) => issue.message).join('; ') });
      return;
    }
    const { incident } = parsed.data;
    if (seen.method === 'POST' && create) {
      if (incident.name === undefined || incident.status === undefined || incident.body === undefined) {
        answer(seen, res, 422, { error: 'name, status and body are required' });
        return;
      }
      const created: FakeIncident = {
        id: `inc-${incidents.size + 1}`,
        pageId: decodeURIComponent(create[1]!),
        name: incident.name,
        status: incident.status,
        components: { ...incident.components },
        impact: incident.impact_override ?? 'none',
        updates: [{ status: incident.status, body: incident.body }],
      };
      incidents.set(created.id, created);
      answer(seen, res, 201, { id: created.id, status: created.status, name: created.name });
      return;
    }
    const existing = update ? incidents.get(decodeURIComponent(update[2]!)) : undefined;
    if (
      seen.method !== 'PATCH' ||
      !update ||
      !existing ||
      existing.pageId !== decodeURIComponent(update[1]!)
    ) {
      answer(seen, res, 404, { error: 'Not found' });
      return;
    }
    existing.status = incident.status ?? existing.status;
    Object.assign(existing.components, incident.components);
    existing.impact = incident.impact_override ?? existing.impact;
    existing.updates.push({ status: existing.status, body: incident.body ?? '' });
    answer(seen, res, 200, { id: existing.id, status: existing.status, name: existing.name });
  }

  const peer: HttpPeer = await startPeer((request, res) => {
    handle(request, res);
  });
  return {
    apiUrl: `${peer.url}/v1`,
    requests,
    violations,
    incidents,
    failNext: (...more) => faults.push(...more),
    async down(mode) {
      if (mode === 'refuse' && outage !== 'refuse') await peer.refuse();
      if (mode !== 'refuse' && outage === 'refuse') await peer.accept();
      outage = mode;
    },
    hold: (key) => held.set(key, held.get(key) ?? []),
    release: (key) => {
      const waiting = held.get(key) ?? [];
      held.delete(key);
      for (const send of waiting) send();
    },
    close: () => peer.close(),
  };
}
