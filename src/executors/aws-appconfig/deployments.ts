/**
 * The deployments of one configuration profile to one environment, newest first, as the executor
 * reads them (ListDeployments gives no profile, so each is read with GetDeployment, page after
 * page, until what was read decides), and the version a step deploys: the one named, else a
 * deployed version matching the asked one, else the version of the newest earlier COMPLETE
 * deployment whose version differs from the live one.
 */
import {
  GetDeploymentCommand,
  ListDeploymentsCommand,
  StartDeploymentCommand,
  type AppConfigClient,
  type GetDeploymentCommandOutput,
} from '@aws-sdk/client-appconfig';
import { AwsError, awsCall } from '../aws-kit.js';
import type { AppconfigParams } from './params.js';

/**
 * How many deployments of the environment are read at most, newest first: each is a GetDeployment,
 * and other profiles' deployments count too (they share the environment's numbering).
 */
export const DEPLOYMENT_SEARCH_DEPTH = 100;

/** ListDeployments' largest page. */
const LIST_PAGE = 50;

export type Deployment = GetDeploymentCommandOutput & {
  DeploymentNumber: number;
  ConfigurationVersion: string;
};

/** A deployment whose version is not live: AppConfig rolled it back or it was reverted. */
export const undone = (d: Deployment): boolean => d.State === 'ROLLED_BACK' || d.State === 'REVERTED';
/** A deployment that may be the live one: the newest such of the profile is. */
export const isLive = (d: Deployment): boolean => !undone(d);
export const inFlight = (d: Deployment): boolean =>
  d.State === 'DEPLOYING' || d.State === 'BAKING' || d.State === 'VALIDATING';

export function appconfigApi(client: AppConfigClient, params: AppconfigParams, signal: AbortSignal) {
  const ids = { ApplicationId: params.application, EnvironmentId: params.environment };
  const get = async (number: number): Promise<Deployment> => {
    const d = await awsCall('AppConfig GetDeployment', signal, (options) =>
      client.send(new GetDeploymentCommand({ ...ids, DeploymentNumber: number }), options),
    );
    if (d.DeploymentNumber === undefined || d.ConfigurationVersion === undefined) {
      throw new AwsError(`AppConfig deployment ${number} has no number or version`);
    }
    return { ...d, DeploymentNumber: d.DeploymentNumber, ConfigurationVersion: d.ConfigurationVersion };
  };
  return {
    get,
    /**
     * The profile's deployments, newest first, read until `enough` says they decide (or the
     * environment's deployments run out, or DEPLOYMENT_SEARCH_DEPTH of them were read).
     */
    async ofProfile(enough: (found: readonly Deployment[]) => boolean): Promise<Deployment[]> {
      const found: Deployment[] = [];
      let read = 0;
      let nextToken: string | undefined;
      do {
        const token = nextToken;
        const page = await awsCall('AppConfig ListDeployments', signal, (options) =>
          client.send(
            new ListDeploymentsCommand({
              ...ids,
              MaxResults: LIST_PAGE,
              ...(token === undefined ? {} : { NextToken: token }),
            }),
            options,
          ),
        );
        const numbers = (page.Items ?? [])
          .flatMap((item) => (item.DeploymentNumber === undefined ? [] : [item.DeploymentNumber]))
          .sort((a, b) => b - a);
        for (const number of numbers) {
          if (read >= DEPLOYMENT_SEARCH_DEPTH) return found;
          read += 1;
          const d = await get(number);
          if (d.ConfigurationProfileId !== params.configurationProfile) continue;
          found.push(d);
          if (enough(found)) return found;
        }
        nextToken = page.NextToken || undefined;
      } while (nextToken !== undefined);
      return found;
    },
    async start(version: string, description: string): Promise<Deployment> {
      const started = await awsCall('AppConfig StartDeployment', signal, (options) =>
        client.send(
          new StartDeploymentCommand({
            ...ids,
            DeploymentStrategyId: params.deploymentStrategy,
            ConfigurationProfileId: params.configurationProfile,
            ConfigurationVersion: version,
            Description: description,
          }),
          options,
        ),
      );
      if (started.DeploymentNumber === undefined)
        throw new AwsError('AppConfig StartDeployment returned no deployment number');
      return { ...started, DeploymentNumber: started.DeploymentNumber, ConfigurationVersion: version };
    },
  };
}

export type AppconfigApi = ReturnType<typeof appconfigApi>;

/** The live deployment: the newest one AppConfig did not roll back. */
export function live(deployments: readonly Deployment[], object: string): Deployment {
  const found = deployments.find(isLive);
  if (!found)
    throw new AwsError(
      `${object} has no deployment among the ${DEPLOYMENT_SEARCH_DEPTH} newest of the environment`,
    );
  return found;
}

/** Whether the deployments read so far decide the version: older ones could not change the choice. */
export function decides(
  deployments: readonly Deployment[],
  named: string | undefined,
  toVersion: string | null,
): boolean {
  const current = deployments.find(isLive);
  if (current === undefined) return false;
  if (named !== undefined) return true;
  const earlier = deployments.filter(
    (d) => d.DeploymentNumber < current.DeploymentNumber && d.State === 'COMPLETE',
  );
  if (toVersion !== null && toVersion !== '') {
    return [current, ...earlier].some(
      (d) => d.ConfigurationVersion === toVersion || d.VersionLabel === toVersion,
    );
  }
  return earlier.some((d) => d.ConfigurationVersion !== current.ConfigurationVersion);
}

/** The version to deploy, or why none can be chosen. */
export function chooseVersion(
  deployments: readonly Deployment[],
  named: string | undefined,
  toVersion: string | null,
  object: string,
): { ok: true; version: string; label?: string } | { ok: false; error: string; restorable?: string[] } {
  const current = live(deployments, object);
  if (named !== undefined) return { ok: true, version: named };
  const earlier = deployments.filter(
    (d) => d.DeploymentNumber < current.DeploymentNumber && d.State === 'COMPLETE',
  );
  if (toVersion !== null && toVersion !== '') {
    if (current.ConfigurationVersion === toVersion || current.VersionLabel === toVersion) {
      return { ok: true, version: current.ConfigurationVersion };
    }
    const match = earlier.find((d) => d.ConfigurationVersion === toVersion || d.VersionLabel === toVersion);
    if (match)
      return {
        ok: true,
        version: match.ConfigurationVersion,
        ...(match.VersionLabel ? { label: match.VersionLabel } : {}),
      };
  }
  const previous = earlier.find((d) => d.ConfigurationVersion !== current.ConfigurationVersion);
  if (previous) {
    return {
      ok: true,
      version: previous.ConfigurationVersion,
      ...(previous.VersionLabel ? { label: previous.VersionLabel } : {}),
    };
  }
  return {
    ok: false,
    error: `${object} has no earlier COMPLETE deployment of another version than ${current.ConfigurationVersion} to go back to`,
  };
}
