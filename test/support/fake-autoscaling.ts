/**
 * A local Amazon EC2 Auto Scaling API speaking the query protocol the SDK sends (test/support/
 * fake-aws-query.ts): `Action=UpdateAutoScalingGroup&Version=2011-01-01&LaunchTemplate.Version=41`,
 * SigV4 for `autoscaling`, XML answers, errors as `<ErrorResponse><Error><Code>ValidationError`.
 *
 * It models groups (a launch template and its version as the group names it: a number, `$Latest`
 * or `$Default`; or a launch configuration, or a mixed instances policy) and instance refreshes,
 * one active at a time per group as in AWS (a second StartInstanceRefresh is
 * `InstanceRefreshInProgress`). A refresh moves on each DescribeInstanceRefreshes that reads it:
 * `succeed` (Pending, InProgress 50%, Successful), `fail` (Pending, InProgress 50%, Failed with
 * AWS's reason) or `never` (InProgress 0% for ever); a cancelled one goes Cancelling, then
 * Cancelled. Refreshes are listed newest first. A test changes a group or starts a refresh "from
 * elsewhere" (a deploy pipeline). Reach it with AWS_ENDPOINT_URL_AUTO_SCALING.
 */
import { randomUUID } from 'node:crypto';
import type { KeyRing } from './fake-aws-json.js';
import {
  AwsFault,
  field,
  members,
  startAwsQueryPeer,
  type AwsQueryPeer,
  type AwsQueryRequest,
} from './fake-aws-query.js';

export type RefreshPlan = 'succeed' | 'fail' | 'never';

export interface FakeGroup {
  name: string;
  launchTemplate?: { id: string; name: string; version: string };
  launchConfiguration?: string;
  mixed?: boolean;
}

export interface FakeRefresh {
  id: string;
  group: string;
  status: string;
  percentage: number;
  reason?: string;
  startedAt: string;
  endedAt?: string;
  desired?: { id: string; version: string };
  preferences: Record<string, string>;
  plan: RefreshPlan;
}

export interface FakeAutoscaling extends AwsQueryPeer {
  addGroup(group: FakeGroup): void;
  group(name: string): FakeGroup;
  /** The group's launch template version set from elsewhere (a deploy, a human). */
  setVersion(name: string, version: string): void;
  /** Refreshes of the group, oldest first. */
  refreshes(name: string): FakeRefresh[];
  /** A refresh started from elsewhere (a deploy's own), as the API would start it. */
  startElsewhere(name: string, plan: RefreshPlan, desired?: { id: string; version: string }): FakeRefresh;
  /** How the next refreshes started through the API go, first first (default succeed). */
  plans: RefreshPlan[];
}

const NS = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';
const ACTIVE = new Set(['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking']);

export async function startFakeAutoscaling(options: { keys?: KeyRing } = {}): Promise<FakeAutoscaling> {
  const groups = new Map<string, FakeGroup>();
  const refreshes: FakeRefresh[] = [];
  const plans: RefreshPlan[] = [];
  let clock = Date.parse('2026-11-23T06:00:00Z');
  const now = () => new Date((clock += 1000)).toISOString();

  const groupOf = (name: string | undefined): FakeGroup => {
    const group = name === undefined ? undefined : groups.get(name);
    if (!group) throw new AwsFault('ValidationError', `AutoScalingGroup name not found - ${name ?? ''}`);
    return group;
  };
  const active = (name: string) => refreshes.find((r) => r.group === name && ACTIVE.has(r.status));
  const start = (
    name: string,
    plan: RefreshPlan,
    desired: { id: string; version: string } | undefined,
    preferences: Record<string, string>,
  ): FakeRefresh => {
    if (active(name)) {
      throw new AwsFault(
        'InstanceRefreshInProgress',
        'An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.',
      );
    }
    const refresh: FakeRefresh = {
      id: randomUUID(),
      group: name,
      status: 'Pending',
      percentage: 0,
      startedAt: now(),
      preferences,
      plan,
      ...(desired === undefined ? {} : { desired }),
    };
    refreshes.push(refresh);
    return refresh;
  };
  /** One step of a refresh, as time passes between two reads. */
  const move = (r: FakeRefresh) => {
    if (r.status === 'Cancelling') {
      Object.assign(r, { status: 'Cancelled', reason: 'Cancelled due to user request.', endedAt: now() });
    } else if (r.status === 'Pending') {
      r.status = 'InProgress';
    } else if (r.status === 'InProgress' && r.plan !== 'never') {
      if (r.percentage < 50) r.percentage = 50;
      else if (r.plan === 'succeed')
        Object.assign(r, { status: 'Successful', percentage: 100, endedAt: now() });
      else
        Object.assign(r, {
          status: 'Failed',
          endedAt: now(),
          reason:
            'Instance i-0b1c2d3e4f5a6b7c8 failed to launch: the instance did not pass the ELB health check of target group checkout-web.',
        });
    }
  };

  const templateXml = (t: { id: string; name?: string; version: string }) =>
    `<LaunchTemplate>${field('LaunchTemplateId', t.id)}${field('LaunchTemplateName', t.name)}${field('Version', t.version)}</LaunchTemplate>`;
  const groupXml = (g: FakeGroup) => {
    const lt = g.launchTemplate;
    const spec = lt === undefined ? '' : templateXml(lt);
    const launch = g.mixed
      ? `<MixedInstancesPolicy><LaunchTemplate><LaunchTemplateSpecification>${field('LaunchTemplateId', lt?.id)}${field('LaunchTemplateName', lt?.name)}${field('Version', lt?.version)}</LaunchTemplateSpecification><Overrides><member><InstanceType>m7g.large</InstanceType></member></Overrides></LaunchTemplate></MixedInstancesPolicy>`
      : spec;
    return `${field('AutoScalingGroupName', g.name)}${field('AutoScalingGroupARN', `arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:${g.name}`)}${field('LaunchConfigurationName', g.launchConfiguration)}${launch}<MinSize>2</MinSize><MaxSize>6</MaxSize><DesiredCapacity>3</DesiredCapacity><DefaultCooldown>300</DefaultCooldown><AvailabilityZones><member>eu-west-1a</member></AvailabilityZones><HealthCheckType>ELB</HealthCheckType><CreatedTime>2026-01-01T00:00:00Z</CreatedTime>`;
  };
  const refreshXml = (r: FakeRefresh) =>
    `${field('InstanceRefreshId', r.id)}${field('AutoScalingGroupName', r.group)}${field('Status', r.status)}${field('StatusReason', r.reason)}${field('StartTime', r.startedAt)}${field('EndTime', r.endedAt)}${field('PercentageComplete', r.percentage)}${field('InstancesToUpdate', r.status === 'Successful' ? 0 : r.percentage >= 50 ? 2 : 3)}${r.desired === undefined ? '' : `<DesiredConfiguration>${templateXml(r.desired)}</DesiredConfiguration>`}`;

  const handle = (request: AwsQueryRequest): string | undefined => {
    const { params } = request;
    switch (request.action) {
      case 'DescribeAutoScalingGroups': {
        const names = Object.entries(params)
          .filter(([key]) => key.startsWith('AutoScalingGroupNames.member.'))
          .map(([, value]) => value);
        const found = names.flatMap((name) => {
          const group = groups.get(name);
          return group ? [group] : [];
        });
        return `<AutoScalingGroups>${members(found, groupXml)}</AutoScalingGroups>`;
      }
      case 'UpdateAutoScalingGroup': {
        const group = groupOf(params['AutoScalingGroupName']);
        const id = params['LaunchTemplate.LaunchTemplateId'];
        if (id !== undefined) {
          // A plain LaunchTemplate replaces a mixed instances policy, as in AWS.
          group.mixed = false;
          group.launchTemplate = {
            id,
            name: group.launchTemplate?.id === id ? group.launchTemplate.name : id,
            version: params['LaunchTemplate.Version'] ?? '$Default',
          };
        }
        return undefined;
      }
      case 'StartInstanceRefresh': {
        const group = groupOf(params['AutoScalingGroupName']);
        const desiredId = params['DesiredConfiguration.LaunchTemplate.LaunchTemplateId'];
        const preferences = Object.fromEntries(
          Object.entries(params)
            .filter(([key]) => key.startsWith('Preferences.'))
            .map(([key, value]) => [key.slice('Preferences.'.length), value]),
        );
        const refresh = start(
          group.name,
          plans.shift() ?? 'succeed',
          desiredId === undefined
            ? undefined
            : { id: desiredId, version: params['DesiredConfiguration.LaunchTemplate.Version'] ?? '$Default' },
          preferences,
        );
        return field('InstanceRefreshId', refresh.id);
      }
      case 'DescribeInstanceRefreshes': {
        const group = groupOf(params['AutoScalingGroupName']);
        const ids = Object.entries(params)
          .filter(([key]) => key.startsWith('InstanceRefreshIds.member.'))
          .map(([, value]) => value);
        const listed = refreshes
          .filter((r) => r.group === group.name && (ids.length === 0 || ids.includes(r.id)))
          .reverse();
        const size = Number(params['MaxRecords'] ?? 50);
        const from = Number(params['NextToken'] ?? 0);
        const page = listed.slice(from, from + size);
        const answer = `<InstanceRefreshes>${members(page, refreshXml)}</InstanceRefreshes>${field('NextToken', from + size < listed.length ? String(from + size) : undefined)}`;
        for (const r of page) move(r);
        return answer;
      }
      case 'CancelInstanceRefresh': {
        const group = groupOf(params['AutoScalingGroupName']);
        const refresh = active(group.name);
        if (!refresh || refresh.status === 'Cancelling') {
          throw new AwsFault(
            'ActiveInstanceRefreshNotFound',
            `No in progress or pending Instance Refresh found for Auto Scaling group ${group.name}`,
          );
        }
        refresh.status = 'Cancelling';
        return field('InstanceRefreshId', refresh.id);
      }
      default:
        throw new AwsFault(
          'InvalidAction',
          `Could not find operation ${request.action} for version 2011-01-01`,
        );
    }
  };

  const peer = await startAwsQueryPeer({
    signingName: 'autoscaling',
    version: '2011-01-01',
    xmlns: NS,
    handle,
    ...(options.keys === undefined ? {} : { keys: options.keys }),
  });
  return {
    ...peer,
    plans,
    addGroup: (group) => {
      groups.set(group.name, structuredClone(group));
    },
    group: (name) => groupOf(name),
    setVersion: (name, version) => {
      groupOf(name).launchTemplate!.version = version;
    },
    refreshes: (name) => refreshes.filter((r) => r.group === name),
    startElsewhere: (name, plan, desired) => start(name, plan, desired, {}),
  };
}
