/**
 * CloudWatch alarm notifications: the alarm JSON in an SNS Notification's `Message`, turned into
 * the normalised `Alert`. Pure. Conventions (service and environment from dimensions, tags or the
 * description; ALARM fires, OK resolves, INSUFFICIENT_DATA is ignored) are in docs/alerts.md.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  type Alert,
  type AlertStatus,
  type ParseFailure,
  type UnroutedAlert,
  DEFAULT_ENVIRONMENT,
  LIMITS,
  reasonFrom,
  toSafeMap,
} from './alert.js';
import { type SnsNotification, required, snsDeliveryKey, text } from './sns.js';

// CloudWatch writes `2026-11-23T05:12:03.413+0000`: an offset without a colon.
const CLOUDWATCH_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:?\d{2})$/;

const cloudWatchTime = z
  .string({ error: 'must be a time such as 2026-11-23T05:12:03.413+0000' })
  .max(64)
  .transform((value, ctx) => {
    const match = CLOUDWATCH_TIME.exec(value);
    const zone = match?.[2] === 'Z' ? 'Z' : match?.[2]?.replace(/^([+-]\d{2}):?(\d{2})$/, '$1:$2');
    const ms = match === null ? NaN : Date.parse(`${match[1]}${zone}`);
    if (!Number.isNaN(ms)) return ms;
    ctx.addIssue({ code: 'custom', message: 'not a time such as 2026-11-23T05:12:03.413+0000' });
    return z.NEVER;
  });

const shortText = text(LIMITS.maxLabelValue);
const dimension = z.looseObject({
  name: required(LIMITS.maxLabelName),
  value: shortText,
});

export const cloudWatchAlarmSchema = z.looseObject({
  AlarmName: required(LIMITS.maxLabelValue),
  AlarmDescription: text(LIMITS.maxText).nullish(),
  AWSAccountId: text(32).nullish(),
  NewStateValue: z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']),
  NewStateReason: text(LIMITS.maxText).nullish(),
  OldStateValue: text(32).nullish(),
  StateChangeTime: cloudWatchTime,
  /** A display name (`US East (N. Virginia)`), not a region code. */
  Region: shortText.nullish(),
  AlarmArn: text(2_048).nullish(),
  // Composite and metric-math alarms carry no MetricName or Dimensions: all optional.
  Trigger: z
    .looseObject({
      MetricName: shortText.nullish(),
      Namespace: shortText.nullish(),
      Dimensions: z
        .array(dimension)
        .max(LIMITS.maxLabels, { error: `more than ${LIMITS.maxLabels}` })
        .nullish(),
    })
    .nullish(),
  /** Not sent by CloudWatch; a forwarder may add the alarm's tags, as a list or a map. */
  Tags: z
    .union([
      z.array(z.looseObject({ Key: required(LIMITS.maxLabelName), Value: shortText })).max(LIMITS.maxLabels),
      z.record(text(LIMITS.maxLabelName), shortText),
    ])
    .nullish(),
});

export type CloudWatchAlarm = z.output<typeof cloudWatchAlarmSchema>;

export type CloudWatchDelivery =
  | {
      ok: true;
      alerts: Alert[];
      unrouted: UnroutedAlert[];
      /** Set when the message is valid but opens or closes nothing (INSUFFICIENT_DATA). */
      ignored: string | null;
      deliveryKey: string;
    }
  | ParseFailure;

/**
 * The CloudWatch alarm JSON in a Notification's `Message`, as one alert: ALARM fires, OK resolves,
 * INSUFFICIENT_DATA is ignored with a reason. Conventions are in docs/alerts.md ("Amazon SNS").
 */
export function cloudWatchAlarmAlerts(message: SnsNotification): CloudWatchDelivery {
  let body: unknown;
  try {
    body = JSON.parse(message.Message) as unknown;
  } catch {
    return {
      ok: false,
      reason:
        'Message: not JSON; the SNS receiver reads CloudWatch alarm notifications, whose Message is the alarm as JSON',
    };
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, reason: 'Message: must be a CloudWatch alarm (a JSON object)' };
  }
  const parsed = cloudWatchAlarmSchema.safeParse(body);
  if (!parsed.success) return { ok: false, reason: `Message.${reasonFrom(parsed.error, body)}` };
  const alarm = parsed.data;
  const key = snsDeliveryKey(message);
  if (alarm.NewStateValue === 'INSUFFICIENT_DATA') {
    return {
      ok: true,
      alerts: [],
      unrouted: [],
      ignored: `alarm ${alarm.AlarmName} went to INSUFFICIENT_DATA, which neither fires nor resolves an incident`,
      deliveryKey: key,
    };
  }
  const alert = toAlert(alarm, alarm.NewStateValue === 'ALARM' ? 'firing' : 'resolved', message);
  return alert.service === null
    ? { ok: true, alerts: [], unrouted: [alert], ignored: null, deliveryKey: key }
    : { ok: true, alerts: [alert], unrouted: [], ignored: null, deliveryKey: key };
}

function toAlert(
  alarm: CloudWatchAlarm,
  status: AlertStatus,
  message: SnsNotification,
): Alert | UnroutedAlert {
  const dimensions = alarm.Trigger?.Dimensions ?? [];
  const tags = tagEntries(alarm.Tags);
  const described = descriptionEntries(alarm.AlarmDescription ?? '');
  const find = (...names: string[]) =>
    lookup(
      dimensions.map((d) => [d.name, d.value] as const),
      names,
    ) ??
    lookup(tags, names) ??
    lookup(described, names);
  const service = find('service');
  const environment = find('environment', 'env') ?? DEFAULT_ENVIRONMENT;
  const region = regionOf(alarm.AlarmArn) ?? regionOf(message.TopicArn);

  const labels = toSafeMap({});
  // Dimensions first, so the fields below win over a dimension of the same name.
  for (const { name, value } of dimensions) labels[name] = value;
  labels.alertname = alarm.AlarmName;
  if (service !== undefined) labels.service = service;
  labels.environment = environment;
  if (alarm.Trigger?.Namespace) labels.namespace = alarm.Trigger.Namespace;
  if (alarm.Trigger?.MetricName) labels.metric_name = alarm.Trigger.MetricName;
  if (region !== undefined) labels.aws_region = region;
  if (alarm.AWSAccountId) labels.aws_account_id = alarm.AWSAccountId;

  const annotations = toSafeMap({});
  if (alarm.AlarmDescription) annotations.description = alarm.AlarmDescription;
  if (alarm.NewStateReason) annotations.reason = alarm.NewStateReason;
  if (alarm.OldStateValue) annotations.old_state = alarm.OldStateValue;
  annotations.new_state = alarm.NewStateValue;
  if (alarm.AlarmArn) annotations.alarm_arn = alarm.AlarmArn;

  const identity = alarm.AlarmArn ?? `${alarm.AWSAccountId ?? ''}:${region ?? ''}:${alarm.AlarmName}`;
  return {
    source: 'sns',
    fingerprint: createHash('sha256').update(identity).digest('hex').slice(0, 16),
    status,
    service: service ?? null,
    environment,
    labels,
    annotations,
    // CloudWatch says when this state began; a resolution's start is not in the message.
    startsAt: alarm.StateChangeTime,
    endsAt: status === 'resolved' ? alarm.StateChangeTime : null,
    summary: firstLine(alarm.AlarmDescription) ?? alarm.AlarmName,
    url: consoleUrl(alarm.AlarmArn, alarm.AlarmName, region),
  };
}

type Entry = readonly [string, string];

/** Case-insensitive name lookup; the first non-empty value of the first name that has one. */
function lookup(entries: readonly Entry[], names: readonly string[]): string | undefined {
  for (const name of names) {
    const found = entries.find(([key, value]) => key.toLowerCase() === name && value.trim() !== '');
    if (found) return found[1].trim();
  }
  return undefined;
}

function tagEntries(tags: CloudWatchAlarm['Tags']): Entry[] {
  if (!tags) return [];
  if (Array.isArray(tags)) return tags.map((tag) => [tag.Key, tag.Value] as const);
  return Object.entries(tags);
}

/** `service=checkout` or `service: checkout` tokens in the description, for alarms on AWS metrics. */
function descriptionEntries(description: string): Entry[] {
  const entries: Entry[] = [];
  for (const match of description.matchAll(
    /(?:^|[\s,;])(service|environment|env)\s*[=:]\s*([A-Za-z0-9_.-]+)/gi,
  )) {
    entries.push([match[1]!, match[2]!]);
  }
  return entries;
}

function firstLine(text: string | null | undefined): string | undefined {
  const line = text?.split('\n')[0]?.trim();
  return line === undefined || line === '' ? undefined : line;
}

/** The region code of an ARN (`arn:aws:cloudwatch:eu-west-3:...`), when it holds one. */
function regionOf(arn: string | null | undefined): string | undefined {
  const region = arn?.split(':')[3];
  return region !== undefined && /^[a-z]{2}(-[a-z]+)+-\d+$/.test(region) ? region : undefined;
}

function consoleUrl(
  alarmArn: string | null | undefined,
  name: string,
  region: string | undefined,
): string | null {
  if (region === undefined) return null;
  const partition = alarmArn?.split(':')[1];
  const host =
    partition === 'aws-cn'
      ? 'console.amazonaws.cn'
      : partition === 'aws-us-gov'
        ? 'console.amazonaws-us-gov.com'
        : 'console.aws.amazon.com';
  return `https://${host}/cloudwatch/home?region=${region}#alarmsV2:alarm/${encodeURIComponent(name)}`;
}
