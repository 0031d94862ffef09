/** One YAML document -> a typed manifest of a known kind, or the reasons it is not one. */
import { closest, didYouMean } from '../schema/did-you-mean.js';
import { issuesToProblems, type SchemaProblem } from '../schema/issues.js';
import { API_VERSION, KINDS, manifestSchemas, type ManifestKind } from './manifest-schema.js';
import type { ParsedManifest } from './cross-checks.js';

export interface DocumentResult {
  /** Nothing in it says rollback-bot: probably another tool's file sharing the folder. */
  foreign: boolean;
  problems: SchemaProblem[];
  manifest?: Omit<ParsedManifest, 'doc'>;
}

export function parseDocument(data: unknown): DocumentResult {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    const what = Array.isArray(data) ? 'a list' : `a single value (${JSON.stringify(data)})`;
    return {
      foreign: true,
      problems: [
        {
          path: [],
          message: `a manifest must be a mapping with apiVersion, kind, metadata and spec, not ${what}`,
        },
      ],
    };
  }
  const { apiVersion, kind } = data as Record<string, unknown>;
  const knownKind = isKind(kind);
  const foreign =
    !knownKind &&
    !(typeof apiVersion === 'string' && /rollback-?bot/i.test(apiVersion)) &&
    (typeof kind !== 'string' || closest(kind, KINDS) === undefined);
  const problems: SchemaProblem[] = [];
  if (apiVersion !== API_VERSION) {
    const got =
      apiVersion === undefined
        ? 'is missing'
        : `is ${JSON.stringify(apiVersion)}, which this version does not read`;
    problems.push({ path: ['apiVersion'], message: `${got}: write apiVersion: ${API_VERSION}` });
  }
  if (!knownKind) {
    const got =
      kind === undefined
        ? 'is missing'
        : `${JSON.stringify(kind)} is not a kind${typeof kind === 'string' ? didYouMean(kind, KINDS) : ''}`;
    problems.push({ path: ['kind'], message: `${got}; kinds: ${KINDS.join(', ')}` });
  }
  if (problems.length > 0 || !knownKind) return { foreign, problems };
  const parsed = manifestSchemas[kind].safeParse(data);
  if (!parsed.success) return { foreign, problems: issuesToProblems(parsed.error.issues, data) };
  return { foreign, problems, manifest: { kind, manifest: parsed.data } };
}

function isKind(kind: unknown): kind is ManifestKind {
  return typeof kind === 'string' && (KINDS as readonly string[]).includes(kind);
}
