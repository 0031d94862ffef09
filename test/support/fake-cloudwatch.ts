/**
 * A local CloudWatch for the cloudwatch executor. The installed SDK speaks JSON 1.0 to CloudWatch
 * in its query-compatible form (`X-Amz-Target: GraniteServiceVersion20100801.<Operation>`,
 * `x-amzn-query-mode: true`, timestamps as epoch seconds, errors with `x-amzn-query-error`), so
 * this peer speaks exactly that (test/support/fake-aws-json.ts). It answers GetMetricData from
 * datapoints a test puts on a metric (matched by namespace, name, dimensions, statistic and
 * period; only those inside [StartTime, EndTime), newest first, in pages with StatusCode
 * PartialData and a NextToken) and DescribeAlarms from alarms a test sets. Reach it with AWS_ENDPOINT_URL_CLOUDWATCH.
 */
import {
  AwsFault,
  startAwsJsonPeer,
  type AwsJsonPeer,
  type AwsJsonRequest,
  type KeyRing,
} from './fake-aws-json.js';

export interface MetricKey {
  namespace: string;
  name: string;
  dimensions?: Record<string, string>;
  stat: string;
  period: number;
}

export interface FakeAlarm {
  name: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  reason?: string;
  composite?: boolean;
  updatedAt?: number;
}

export interface FakeCloudwatch extends AwsJsonPeer {
  /** Datapoints of a metric, as [epoch seconds, value]. */
  putData(key: MetricKey, points: readonly (readonly [number, number])[]): void;
  setAlarm(alarm: FakeAlarm): void;
  /** Answer the metric's query with this status code (Forbidden, InternalError) and message. */
  statusOf(key: MetricKey, status: string, message?: string): void;
  /** The most datapoints a GetMetricData page holds (default 100,800, AWS's); more: PartialData. */
  pointsPerPage: number;
  /**
   * DescribeAlarms pages answered empty, with a NextToken, before the alarms: AWS does not promise
   * a page holds what was asked (default 0).
   */
  emptyAlarmPages: number;
}

const keyOf = (
  namespace: string,
  name: string,
  dimensions: Record<string, string>,
  stat: string,
  period: number,
) =>
  JSON.stringify([
    namespace,
    name,
    Object.entries(dimensions).sort(([a], [b]) => (a < b ? -1 : 1)),
    stat,
    period,
  ]);

export async function startFakeCloudwatch(options: { keys?: KeyRing } = {}): Promise<FakeCloudwatch> {
  const data = new Map<string, (readonly [number, number])[]>();
  const statuses = new Map<string, { status: string; message?: string }>();
  const alarms = new Map<string, FakeAlarm>();
  const paging = { pointsPerPage: 100_800, emptyAlarmPages: 0 };

  const handle = (request: AwsJsonRequest): unknown => {
    const { body } = request;
    switch (request.operation) {
      case 'GetMetricData': {
        const queries = Array.isArray(body['MetricDataQueries'])
          ? (body['MetricDataQueries'] as Record<string, unknown>[])
          : [];
        const start = body['StartTime'];
        const end = body['EndTime'];
        if (typeof start !== 'number' || typeof end !== 'number' || start >= end) {
          throw new AwsFault(
            'InvalidParameterValue',
            'The parameter StartTime must be less than the parameter EndTime.',
          );
        }
        const messages: { Code: string; Value: string }[] = [];
        // Pages of at most MaxDatapoints (AWS's default 100,800) datapoints, as offsets in NextToken.
        const size = Math.min(Number(body['MaxDatapoints'] ?? 100_800), paging.pointsPerPage);
        const from = Number(body['NextToken'] ?? 0);
        const paged = { more: false };
        const results = queries.map((query) => {
          const stat = query['MetricStat'] as Record<string, unknown>;
          const metric = stat['Metric'] as Record<string, unknown>;
          const dimensions = Object.fromEntries(
            ((metric['Dimensions'] ?? []) as { Name: string; Value: string }[]).map((d) => [d.Name, d.Value]),
          );
          const key = keyOf(
            String(metric['Namespace']),
            String(metric['MetricName']),
            dimensions,
            String(stat['Stat']),
            Number(stat['Period']),
          );
          const status = statuses.get(key);
          if (status?.message !== undefined) messages.push({ Code: status.status, Value: status.message });
          const points = (data.get(key) ?? [])
            .filter(([t]) => t >= start && t < end)
            .sort(([a], [b]) => (body['ScanBy'] === 'TimestampAscending' ? a - b : b - a));
          const page = points.slice(from, from + size);
          if (from + size < points.length) paged.more = true;
          return {
            Id: query['Id'],
            Label: metric['MetricName'],
            Timestamps: page.map(([t]) => t),
            Values: page.map(([, v]) => v),
            StatusCode: status?.status ?? (from + size < points.length ? 'PartialData' : 'Complete'),
          };
        });
        return {
          MetricDataResults: results,
          Messages: messages,
          ...(paged.more ? { NextToken: String(from + size) } : {}),
        };
      }
      case 'DescribeAlarms': {
        const names = Array.isArray(body['AlarmNames'])
          ? (body['AlarmNames'] as string[])
          : [...alarms.keys()];
        const types = Array.isArray(body['AlarmTypes']) ? (body['AlarmTypes'] as string[]) : ['MetricAlarm'];
        const found = names.flatMap((name) => {
          const alarm = alarms.get(name);
          return alarm ? [alarm] : [];
        });
        const shape = (a: FakeAlarm) => ({
          AlarmName: a.name,
          AlarmArn: `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${a.name}`,
          StateValue: a.state,
          StateReason: a.reason ?? `Threshold ${a.state === 'ALARM' ? 'Crossed' : 'not crossed'}`,
          StateUpdatedTimestamp: a.updatedAt ?? 1_700_000_000,
        });
        if (paging.emptyAlarmPages > 0 && body['NextToken'] === undefined) {
          paging.emptyAlarmPages -= 1;
          return { MetricAlarms: [], CompositeAlarms: [], NextToken: 'after-an-empty-page' };
        }
        return {
          MetricAlarms: types.includes('MetricAlarm')
            ? found.filter((a) => a.composite !== true).map(shape)
            : [],
          CompositeAlarms: types.includes('CompositeAlarm')
            ? found.filter((a) => a.composite === true).map(shape)
            : [],
        };
      }
      default:
        throw new AwsFault('InvalidAction', `unknown operation ${request.operation}`);
    }
  };

  const peer = await startAwsJsonPeer({
    signingName: 'monitoring',
    targetPrefix: 'GraniteServiceVersion20100801.',
    version: '1.0',
    queryCompatible: true,
    handle,
    ...(options.keys === undefined ? {} : { keys: options.keys }),
  });
  const keyFor = (key: MetricKey) =>
    keyOf(key.namespace, key.name, key.dimensions ?? {}, key.stat, key.period);
  return {
    ...peer,
    putData: (key, points) => {
      data.set(keyFor(key), [...points]);
    },
    setAlarm: (alarm) => {
      alarms.set(alarm.name, alarm);
    },
    statusOf: (key, status, message) => {
      statuses.set(keyFor(key), { status, ...(message === undefined ? {} : { message }) });
    },
    get pointsPerPage() {
      return paging.pointsPerPage;
    },
    set pointsPerPage(size: number) {
      paging.pointsPerPage = size;
    },
    get emptyAlarmPages() {
      return paging.emptyAlarmPages;
    },
    set emptyAlarmPages(pages: number) {
      paging.emptyAlarmPages = pages;
    },
  };
}
