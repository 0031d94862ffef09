import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cloudWatchAlarmAlerts } from '../../../src/alerts/sns-cloudwatch.js';
import {
  type SnsNotification,
  checkTopic,
  parseSnsMessage,
  snsDeliveryKey,
  stringToSign,
} from '../../../src/alerts/sns.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/alerts', name), 'utf8')) as Record<
    string,
    unknown
  >;
const notificationBody = fixture('sns-cloudwatch-alarm.json');
const confirmationBody = fixture('sns-subscription-confirmation.json');
const alarmOf = (body: Record<string, unknown>) =>
  JSON.parse(body.Message as string) as Record<string, unknown>;
const TOPIC = 'arn:aws:sns:eu-west-3:123456789012:rollback-bot-alerts';

function notification(overrides: Record<string, unknown> = {}): SnsNotification {
  const parsed = parseSnsMessage({ ...notificationBody, ...overrides });
  if (!parsed.ok) throw new Error(parsed.reason);
  if (parsed.message.Type !== 'Notification') throw new Error('not a notification');
  return parsed.message;
}

/** The fixture's notification with its alarm JSON changed. */
function withAlarm(change: (alarm: Record<string, unknown>) => void): SnsNotification {
  const alarm = alarmOf(notificationBody);
  change(alarm);
  return notification({ Message: JSON.stringify(alarm) });
}

describe('parseSnsMessage', () => {
  it('reads the recorded Notification and SubscriptionConfirmation shapes', () => {
    const note = parseSnsMessage(notificationBody);
    expect(note).toMatchObject({
      ok: true,
      message: {
        Type: 'Notification',
        MessageId: '6f2a9a4e-5c0b-5d7e-9f3a-1b2c3d4e5f60',
        TopicArn: TOPIC,
        Subject: 'ALARM: "checkout-5xx-rate" in EU (Paris)',
        SignatureVersion: '1',
      },
    });
    const confirmation = parseSnsMessage(confirmationBody);
    expect(confirmation).toMatchObject({
      ok: true,
      message: { Type: 'SubscriptionConfirmation', Token: expect.stringMatching(/^2336412f/) as unknown },
    });
  });

  it('treats a null Subject as absent', () => {
    expect(notification({ Subject: null }).Subject).toBeUndefined();
  });

  it.each([
    [
      'an unknown Type',
      { Type: 'Alarm' },
      /^Type: must be one of "Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"/,
    ],
    ['a missing TopicArn', { TopicArn: undefined }, /^TopicArn: is required$/],
    [
      'a queue ARN as TopicArn',
      { TopicArn: 'arn:aws:sqs:eu-west-3:123456789012:q' },
      /^TopicArn: must be an SNS topic ARN/,
    ],
    ['a number as MessageId', { MessageId: 42 }, /^MessageId: must be text, not the number 42$/],
    ['SignatureVersion 3', { SignatureVersion: '3' }, /^SignatureVersion: must be one of "1", "2"/],
    ['SignatureVersion as a number', { SignatureVersion: 1 }, /^SignatureVersion: must be one of "1", "2"/],
    ['an object as Message', { Message: { AlarmName: 'x' } }, /^Message: must be text, not a mapping$/],
    ['a Timestamp without zone', { Timestamp: '2026-11-23T05:12:03' }, /^Timestamp: not an ISO time/],
    ['an empty Signature', { Signature: '' }, /^Signature: must not be empty$/],
    ['a huge Message', { Message: 'x'.repeat(262_145) }, /^Message: longer than 262144 characters$/],
  ])('refuses %s with the field and a plain reason', (_name, change, reason) => {
    const result = parseSnsMessage({ ...notificationBody, ...change });
    expect(result).toMatchObject({ ok: false, status: 400 });
    expect(!result.ok && result.reason).toMatch(reason);
  });

  it('refuses a confirmation without its Token or SubscribeURL', () => {
    expect(parseSnsMessage({ ...confirmationBody, Token: undefined })).toEqual({
      ok: false,
      status: 400,
      reason: 'Token: is required',
    });
    expect(parseSnsMessage({ ...confirmationBody, SubscribeURL: ['x'] })).toMatchObject({
      ok: false,
      reason: 'SubscribeURL: must be text, not a list',
    });
  });

  it.each([
    ['null', null],
    ['text', 'text'],
    ['a number', 42],
    ['a list', [notificationBody]],
  ])('refuses a body that is not an object (%s)', (_name, body) => {
    expect(parseSnsMessage(body)).toEqual({
      ok: false,
      status: 400,
      reason: 'body: must be an SNS message (a JSON object)',
    });
  });
});

describe('stringToSign', () => {
  it('signs a Notification in AWS order, Subject included when present', () => {
    const message = notification({ Message: 'hello\nworld', Subject: 'Hi' });
    expect(stringToSign(message)).toBe(
      [
        'Message',
        'hello\nworld',
        'MessageId',
        '6f2a9a4e-5c0b-5d7e-9f3a-1b2c3d4e5f60',
        'Subject',
        'Hi',
        'Timestamp',
        '2026-11-23T05:12:03.456Z',
        'TopicArn',
        TOPIC,
        'Type',
        'Notification',
        '',
      ].join('\n'),
    );
  });

  it('leaves an absent Subject out, and never signs the unsigned fields', () => {
    const message = notification({
      Subject: undefined,
      MessageAttributes: { a: { Type: 'String', Value: 'b' } },
    });
    const text = stringToSign(message);
    expect(text).not.toContain('Subject');
    expect(text).not.toContain('UnsubscribeURL');
    expect(text).not.toContain('MessageAttributes');
    expect(text.split('\n').filter((_line, i) => i % 2 === 0)).toEqual([
      'Message',
      'MessageId',
      'Timestamp',
      'TopicArn',
      'Type',
      '',
    ]);
  });

  it('signs confirmations with SubscribeURL and Token', () => {
    for (const Type of ['SubscriptionConfirmation', 'UnsubscribeConfirmation']) {
      const parsed = parseSnsMessage({ ...confirmationBody, Type, Subject: 'ignored', Message: 'one line' });
      if (!parsed.ok) throw new Error(parsed.reason);
      const names = stringToSign(parsed.message)
        .split('\n')
        .filter((_line, i) => i % 2 === 0);
      expect(names).toEqual([
        'Message',
        'MessageId',
        'SubscribeURL',
        'Timestamp',
        'Token',
        'TopicArn',
        'Type',
        '',
      ]);
      expect(stringToSign(parsed.message)).toContain(`Type\n${Type}\n`);
    }
  });
});

describe('checkTopic', () => {
  it('accepts a listed topic only, and says how to allow one', () => {
    expect(checkTopic(TOPIC, [TOPIC])).toEqual({ ok: true });
    expect(checkTopic(TOPIC, ['arn:aws:sns:eu-west-3:123456789012:other'])).toEqual({
      ok: false,
      status: 403,
      reason: `topic ${TOPIC} is not in SNS_TOPIC_ARNS; add it there to accept its messages`,
    });
  });

  it('refuses every topic when SNS_TOPIC_ARNS is unset', () => {
    expect(checkTopic(TOPIC, [])).toMatchObject({
      ok: false,
      status: 403,
      reason: expect.stringContaining('SNS_TOPIC_ARNS is not set') as unknown,
    });
  });
});

describe('snsDeliveryKey', () => {
  it('is the same for a retry (same MessageId, new signature and time) and differs otherwise', () => {
    const first = notification();
    const retry = notification({ Signature: 'b3RoZXI=', Timestamp: '2026-11-23T05:12:23.001Z' });
    expect(snsDeliveryKey(retry)).toBe(snsDeliveryKey(first));
    expect(snsDeliveryKey(first)).toMatch(/^sns:[0-9a-f]{64}$/);
    expect(snsDeliveryKey(notification({ MessageId: 'another-id' }))).not.toBe(snsDeliveryKey(first));
  });
});

describe('cloudWatchAlarmAlerts', () => {
  it('turns the recorded ALARM into a firing alert routed by its Service dimension', () => {
    const result = cloudWatchAlarmAlerts(notification());
    if (!result.ok) throw new Error(result.reason);
    expect(result.ignored).toBeNull();
    expect(result.unrouted).toEqual([]);
    expect(result.deliveryKey).toBe(snsDeliveryKey(notification()));
    const alert = result.alerts[0]!;
    expect(alert).toMatchObject({
      source: 'sns',
      status: 'firing',
      service: 'checkout',
      environment: 'production',
      startsAt: Date.parse('2026-11-23T05:12:03.413Z'),
      endsAt: null,
      summary: 'Checkout 5xx ratio above 5 % for 5 minutes',
      url: 'https://console.aws.amazon.com/cloudwatch/home?region=eu-west-3#alarmsV2:alarm/checkout-5xx-rate',
    });
    expect(alert.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect({ ...alert.labels }).toEqual({
      LoadBalancer: 'app/checkout-prod/50dc6c495c0c9188',
      Service: 'checkout',
      Environment: 'production',
      alertname: 'checkout-5xx-rate',
      service: 'checkout',
      environment: 'production',
      namespace: 'AWS/ApplicationELB',
      metric_name: 'HTTPCode_Target_5XX_Count',
      aws_region: 'eu-west-3',
      aws_account_id: '123456789012',
    });
    expect(alert.annotations).toMatchObject({
      reason: expect.stringMatching(/^Threshold Crossed/) as unknown,
      old_state: 'OK',
      new_state: 'ALARM',
      alarm_arn: 'arn:aws:cloudwatch:eu-west-3:123456789012:alarm:checkout-5xx-rate',
    });
  });

  it('resolves on OK with the same fingerprint, ending at the state change', () => {
    const firing = cloudWatchAlarmAlerts(notification());
    const ok = cloudWatchAlarmAlerts(
      withAlarm((alarm) => {
        alarm.NewStateValue = 'OK';
        alarm.OldStateValue = 'ALARM';
        alarm.StateChangeTime = '2026-11-23T05:40:00.000-0100';
      }),
    );
    if (!firing.ok || !ok.ok) throw new Error('expected both to parse');
    expect(ok.alerts[0]).toMatchObject({
      status: 'resolved',
      fingerprint: firing.alerts[0]!.fingerprint,
      endsAt: Date.parse('2026-11-23T06:40:00.000Z'),
    });
  });

  it('ignores INSUFFICIENT_DATA with a reason', () => {
    const result = cloudWatchAlarmAlerts(withAlarm((alarm) => (alarm.NewStateValue = 'INSUFFICIENT_DATA')));
    expect(result).toMatchObject({
      ok: true,
      alerts: [],
      unrouted: [],
      ignored:
        'alarm checkout-5xx-rate went to INSUFFICIENT_DATA, which neither fires nor resolves an incident',
    });
  });

  it('reads the environment from an env dimension, and sets an alarm without service apart', () => {
    const staging = cloudWatchAlarmAlerts(
      withAlarm((alarm) => {
        (alarm.Trigger as { Dimensions: unknown[] }).Dimensions = [
          { name: 'SERVICE', value: 'checkout' },
          { name: 'env', value: 'staging' },
        ];
      }),
    );
    expect(staging.ok && staging.alerts[0]).toMatchObject({ service: 'checkout', environment: 'staging' });

    const unrouted = cloudWatchAlarmAlerts(
      withAlarm((alarm) => {
        (alarm.Trigger as { Dimensions: unknown[] }).Dimensions = [{ name: 'InstanceId', value: 'i-0abc' }];
        alarm.AlarmDescription = 'CPU high';
      }),
    );
    expect(unrouted).toMatchObject({ ok: true, alerts: [] });
    expect(unrouted.ok && unrouted.unrouted[0]).toMatchObject({
      service: null,
      environment: 'production',
      labels: { InstanceId: 'i-0abc', alertname: 'checkout-5xx-rate' },
    });
  });

  it('falls back to tags, then to service= in the description (alarms on AWS metrics)', () => {
    const tagged = cloudWatchAlarmAlerts(
      withAlarm((alarm) => {
        alarm.Trigger = { MetricName: 'CPUUtilization', Namespace: 'AWS/EC2', Dimensions: [] };
        alarm.Tags = [
          { Key: 'Service', Value: 'payments' },
          { Key: 'Env', Value: 'qa' },
        ];
      }),
    );
    expect(tagged.ok && tagged.alerts[0]).toMatchObject({ service: 'payments', environment: 'qa' });

    const described = cloudWatchAlarmAlerts(
      withAlarm((alarm) => {
        delete alarm.Trigger;
        alarm.AlarmDescription = 'Composite: checkout is down.\nservice=checkout, environment: staging';
      }),
    );
    expect(described.ok && described.alerts[0]).toMatchObject({
      service: 'checkout',
      environment: 'staging',
      summary: 'Composite: checkout is down.',
    });
  });

  it('keeps a fingerprint per alarm ARN, or per account, region and name without one', () => {
    const fingerprint = (change: (alarm: Record<string, unknown>) => void) => {
      const result = cloudWatchAlarmAlerts(withAlarm(change));
      return result.ok ? result.alerts[0]!.fingerprint : result.reason;
    };
    const base = fingerprint(() => undefined);
    expect(fingerprint((a) => (a.AlarmDescription = 'changed'))).toBe(base);
    expect(fingerprint((a) => (a.AlarmArn = `${a.AlarmArn as string}-2`))).not.toBe(base);
    const noArn = fingerprint((a) => delete a.AlarmArn);
    expect(noArn).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint((a) => delete a.AlarmArn)).toBe(noArn);
    expect(fingerprint((a) => ((a.AlarmName = 'other'), delete a.AlarmArn))).not.toBe(noArn);
  });

  it('keeps hostile dimension names as plain data', () => {
    const result = cloudWatchAlarmAlerts(
      withAlarm((alarm) => {
        (alarm.Trigger as { Dimensions: unknown[] }).Dimensions = [
          { name: '__proto__', value: 'polluted' },
          { name: 'service', value: 'checkout' },
        ];
      }),
    );
    const labels = result.ok ? result.alerts[0]!.labels : {};
    expect(Object.getPrototypeOf(labels)).toBeNull();
    expect(Object.prototype.hasOwnProperty.call(labels, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['a Message that is not JSON', 'ALARM! checkout is down', /^Message: not JSON; /],
    ['a JSON list', '[1,2]', /^Message: must be a CloudWatch alarm/],
    ['a missing AlarmName', JSON.stringify({ NewStateValue: 'ALARM' }), /^Message\.AlarmName: is required$/],
  ])('refuses %s', (_name, Message, reason) => {
    const result = cloudWatchAlarmAlerts(notification({ Message }));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(reason);
  });

  it.each([
    [
      'a number as NewStateValue',
      (a: Record<string, unknown>) => (a.NewStateValue = 1),
      /^Message\.NewStateValue: must be one of "ALARM", "OK", "INSUFFICIENT_DATA"/,
    ],
    [
      'an unknown state',
      (a: Record<string, unknown>) => (a.NewStateValue = 'alarm'),
      /^Message\.NewStateValue: must be one of/,
    ],
    [
      'a bad StateChangeTime',
      (a: Record<string, unknown>) => (a.StateChangeTime = 'yesterday'),
      /^Message\.StateChangeTime: not a time/,
    ],
    [
      'a dimension value that is not text',
      (a: Record<string, unknown>) =>
        ((a.Trigger as { Dimensions: unknown[] }).Dimensions = [{ name: 'service', value: 7 }]),
      /^Message\.Trigger\.Dimensions\[0\]\.value: must be text/,
    ],
    [
      'too many dimensions',
      (a: Record<string, unknown>) =>
        ((a.Trigger as { Dimensions: unknown[] }).Dimensions = Array.from({ length: 101 }, (_v, i) => ({
          name: `d${i}`,
          value: 'x',
        }))),
      /^Message\.Trigger\.Dimensions: more than 100$/,
    ],
  ])('refuses an alarm with %s', (_name, change, reason) => {
    const result = cloudWatchAlarmAlerts(withAlarm(change));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(reason);
  });
});
