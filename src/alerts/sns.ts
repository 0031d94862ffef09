/**
 * Amazon SNS HTTP(S) deliveries to `POST /alerts/sns`: the message envelope, the exact string SNS
 * signs, the topic allow-list and the delivery key. Pure: no I/O, no clock. CloudWatch alarms in a
 * Notification become alerts in sns-cloudwatch.ts; signatures and the subscription confirmation
 * are checked in sns-signature.ts.
 * https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html
 * https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
 */
import { z } from 'zod';
import { deliveryKey, reasonFrom } from './alert.js';

export const SNS_MESSAGE_TYPES = [
  'Notification',
  'SubscriptionConfirmation',
  'UnsubscribeConfirmation',
] as const;

export const SNS_LIMITS = {
  /** SNS's own maximum message size (256 KiB); counted in characters here, which is never more. */
  maxMessage: 262_144,
  /** SNS caps subjects at 100 characters; a little slack for other SNS-compatible senders. */
  maxSubject: 1_024,
  maxUrl: 2_048,
  maxSignature: 2_048,
} as const;

/** `arn:aws:sns:us-east-1:123456789012:alerts` (also aws-cn, aws-us-gov, and `.fifo` topics). */
export const TOPIC_ARN = /^arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

export const text = (max: number) =>
  z.string({ error: 'must be text' }).max(max, { error: `longer than ${max} characters` });
export const required = (max: number) => text(max).min(1, { error: 'must not be empty' });

/**
 * SNS writes `2026-11-23T05:12:03.413Z`. Kept as the exact text: it is part of the string to sign.
 */
const timestamp = required(64).refine(
  (value) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(value) && !Number.isNaN(Date.parse(value)),
  { error: 'not an ISO time such as 2026-11-23T05:12:03.413Z' },
);

const envelope = {
  MessageId: required(256).regex(/^[A-Za-z0-9-]+$/, { error: 'must be a message id such as a UUID' }),
  TopicArn: required(512).regex(TOPIC_ARN, {
    error: 'must be an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:alerts',
  }),
  Message: text(SNS_LIMITS.maxMessage),
  Timestamp: timestamp,
  SignatureVersion: z.enum(['1', '2']),
  Signature: required(SNS_LIMITS.maxSignature),
  SigningCertURL: required(SNS_LIMITS.maxUrl),
};

// Loose: SNS adds fields over time (MessageAttributes, UnsubscribeURL on confirmations); only the
// fields below are signed, so extra ones are read past, never trusted.
export const snsNotificationSchema = z.looseObject({
  Type: z.literal('Notification'),
  ...envelope,
  // Absent when the publisher gave none; some SNS-compatible senders write null.
  Subject: text(SNS_LIMITS.maxSubject)
    .nullish()
    .transform((value) => value ?? undefined),
  UnsubscribeURL: text(SNS_LIMITS.maxUrl).optional(),
});

const confirmation = {
  ...envelope,
  SubscribeURL: required(SNS_LIMITS.maxUrl),
  Token: required(1_024),
};

export const snsSubscriptionConfirmationSchema = z.looseObject({
  Type: z.literal('SubscriptionConfirmation'),
  ...confirmation,
});

export const snsUnsubscribeConfirmationSchema = z.looseObject({
  Type: z.literal('UnsubscribeConfirmation'),
  ...confirmation,
});

export const snsMessageSchema = z.discriminatedUnion('Type', [
  snsNotificationSchema,
  snsSubscriptionConfirmationSchema,
  snsUnsubscribeConfirmationSchema,
]);

export type SnsNotification = z.output<typeof snsNotificationSchema>;
export type SnsSubscriptionConfirmation = z.output<typeof snsSubscriptionConfirmationSchema>;
export type SnsUnsubscribeConfirmation = z.output<typeof snsUnsubscribeConfirmationSchema>;
export type SnsMessage = z.output<typeof snsMessageSchema>;

export type ParsedSnsMessage = { ok: true; message: SnsMessage } | { ok: false; status: 400; reason: string };

export function parseSnsMessage(body: unknown): ParsedSnsMessage {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, status: 400, reason: 'body: must be an SNS message (a JSON object)' };
  }
  const parsed = snsMessageSchema.safeParse(body);
  if (!parsed.success) return { ok: false, status: 400, reason: reasonFrom(parsed.error, body) };
  return { ok: true, message: parsed.data };
}

/**
 * The string SNS signs: `Name\nvalue\n` for each signed field, in byte order of the names, which
 * is AWS's fixed order per type. A Notification's Subject is signed only when present.
 */
export function stringToSign(message: SnsMessage): string {
  const fields: [string, string | undefined][] =
    message.Type === 'Notification'
      ? [
          ['Message', message.Message],
          ['MessageId', message.MessageId],
          ['Subject', message.Subject],
          ['Timestamp', message.Timestamp],
          ['TopicArn', message.TopicArn],
          ['Type', message.Type],
        ]
      : [
          ['Message', message.Message],
          ['MessageId', message.MessageId],
          ['SubscribeURL', message.SubscribeURL],
          ['Timestamp', message.Timestamp],
          ['Token', message.Token],
          ['TopicArn', message.TopicArn],
          ['Type', message.Type],
        ];
  return fields
    .filter((field): field is [string, string] => field[1] !== undefined)
    .map(([name, value]) => `${name}\n${value}\n`)
    .join('');
}

export type TopicCheck = { ok: true } | { ok: false; status: 403; reason: string };

/** Exact ARN match against `SNS_TOPIC_ARNS`; an empty list refuses every topic, saying so. */
export function checkTopic(topicArn: string, allowed: readonly string[]): TopicCheck {
  if (allowed.length === 0) {
    return {
      ok: false,
      status: 403,
      reason: `topic ${topicArn} refused: SNS_TOPIC_ARNS is not set, so the SNS receiver accepts no topic; add this ARN to it`,
    };
  }
  if (allowed.includes(topicArn)) return { ok: true };
  return {
    ok: false,
    status: 403,
    reason: `topic ${topicArn} is not in SNS_TOPIC_ARNS; add it there to accept its messages`,
  };
}

/**
 * SNS redelivers with the same MessageId (and a fresh signature): the key ignores everything else.
 * Hashed like the other receivers' keys.
 */
export function snsDeliveryKey(message: Pick<SnsMessage, 'TopicArn' | 'MessageId'>): string {
  return deliveryKey('sns', `${message.TopicArn} ${message.MessageId}`, []);
}
