/** Small helpers for the bot's own HTTP routes (they run inside Bolt's server as custom routes). */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ParamsIncomingMessage } from '@slack/bolt/dist/receivers/ParamsIncomingMessage.js';
import type { Logger } from 'pino';
import { StoreUnavailableError } from '../lib/errors.js';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/**
 * Every code an HTTP error body carries: `{ "error": { "code", "message" } }`. A client branches on
 * the code; the message is the sentence for a person and may change wording.
 */
export const HTTP_ERROR_CODES = [
  /** The body or query does not say what the route needs (schema, time, missing parameter). */
  'bad_request',
  /** The body is not JSON at all. */
  'invalid_json',
  /** No valid credentials: bearer token, basic password, webhook signature, Slack's headers. */
  'unauthorized',
  /** Authenticated as far as can be told, and still refused (an SNS topic or certificate). */
  'forbidden',
  /** A signed message outside its time window: an old delivery replayed. */
  'replay',
  'not_found',
  'payload_too_large',
  'unsupported_media_type',
  /** Something the bot depends on did not answer; retry later. */
  'unavailable',
  /** The bot failed; the body carries a reference to find the log line. */
  'internal',
] as const;
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number];

/** The one way the bot answers an error over HTTP. `extra` sits beside `error` (a log reference). */
export function sendError(
  res: ServerResponse,
  status: number,
  code: HttpErrorCode,
  message: string,
  extra: Record<string, unknown> = {},
): void {
  sendJson(res, status, { error: { code, message }, ...extra });
}

/** Compares the bearer token in constant time; an unset token refuses everyone. */
export function hasBearer(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return false;
  const header = req.headers.authorization ?? '';
  // Compared as digests: equal lengths always, so the time taken says nothing about the token.
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(header.startsWith('Bearer ') ? header.slice(7) : ''), digest(token));
}

/**
 * HTTP basic credentials whose password is `token` (any user name): Alertmanager's `basic_auth`
 * and Grafana's basic authentication carry the shared token this way. Constant time.
 */
export function hasBasicPassword(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return false;
  const header = req.headers.authorization ?? '';
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return false;
  const given = createHash('sha256')
    .update(decoded.slice(colon + 1))
    .digest();
  return timingSafeEqual(given, createHash('sha256').update(token).digest());
}

/**
 * Bolt types route handlers as returning void and does not catch async errors: a rejected promise
 * would take the process down. Every route goes through this, which answers 500 with a reference
 * (503 while the state store is unavailable: nothing was changed, and the sender may retry).
 */
export function safeRoute(
  log: Logger,
  handler: (req: ParamsIncomingMessage, res: ServerResponse) => Promise<void>,
): (req: ParamsIncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handler(req, res).catch((error: unknown) => {
      const reference = Math.random().toString(36).slice(2, 10);
      if (error instanceof StoreUnavailableError) {
        // A sender that retries on 503 (Alertmanager, Grafana, SNS) delivers again once it is back.
        log.warn({ reference, url: req.url }, 'route refused: the state store is unavailable');
        if (!res.headersSent) sendError(res, 503, 'unavailable', error.userMessage, { reference });
        return;
      }
      log.error({ err: error, reference, url: req.url }, 'route failed');
      if (!res.headersSent) sendError(res, 500, 'internal', 'internal error', { reference });
    });
  };
}
