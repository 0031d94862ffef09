/**
 * An Auto Scaling group as the executor reads and changes it: the launch template it names (and
 * the version, a number or `$Latest`/`$Default`, read from EC2 as the number it is now), the
 * template's versions up to that one (every page), the version a step restores, and the group's
 * instance refreshes.
 */
import {
  ActiveInstanceRefreshNotFoundFault,
  CancelInstanceRefreshCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  StartInstanceRefreshCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingClient,
  type InstanceRefresh,
  type RefreshPreferences,
} from '@aws-sdk/client-auto-scaling';
import { AwsError, awsCall } from '../aws-kit.js';
import type { TargetState } from '../executor.js';
import type { Ec2 } from './ec2.js';
import type { AutoscalingParams } from './params.js';

/** The launch template a group names, and the version as it names it (`41`, `$Latest`, `$Default`). */
export interface GroupTemplate {
  id: string;
  name: string;
  version: string;
}

export interface TemplateVersion {
  number: number;
  description?: string;
}

/** Refreshes that still run: only one of them per group at a time, in AWS too. */
const ACTIVE = new Set(['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking']);
export const isActive = (refresh: InstanceRefresh): boolean => ACTIVE.has(refresh.Status ?? '');

/** A refresh whose desired configuration is the template at exactly `version` (as the step starts them). */
export const isFor = (refresh: InstanceRefresh, templateId: string, version: number): boolean => {
  const wanted = refresh.DesiredConfiguration?.LaunchTemplate;
  return wanted?.LaunchTemplateId === templateId && wanted.Version === String(version);
};

/**
 * `version 41`, as the SSM and AppConfig steps name theirs; a one-word description is taken as the
 * release CI wrote there (`v1.4.1`), so --to and the recorded versions work as for images.
 */
export function versionState(version: TemplateVersion): TargetState {
  const description = version.description?.trim();
  return {
    revision: `version ${version.number}`,
    ...(description !== undefined && /^\S{1,128}$/.test(description) ? { version: description } : {}),
    images: [],
  };
}

/** The version to restore among the template's versions up to the current one, or why none can be. */
export function chooseVersion(
  versions: readonly TemplateVersion[],
  current: number,
  toVersion: string | null,
  object: string,
): { ok: true; version: TemplateVersion } | { ok: false; error: string } {
  const newestFirst = [...versions].filter((v) => v.number <= current).sort((a, b) => b.number - a.number);
  if (toVersion !== null && toVersion !== '') {
    const described = newestFirst.find((v) => v.description?.trim() === toVersion);
    if (described) return { ok: true, version: described };
  }
  const previous = newestFirst.find((v) => v.number < current);
  if (previous) return { ok: true, version: previous };
  return {
    ok: false,
    error: `${object} has no launch template version before version ${current} to go back to`,
  };
}

export function autoscalingApi(
  autoscaling: AutoScalingClient,
  ec2: Ec2,
  params: AutoscalingParams,
  signal: AbortSignal,
) {
  const name = params.autoScalingGroup;
  const object = `asg ${name}`;
  const refreshes = async (ids?: string[]): Promise<InstanceRefresh[]> => {
    const answer = await awsCall('Auto Scaling DescribeInstanceRefreshes', signal, (options) =>
      autoscaling.send(
        new DescribeInstanceRefreshesCommand({
          AutoScalingGroupName: name,
          ...(ids === undefined ? { MaxRecords: 10 } : { InstanceRefreshIds: ids }),
        }),
        options,
      ),
    );
    return answer.InstanceRefreshes ?? [];
  };

  return {
    /** The launch template the group names; refused for a launch configuration or a mixed instances policy. */
    async group(): Promise<GroupTemplate> {
      const answer = await awsCall('Auto Scaling DescribeAutoScalingGroups', signal, (options) =>
        autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }), options),
      );
      const group = answer.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === name);
      if (!group) throw new AwsError(`${object} not found`);
      if (group.MixedInstancesPolicy !== undefined) {
        throw new AwsError(
          `${object} uses a mixed instances policy: aws-autoscaling only restores the launch template of a group that names one directly`,
        );
      }
      const spec = group.LaunchTemplate;
      if (spec?.LaunchTemplateId === undefined) {
        throw new AwsError(
          group.LaunchConfigurationName === undefined
            ? `${object} names no launch template`
            : `${object} uses launch configuration ${group.LaunchConfigurationName}, not a launch template`,
        );
      }
      return {
        id: spec.LaunchTemplateId,
        name: spec.LaunchTemplateName ?? spec.LaunchTemplateId,
        version: spec.Version ?? '$Default',
      };
    },

    /** One version of the template: a number, `$Latest` or `$Default`, as the number it is. */
    async version(template: GroupTemplate, version: string): Promise<TemplateVersion> {
      const answer = await awsCall('EC2 DescribeLaunchTemplateVersions', signal, (options) =>
        ec2.client.send(
          new ec2.sdk.DescribeLaunchTemplateVersionsCommand({
            LaunchTemplateId: template.id,
            Versions: [version],
          }),
          options,
        ),
      );
      const found = answer.LaunchTemplateVersions?.[0];
      if (found?.VersionNumber === undefined) {
        throw new AwsError(`launch template ${template.name} has no version ${version}`);
      }
      return {
        number: found.VersionNumber,
        ...(found.VersionDescription === undefined ? {} : { description: found.VersionDescription }),
      };
    },

    /** Every version of the template up to `max`, every page (EC2 answers 200 at most a page). */
    async versionsUpTo(template: GroupTemplate, max: number): Promise<TemplateVersion[]> {
      const versions: TemplateVersion[] = [];
      let nextToken: string | undefined;
      do {
        const token = nextToken;
        const page = await awsCall('EC2 DescribeLaunchTemplateVersions', signal, (options) =>
          ec2.client.send(
            new ec2.sdk.DescribeLaunchTemplateVersionsCommand({
              LaunchTemplateId: template.id,
              MaxVersion: String(max),
              MaxResults: 200,
              ...(token === undefined ? {} : { NextToken: token }),
            }),
            options,
          ),
        );
        for (const v of page.LaunchTemplateVersions ?? []) {
          if (v.VersionNumber === undefined) continue;
          versions.push({
            number: v.VersionNumber,
            ...(v.VersionDescription === undefined ? {} : { description: v.VersionDescription }),
          });
        }
        nextToken = page.NextToken || undefined;
      } while (nextToken !== undefined);
      return versions;
    },

    async update(template: GroupTemplate, version: number): Promise<void> {
      await awsCall('Auto Scaling UpdateAutoScalingGroup', signal, (options) =>
        autoscaling.send(
          new UpdateAutoScalingGroupCommand({
            AutoScalingGroupName: name,
            LaunchTemplate: { LaunchTemplateId: template.id, Version: String(version) },
          }),
          options,
        ),
      );
    },

    /** The newest refreshes of the group (AWS lists them newest first), at most 10. */
    newestRefreshes: () => refreshes(),

    async refresh(id: string): Promise<InstanceRefresh> {
      const found = (await refreshes([id])).find((r) => r.InstanceRefreshId === id);
      if (!found) throw new AwsError(`instance refresh ${id} of ${object} not found`);
      return found;
    },

    /** A refresh onto the template at `version`, named as its desired configuration so a retry knows it. */
    async startRefresh(templateId: string, version: number): Promise<string> {
      const preferences: RefreshPreferences = {
        ...(params.minHealthyPercentage === undefined
          ? {}
          : { MinHealthyPercentage: params.minHealthyPercentage }),
        ...(params.maxHealthyPercentage === undefined
          ? {}
          : { MaxHealthyPercentage: params.maxHealthyPercentage }),
        ...(params.instanceWarmup === undefined
          ? {}
          : { InstanceWarmup: Math.round(params.instanceWarmup / 1000) }),
        SkipMatching: params.skipMatching,
      };
      const answer = await awsCall('Auto Scaling StartInstanceRefresh', signal, (options) =>
        autoscaling.send(
          new StartInstanceRefreshCommand({
            AutoScalingGroupName: name,
            Strategy: 'Rolling',
            DesiredConfiguration: {
              LaunchTemplate: { LaunchTemplateId: templateId, Version: String(version) },
            },
            Preferences: preferences,
          }),
          options,
        ),
      );
      if (answer.InstanceRefreshId === undefined) {
        throw new AwsError('Auto Scaling StartInstanceRefresh returned no instance refresh id');
      }
      return answer.InstanceRefreshId;
    },

    /** Cancels the group's active refresh; one that ended in between is no failure. */
    async cancelRefresh(): Promise<void> {
      try {
        await awsCall('Auto Scaling CancelInstanceRefresh', signal, (options) =>
          autoscaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: name }), options),
        );
      } catch (error) {
        if (error instanceof AwsError && error.cause instanceof ActiveInstanceRefreshNotFoundFault) return;
        throw error;
      }
    },
  };
}

export type AutoscalingApi = ReturnType<typeof autoscalingApi>;
