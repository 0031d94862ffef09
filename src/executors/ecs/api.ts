/**
 * The four ECS calls the executor makes, bound to one client, one service and one abort signal,
 * and the names it shows people: `checkout:41` for a task definition, `v1.4.1` for an image tag.
 * Every failure of a call becomes an EcsError that names the call and what ECS said.
 */
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
  UpdateServiceCommand,
  type ECSClient,
  type Service,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { RollbackError } from '../../lib/errors.js';
import { AwsError, awsError } from '../aws-kit.js';
import { didYouMean } from '../../schema/did-you-mean.js';
import type { TargetState } from '../executor.js';

/** A failure to show as it is: a call ECS refused, or an object that is not there. */
export class EcsError extends RollbackError {
  constructor(userMessage: string, cause?: unknown) {
    super({ code: 'ecs_failed', userMessage, retryable: false, cause });
  }
}

/** `arn:aws:ecs:eu-west-1:123:task-definition/checkout:42` or `checkout:42` → `checkout:42`. */
export function familyRevision(taskDefinition: string): string {
  const slash = taskDefinition.lastIndexOf('/');
  return taskDefinition.startsWith('arn:') && slash >= 0 ? taskDefinition.slice(slash + 1) : taskDefinition;
}

export function parseFamilyRevision(
  taskDefinition: string,
): { family: string; revision: number } | undefined {
  const match = /^(.+):(\d+)$/.exec(familyRevision(taskDefinition));
  return match ? { family: match[1]!, revision: Number(match[2]) } : undefined;
}

/** Two task definition names (ARN or family:revision) for the same revision. */
export const sameRevision = (a: string, b: string): boolean => familyRevision(a) === familyRevision(b);

/** `prod` from a cluster ARN or name: the way people name a cluster. */
export const lastSegment = (nameOrArn: string): string =>
  nameOrArn.startsWith('arn:') ? nameOrArn.slice(nameOrArn.lastIndexOf('/') + 1) : nameOrArn;

/** The tag of an image reference (`repo/app:v1.4.1@sha256:...` → `v1.4.1`), if it has one. */
export function imageTag(image: string): string | undefined {
  const name = image.split('@')[0]!;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(colon + 1) || undefined : undefined;
}

/**
 * What a task definition runs: `checkout:41`, its images, and the tag of the named container's
 * image (or the first container's). Naming a container it does not have is an error.
 */
export function taskDefinitionState(definition: TaskDefinition, container: string | undefined): TargetState {
  const containers = definition.containerDefinitions ?? [];
  const revision = familyRevision(definition.taskDefinitionArn ?? '?');
  const chosen = container === undefined ? containers[0] : containers.find((c) => c.name === container);
  if (container !== undefined && chosen === undefined) {
    const names = containers.map((c) => c.name ?? '?');
    throw new EcsError(
      `task definition ${revision} has no container "${container}"; containers: ${names.join(', ') || 'none'}${didYouMean(container, names)}`,
    );
  }
  const version = chosen?.image === undefined ? undefined : imageTag(chosen.image);
  return {
    revision,
    ...(version === undefined ? {} : { version }),
    images: containers.flatMap((c) => (c.image === undefined ? [] : [c.image])),
  };
}

export interface EcsTarget {
  cluster: string;
  service: string;
}

export type EcsApi = ReturnType<typeof ecsApi>;

export type KnownTaskDefinition = TaskDefinition & { taskDefinitionArn: string };

/** The calls for one service; an aborted signal rethrows the SDK's abort error untouched. */
export function ecsApi(client: ECSClient, { cluster, service }: EcsTarget, signal: AbortSignal) {
  const label = `${service} (${cluster})`;
  const call = async <T>(name: string, send: () => Promise<T>): Promise<T> => {
    try {
      return await send();
    } catch (error) {
      if (signal.aborted) throw error;
      // A role that could not be assumed is said as it is, not as a failure of this call.
      if (error instanceof AwsError) throw new EcsError(error.userMessage, error);
      throw new EcsError(`ECS ${name} failed: ${awsError(error)}`, error);
    }
  };
  const options = { abortSignal: signal };

  return {
    label,
    async describeService(): Promise<Service> {
      const answer = await call('DescribeServices', () =>
        client.send(new DescribeServicesCommand({ cluster, services: [service] }), options),
      );
      const found = answer.services?.find((s) => s.serviceName === service || s.serviceArn === service);
      if (!found) {
        const reason = answer.failures?.[0]?.reason;
        throw new EcsError(`ECS service ${label} not found${reason ? ` (${reason})` : ''}`);
      }
      return found;
    },

    /** The task definition, or an EcsError saying it does not exist. */
    async describeTaskDefinition(name: string): Promise<KnownTaskDefinition> {
      const answer = await call('DescribeTaskDefinition', () =>
        client.send(new DescribeTaskDefinitionCommand({ taskDefinition: name }), options),
      );
      const definition = answer.taskDefinition;
      const arn = definition?.taskDefinitionArn;
      if (definition === undefined || arn === undefined)
        throw new EcsError(`task definition ${name} not found`);
      return { ...definition, taskDefinitionArn: arn };
    },

    /**
     * ARNs of the ACTIVE revisions of `family` below `below`, newest first, until `enough` are
     * found (one page usually holds them all: ECS lists up to 100 per page).
     */
    async activeRevisionsBelow(family: string, below: number, enough: number): Promise<string[]> {
      const found: { arn: string; revision: number }[] = [];
      let nextToken: string | undefined;
      do {
        const token = nextToken;
        const page = await call('ListTaskDefinitions', () =>
          client.send(
            new ListTaskDefinitionsCommand({
              familyPrefix: family,
              status: 'ACTIVE',
              sort: 'DESC',
              ...(token === undefined ? {} : { nextToken: token }),
            }),
            options,
          ),
        );
        for (const arn of page.taskDefinitionArns ?? []) {
          const parsed = parseFamilyRevision(arn);
          // familyPrefix is the full family in ECS; the check keeps a look-alike family out anyway.
          if (parsed?.family === family && parsed.revision < below)
            found.push({ arn, revision: parsed.revision });
        }
        nextToken = page.nextToken;
      } while (nextToken !== undefined && found.length < enough);
      return found
        .sort((a, b) => b.revision - a.revision)
        .slice(0, enough)
        .map((f) => f.arn);
    },

    async updateService(taskDefinition: string): Promise<Service | undefined> {
      const answer = await call('UpdateService', () =>
        client.send(
          new UpdateServiceCommand({ cluster, service, taskDefinition, forceNewDeployment: true }),
          options,
        ),
      );
      return answer.service;
    },
  };
}
