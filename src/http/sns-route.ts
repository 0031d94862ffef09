/**
 * `POST /alerts/sns`: Amazon SNS over HTTP(S). SNS cannot send a bearer token; its messages are
 * signed instead, so the signature (with the certificate URL host check and the allowed topics) is
 * the authentication. A SubscriptionConfirmation is confirmed by visiting its SubscribeURL; a
 * Notification carries a CloudWatch alarm, which becomes an alert like any other. SNS retries keep
 * the MessageId, which is the delivery's deduplication key.
 */
import type { CustomRoute } from '@slack/bolt';
import type { SnsVerifier } from '../alerts/sns-signature.js';
import { cloudWatchAlarmAlerts } from '../alerts/sns-cloudwatch.js';
import { answer, type AlertRouteDependencies } from './alert-routes.js';
import { readJsonWithRaw } from './read-json.js';
import { safeRoute, sendError, sendJson, type HttpErrorCode } from './respond.js';

/** SNS messages are at most 256 KiB of payload plus the envelope. */
const SNS_BODY_LIMIT = 1024 * 1024;
const REPLAY_WINDOW_MS = 60 * 60_000;
const CLOCK_SKEW_MS = 5 * 60_000;

export function snsRoute(
  deps: Pick<AlertRouteDependencies, 'incidents' | 'log' | 'count' | 'now'> & { verifier: SnsVerifier },
): CustomRoute {
  const { log } = deps;
  return {
    path: '/alerts/sns',
    method: ['POST'],
    handler: safeRoute(log, async (req, res) => {
      // SNS posts its JSON as text/plain.
      const body = await readJsonWithRaw(req, SNS_BODY_LIMIT, ['text/plain', 'application/json']);
      if (!body.ok) {
        deps.count?.('sns', 'bad_request', 0);
        sendError(res, body.status, body.code, body.error);
        return;
      }
      const verified = await deps.verifier.verify(body.value);
      if (!verified.ok) {
        deps.count?.('sns', verified.status === 400 ? 'bad_request' : 'unauthorized', 0);
        log.warn({ status: verified.status, reason: verified.reason }, 'SNS message refused');
        sendError(res, verified.status, codeFor(verified.status), verified.reason);
        return;
      }
      const message = verified.message;
      // A signed message is signed forever: an old one replayed (email-json subscribers receive
      // signed copies) must not reopen an incident. SNS stops retrying well within the hour.
      const sentAt = Date.parse(message.Timestamp);
      if (!(sentAt > deps.now() - REPLAY_WINDOW_MS && sentAt < deps.now() + CLOCK_SKEW_MS)) {
        deps.count?.('sns', 'unauthorized', 0);
        log.warn(
          { messageId: message.MessageId, timestamp: message.Timestamp },
          'SNS message outside the replay window',
        );
        sendError(
          res,
          403,
          'replay',
          `the message's Timestamp ${message.Timestamp} is more than an hour from now: refused as a replay`,
        );
        return;
      }
      switch (message.Type) {
        case 'SubscriptionConfirmation': {
          const confirmed = await deps.verifier.confirmSubscription(message);
          if (!confirmed.ok) {
            log.warn({ topic: message.TopicArn, reason: confirmed.reason }, 'SNS subscription not confirmed');
            sendError(res, confirmed.status, codeFor(confirmed.status), confirmed.reason);
            return;
          }
          log.info(
            { topic: message.TopicArn, subscription: confirmed.subscriptionArn },
            'SNS subscription confirmed',
          );
          sendJson(res, 200, { confirmed: true, subscriptionArn: confirmed.subscriptionArn });
          return;
        }
        case 'UnsubscribeConfirmation':
          log.warn({ topic: message.TopicArn }, 'SNS says this endpoint was unsubscribed');
          sendJson(res, 200, { ok: true });
          return;
        case 'Notification': {
          const alarm = cloudWatchAlarmAlerts(message);
          if (!alarm.ok) {
            deps.count?.('sns', 'bad_request', 0);
            sendError(res, 400, 'bad_request', alarm.reason);
            return;
          }
          if (alarm.ignored !== null) {
            sendJson(res, 200, { accepted: 0, ignored: alarm.ignored });
            return;
          }
          await answer(deps, res, 'sns', {
            key: alarm.deliveryKey,
            alerts: alarm.alerts,
            unrouted: alarm.unrouted,
            truncated: 0,
          });
          return;
        }
      }
    }),
  };
}

/** The SNS checks answer with a status alone: 400 malformed, 403 refused, 503 SNS unreachable. */
function codeFor(status: 400 | 403 | 503): HttpErrorCode {
  return status === 400 ? 'bad_request' : status === 403 ? 'forbidden' : 'unavailable';
}
