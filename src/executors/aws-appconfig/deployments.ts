/**
 * The deployments of one configuration profile to one environment, newest first, as the executor
 * reads them (ListDeployments gives no profile, so each is read with GetDeployment), and the
 * version a step deploys: the one named, else a deployed version matching the asked one, else
 * the version of the newest earlier COMPLETE deployment whose version differs from the live one.
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

/** How many deployments of the environment are read, newest first. */
export const DEPLOYMENT_SEARCH_DEPTH = 25;

export type Deployment = GetDeploymentCommandOutput & {
  DeploymentNumber: number;
  ConfigurationVersion: string;
};

/** A deployment whose version is not live: AppConfig rolled it back or it was reverted. */
export const undone = (d: Deployment): boolean => d.State === 'ROLLED_BACK' || d.State === 'REVERTED';
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
    /** The profile's deployments among the newest of the environment, newest first. */
    async ofProfile(): Promise<Deployment[]> {
      const list = await awsCall('AppConfig ListDeployments', signal, (options) =>
        client.send(new ListDeploymentsCommand({ ...ids, MaxResults: DEPLOYMENT_SEARCH_DEPTH }), options),
      );
      const numbers = (list.Items ?? [])
        .flatMap((item) => (item.DeploymentNumber === undefined ? [] : [item.DeploymentNumber]))
        .sort((a, b) => b - a);
      const found: Deployment[] = [];
      for (const number of numbers) {
        const d = await get(number);
        if (d.ConfigurationProfileId === params.configurationProfile) found.push(d);
      }
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
  const found = deployments.find((d) => !undone(d));
  if (!found)
    throw new AwsError(
      `${object} has no deployment among the ${DEPLOYMENT_SEARCH_DEPTH} newest of the environment`,
    );
  return found;
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
