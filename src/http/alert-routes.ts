/**
 * The alert receivers (DESIGN section 9): `POST /alerts/alertmanager`, `/alerts/grafana`,
 * `/alerts/generic` (and `/alerts/sns`, see sns-route.ts). Each authenticates the sender, reads the
 * body within a size limit, parses it at the edge into normalised alerts, and hands them to the
 * incident service before answering, so a sender that sees 2xx knows the alerts are stored (and one
 * that sees 5xx retries).
 *
 * Answers: 200 with what was done; 202 when nothing was for a known service (logged and counted);
 * 400 with the reason for a malformed body; 401 for a missing or wrong token or signature, or a
 * signed delivery without a timestamp or with one more than 5 minutes from now (a replay);
 * 413 / 415 for a body too large or not JSON.
 */
import type { CustomRoute } from '@slack/bolt';
import type { ParamsIncomingMessage } from '@slack/bolt/dist/receivers/ParamsIncomingMessage.js';
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { deliveryKey, type Alert, type AlertSource, type UnroutedAlert } from '../alerts/alert.js';
import { parseAlertmanager, type ParsedDelivery } from '../alerts/alertmanager.js';
import {
  GENERIC_SIGNATURE_HEADER,
  GENERIC_TIMESTAMP_HEADER,
  parseGeneric,
  verifyGenericSignature,
} from '../alerts/generic.js';
import { GRAFANA_SIGNATURE_HEADER, parseGrafana, verifyGrafanaSignature } from '../alerts/grafana.js';
import type { DeliveryOutcome, IncidentService } from '../app/incident-service.js';
import { readJsonWithRaw } from './read-json.js';
import { hasBasicPassword, hasBearer, safeRoute, sendError, sendJson } from './respond.js';
import { checkTimestamp } from './timestamp-window.js';

/** Alertmanager's largest deliveries (5,000 alerts with their labels) fit in this. */
export const ALERT_BODY_LIMIT = 8 * 1024 * 1024;
export const GRAFANA_TIMESTAMP_HEADER = 'x-grafana-alerting-signature-timestamp';

export type AlertOutcome =
  'accepted' | 'unknown_service' | 'unrouted' | 'duplicate' | 'stale' | 'bad_request' | 'unauthorized';

export interface AlertRouteDependencies {
  incidents: Pick<IncidentService, 'receive'>;
  /** ALERT_WEBHOOK_TOKEN: bearer, basic password, or HMAC secret. Unset: every delivery is refused. */
  token: string | undefined;
  now: () => number;
  log: Logger;
  count?: (source: AlertSource | 'sns', outcome: AlertOutcome, alerts: number) => void;
}

export interface ParsedAlerts {
  key: string;
  alerts: Alert[];
  unrouted: UnroutedAlert[];
  truncated: number;
}

/**
 * Called first without the body (`raw` null): a token in the headers is checked before a byte of
 * the body is read, so nobody unauthenticated can make the bot buffer and parse 8 MiB. A signed
 * delivery answers `body` and is checked again once the body is read.
 */
type Authenticate = (
  req: ParamsIncomingMessage,
  raw: Buffer | null,
) => { ok: true } | { ok: false; reason: string } | { ok: 'body' };

/** Checks a signature over the raw body and its (fresh) timestamp with the shared secret. */
type Verify = (raw: Buffer, signature: string, timestamp: string, secret: string) => boolean;

export function alertRoutes(deps: AlertRouteDependencies): CustomRoute[] {
  const bearerOrBasic: Authenticate = (req) =>
    hasBearer(req, deps.token) || hasBasicPassword(req, deps.token)
      ? { ok: true }
      : { ok: false, reason: unauthorised(deps.token) };

  /**
   * A signed delivery must be signed right, whatever else it carries, and signed with a timestamp
   * within 5 minutes of now: the timestamp is checked before the body is read.
   */
  const signed =
    (names: { signature: string; timestamp: string; missing: string }, verify: Verify): Authenticate =>
    (req, raw) => {
      const signature = header(req, names.signature);
      if (signature === undefined) return bearerOrBasic(req, raw);
      const timestamp = header(req, names.timestamp);
      if (timestamp === undefined) return { ok: false, reason: names.missing };
      const fresh = checkTimestamp(names.timestamp, timestamp, deps.now());
      if (!fresh.ok) return fresh;
      if (raw === null) return { ok: 'body' };
      return verify(raw, signature, timestamp.trim(), deps.token ?? '')
        ? { ok: true }
        : { ok: false, reason: `the ${names.signature} does not match the timestamp and body` };
    };

  const grafanaAuth = signed(
    {
      signature: GRAFANA_SIGNATURE_HEADER,
      timestamp: GRAFANA_TIMESTAMP_HEADER,
      missing:
        `a signed Grafana delivery needs the ${GRAFANA_TIMESTAMP_HEADER} header: in the webhook ` +
        `contact point's HMAC settings, set the timestamp header to X-Grafana-Alerting-Signature-Timestamp`,
    },
    (raw, signature, timestamp, secret) => verifyGrafanaSignature(raw, signature, secret, timestamp),
  );

  const genericAuth = signed(
    {
      signature: GENERIC_SIGNATURE_HEADER,
      timestamp: GENERIC_TIMESTAMP_HEADER,
      missing:
        `a signed delivery needs the ${GENERIC_TIMESTAMP_HEADER} header (Unix seconds) and ` +
        `${GENERIC_SIGNATURE_HEADER}: v0=<hex HMAC-SHA256 of v0:<timestamp>:<body>> (see docs/alerts.md)`,
    },
    verifyGenericSignature,
  );

  return [
    receiver(deps, '/alerts/alertmanager', 'alertmanager', bearerOrBasic, (body) =>
      grouped('alertmanager', parseAlertmanager(body)),
    ),
    receiver(deps, '/alerts/grafana', 'grafana', grafanaAuth, (body) =>
      grouped('grafana', parseGrafana(body)),
    ),
    receiver(deps, '/alerts/generic', 'generic', genericAuth, (body) => {
      const parsed = parseGeneric(body, deps.now());
      if (!parsed.ok) return parsed;
      return {
        ok: true,
        // A generic alert may come without startsAt (the receive time stands in): the key leaves it
        // out, or every retry would look new.
        key: deliveryKey(
          'generic',
          '',
          parsed.alerts.map(({ fingerprint, status }) => ({ fingerprint, status })),
        ),
        alerts: parsed.alerts,
        unrouted: [],
        truncated: 0,
      };
    }),
  ];
}

/** An Alertmanager-shaped delivery (Alertmanager, Grafana), keyed by its group and alerts. */
function grouped(
  source: 'alertmanager' | 'grafana',
  parsed: ParsedDelivery,
): ({ ok: true } & ParsedAlerts) | { ok: false; reason: string } {
  if (!parsed.ok) return parsed;
  return {
    ok: true,
    key: deliveryKey(source, parsed.groupKey, [...parsed.alerts, ...parsed.unrouted]),
    alerts: parsed.alerts,
    unrouted: parsed.unrouted,
    truncated: parsed.truncatedAlerts,
  };
}

function receiver(
  deps: AlertRouteDependencies,
  path: string,
  source: AlertSource,
  authenticate: Authenticate,
  parse: (body: unknown) => ({ ok: true } & ParsedAlerts) | { ok: false; reason: string },
): CustomRoute {
  const { log } = deps;
  return {
    path,
    method: ['POST'],
    handler: safeRoute(log, async (req, res) => {
      const refuse = (reason: string): void => {
        deps.count?.(source, 'unauthorized', 0);
        log.warn({ source, reason }, 'alert delivery refused');
        res.setHeader('www-authenticate', 'Bearer');
        sendError(res, 401, 'unauthorized', reason);
      };
      const early = authenticate(req, null);
      if (early.ok === false) {
        refuse(early.reason);
        return;
      }
      const body = await readJsonWithRaw(req, ALERT_BODY_LIMIT);
      if (!body.ok) {
        deps.count?.(source, 'bad_request', 0);
        sendError(res, body.status, body.code, body.error);
        return;
      }
      const auth = early.ok === 'body' ? authenticate(req, body.raw) : early;
      if (auth.ok !== true) {
        refuse(auth.ok === false ? auth.reason : 'the signature could not be checked');
        return;
      }
      const parsed = parse(body.value);
      if (!parsed.ok) {
        deps.count?.(source, 'bad_request', 0);
        log.warn({ source, reason: parsed.reason }, 'alert delivery malformed');
        sendError(res, 400, 'bad_request', parsed.reason);
        return;
      }
      await answer(deps, res, source, parsed);
    }),
  };
}

/** Hands the alerts to the incident service and answers with what happened to them. */
export async function answer(
  deps: Pick<AlertRouteDependencies, 'incidents' | 'log' | 'count'>,
  res: ServerResponse,
  source: AlertSource | 'sns',
  parsed: ParsedAlerts,
): Promise<DeliveryOutcome> {
  const outcome = await deps.incidents.receive({ key: parsed.key, alerts: parsed.alerts });
  if (parsed.unrouted.length > 0) {
    deps.count?.(source, 'unrouted', parsed.unrouted.length);
    deps.log.warn({ source, alerts: parsed.unrouted.length }, 'alerts without a service label');
  }
  const unknown = outcome.unknown.reduce((sum, group) => sum + group.alerts, 0);
  if (unknown > 0) deps.count?.(source, 'unknown_service', unknown);
  if (outcome.stale > 0) deps.count?.(source, 'stale', outcome.stale);
  if (outcome.accepted > 0)
    deps.count?.(source, outcome.duplicate ? 'duplicate' : 'accepted', outcome.accepted);
  const known = outcome.accepted + outcome.stale > 0;
  sendJson(res, known ? 200 : 202, {
    accepted: outcome.accepted,
    duplicate: outcome.duplicate,
    stale: outcome.stale,
    incidents: outcome.incidents,
    ...(unknown > 0 ? { unknownServices: outcome.unknown } : {}),
    ...(parsed.unrouted.length > 0 ? { unrouted: parsed.unrouted.length } : {}),
    ...(parsed.truncated > 0 ? { truncatedAlerts: parsed.truncated } : {}),
    ...(outcome.notes.length > 0 ? { notes: outcome.notes } : {}),
  });
  return outcome;
}

function header(req: ParamsIncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function unauthorised(token: string | undefined): string {
  return token
    ? 'send the ALERT_WEBHOOK_TOKEN as a bearer token or as the basic-auth password'
    : 'alert receivers are off: ALERT_WEBHOOK_TOKEN is not set on the bot';
}
