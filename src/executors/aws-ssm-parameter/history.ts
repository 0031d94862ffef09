/**
 * A parameter's history as the executor reads it (GetParameterHistory, every page, values
 * decrypted so a SecureString can be put back), and the version a step restores: the one named
 * in the plan, else the newest labelled with the asked version, else the newest older version
 * whose value differs from the current one. Values are never shown: they may be secrets.
 */
import { GetParameterHistoryCommand, type ParameterHistory, type SSMClient } from '@aws-sdk/client-ssm';
import { AwsError, awsCall } from '../aws-kit.js';
import type { Resolution, TargetState } from '../executor.js';

export type KnownVersion = ParameterHistory & { Version: number; Value: string };

/** The versions SSM keeps (the last 100), oldest first; an AwsError when the parameter is not there. */
export async function readHistory(
  client: SSMClient,
  name: string,
  signal: AbortSignal,
): Promise<KnownVersion[]> {
  const versions: KnownVersion[] = [];
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const page = await awsCall('SSM GetParameterHistory', signal, (options) =>
      client.send(
        new GetParameterHistoryCommand({
          Name: name,
          WithDecryption: true,
          MaxResults: 50,
          ...(token === undefined ? {} : { NextToken: token }),
        }),
        options,
      ),
    );
    for (const entry of page.Parameters ?? []) {
      if (entry.Version !== undefined && entry.Value !== undefined) {
        versions.push({ ...entry, Version: entry.Version, Value: entry.Value });
      }
    }
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  if (versions.length === 0) throw new AwsError(`SSM parameter ${name} has no history`);
  return versions.sort((a, b) => a.Version - b.Version);
}

export const versionState = (entry: KnownVersion): TargetState => {
  const label = entry.Labels?.[0];
  return {
    revision: `version ${entry.Version}`,
    ...(label === undefined ? {} : { version: label }),
    images: [],
  };
};

/** The version to restore, or why none can be chosen. */
export function chooseVersion(
  history: readonly KnownVersion[],
  named: number | undefined,
  toVersion: string | null,
  object: string,
): { ok: true; entry: KnownVersion } | { ok: false; error: string } {
  const current = history.at(-1)!;
  if (named !== undefined) {
    const found = history.find((entry) => entry.Version === named);
    if (found) return { ok: true, entry: found };
    return {
      ok: false,
      error: `${object} has no version ${named}; SSM keeps versions ${history[0]!.Version}–${current.Version}`,
    };
  }
  if (toVersion !== null && toVersion !== '') {
    const labelled = history.findLast((entry) => entry.Labels?.includes(toVersion) === true);
    if (labelled) return { ok: true, entry: labelled };
  }
  const previous = history.findLast(
    (entry) => entry.Version < current.Version && entry.Value !== current.Value,
  );
  if (previous) return { ok: true, entry: previous };
  return {
    ok: false,
    error: `${object} has no earlier version with another value than version ${current.Version} to go back to`,
  };
}

/** What `resolve` answers: what the parameter holds now, the version it restores, and the pin. */
export function resolution(
  history: readonly KnownVersion[],
  named: number | undefined,
  toVersion: string | null,
  object: string,
): Resolution {
  const chosen = chooseVersion(history, named, toVersion, object);
  if (!chosen.ok) return chosen;
  const current = history.at(-1)!;
  return {
    ok: true,
    target: {
      object,
      current: versionState(current),
      target: versionState(chosen.entry),
      pin: { from: current.Version, to: chosen.entry.Version },
    },
  };
}
