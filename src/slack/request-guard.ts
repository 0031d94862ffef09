/**
 * The door of `POST /slack/events`, in front of Bolt's HTTPReceiver. Bolt buffers the whole body
 * (up to 4 MiB by default) before it looks at the signature, so anyone could make the bot hold
 * megabytes per connection. Here the request is refused from its headers alone, before a byte of the
 * body is read: without Slack's signature and timestamp headers, with a timestamp more than 5
 * minutes from now (a replay Bolt would refuse anyway, after reading), or declaring a body larger
 * than any Slack payload. Only then is the body read (at most `SLACK_BODY_LIMIT`), its signature
 * checked, and the shape of the payload (payload-shape.ts: Bolt throws on some malformed ones,
 * outside any handler), before Bolt gets it already read; Bolt checks the signature again.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { isValidSlackRequest } from '@slack/bolt';
import type { Logger } from 'pino';
import { readRaw } from '../http/read-json.js';
import { sendError, type HttpErrorCode } from '../http/respond.js';
import { checkTimestamp } from '../http/timestamp-window.js';
import { slackPayloadProblem } from './payload-shape.js';

/** Slack's payloads (a modal's state, a message's blocks) stay well under a few hundred KiB. */
export const SLACK_BODY_LIMIT = 512 * 1024;

/**
 * Slack's `ssl_check` ping may come unsigned (Bolt lets it through for that reason). It is a short
 * form post, so an unsigned body that declares at most this many bytes goes on to Bolt, which
 * answers the ping and refuses anything else after reading those few bytes.
 */
const UNSIGNED_PING_LIMIT = 1_024;

export interface SlackRequestGuardOptions {
  /** The paths Bolt serves Slack's requests on (`/slack/events`). */
  endpoints: readonly string[];
  /** The wall clock: Bolt checks the same timestamp against `Date.now()`, the two must agree. */
  now: () => number;
  /** SLACK_SIGNING_SECRET: a body is looked into only once it is known to come from Slack. */
  signingSecret: string;
  log: Logger;
}

export function guardSlackRequests(
  next: RequestListener,
  options: SlackRequestGuardOptions,
): RequestListener {
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'POST' || !options.endpoints.includes(path)) {
      next(req, res);
      return;
    }
    const refusal = refusalOf(req, options.now());
    if (refusal !== null) {
      options.log.debug({ status: refusal.status, reason: refusal.error }, 'Slack request refused unread');
      refuse(res, refusal.status, refusal.code, refusal.error);
      return;
    }
    // An unsigned ping (ssl_check) is Bolt's to answer; Bolt refuses anything else unsigned.
    if (signatureOf(req) === undefined) {
      next(req, res);
      return;
    }
    admit(req, res, next, options).catch((error: unknown) => {
      options.log.warn({ err: error }, 'Slack request could not be read');
      if (!res.headersSent) refuse(res, 400, 'bad_request', 'the body could not be read');
    });
  };
}

/** Reads the body, checks its signature and shape, and hands it to Bolt already read. */
async function admit(
  req: IncomingMessage,
  res: ServerResponse,
  next: RequestListener,
  options: SlackRequestGuardOptions,
): Promise<void> {
  const body = await readRaw(req, SLACK_BODY_LIMIT);
  if (!body.ok) {
    refuse(res, body.status, body.code, body.error);
    return;
  }
  const text = body.raw.toString('utf8');
  const signed = isValidSlackRequest({
    signingSecret: options.signingSecret,
    body: text,
    headers: {
      'x-slack-signature': signatureOf(req) ?? '',
      'x-slack-request-timestamp': Number(single(req.headers['x-slack-request-timestamp'])),
    },
    nowMilliseconds: options.now(),
  });
  if (!signed) {
    refuse(res, 401, 'unauthorized', 'the X-Slack-Signature does not match the body');
    return;
  }
  const problem = slackPayloadProblem(req.headers['content-type'], text);
  if (problem !== null) {
    options.log.warn({ reason: problem }, 'signed Slack request with a malformed payload refused');
    refuse(res, 400, 'bad_request', problem);
    return;
  }
  // Bolt takes a request whose body was read already (`rawBody`), as a body-parser would leave it.
  (req as IncomingMessage & { rawBody?: Buffer }).rawBody = body.raw;
  next(req, res);
}

const signatureOf = (req: IncomingMessage): string | undefined => single(req.headers['x-slack-signature']);

type Refusal =
  | { status: 401; code: 'unauthorized'; error: string }
  | { status: 413; code: 'payload_too_large'; error: string };

function refusalOf(req: IncomingMessage, now: number): Refusal | null {
  const signature = single(req.headers['x-slack-signature']);
  const timestamp = single(req.headers['x-slack-request-timestamp']);
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (signature === undefined || timestamp === undefined) {
    const form = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    if (form && declared <= UNSIGNED_PING_LIMIT) return null;
    return {
      status: 401,
      code: 'unauthorized',
      error: 'a Slack request needs its X-Slack-Signature and X-Slack-Request-Timestamp',
    };
  }
  const fresh = checkTimestamp('X-Slack-Request-Timestamp', timestamp, now);
  if (!fresh.ok) return { status: 401, code: 'unauthorized', error: fresh.reason };
  if (declared > SLACK_BODY_LIMIT) {
    return {
      status: 413,
      code: 'payload_too_large',
      error: `the body is larger than ${SLACK_BODY_LIMIT} bytes`,
    };
  }
  return null;
}

/**
 * Answers and closes the connection: the body is never read, and a client still sending it should
 * not keep the socket (Node discards what arrives until the close).
 */
function refuse(res: ServerResponse, status: number, code: HttpErrorCode, error: string): void {
  res.setHeader('connection', 'close');
  sendError(res, status, code, error);
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
