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
import { safeRoute, sendJson } from './respond.js';

/** SNS messages are at most 256 KiB of payload plus the envelope. */
const SNS_BODY_LIMIT = 1024 * 1024;

export function snsRoute(
  deps: Pick<AlertRouteDependencies, 'incidents' | 'log' | 'count'> & { verifier: SnsVerifier },
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
        sendJson(res, body.status, { error: body.error });
        return;
      }
      const verified = await deps.verifier.verify(body.value);
      if (!verified.ok) {
        deps.count?.('sns', verified.status === 400 ? 'bad_request' : 'unauthorized', 0);
        log.warn({ status: verified.status, reason: verified.reason }, 'SNS message refused');
        sendJson(res, verified.status, { error: verified.reason });
        return;
      }
      const message = verified.message;
      switch (message.Type) {
        case 'SubscriptionConfirmation': {
          const confirmed = await deps.verifier.confirmSubscription(message);
          if (!confirmed.ok) {
            log.warn({ topic: message.TopicArn, reason: confirmed.reason }, 'SNS subscription not confirmed');
            sendJson(res, confirmed.status, { error: confirmed.reason });
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
            sendJson(res, 400, { error: alarm.reason });
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
