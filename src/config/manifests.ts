/**
 * Loads the manifests of ROLLBACK_CONFIG (a file, or a folder searched recursively for *.yaml and
 * *.yml, each possibly holding several `---` documents) and checks everything that can be checked
 * before an incident. `validateManifestTexts` is the pure core; `loadManifests` only reads files.
 *
 * The maps hold every document that parsed, even when another has problems: a caller must not
 * start the bot while `problems` contains an error.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { CommunicationsPolicy } from '../domain/communications.js';
import type { AuthorityPolicy, RollbackPlan } from '../domain/plan.js';
import type { ExecutorRegistry } from '../executors/registry.js';
import { defaultRegistry } from '../executors/default-registry.js';
import { crossCheck, type ParsedManifest } from './cross-checks.js';
import { DEFAULT_STEP_TIMEOUT_MAX_MS } from './env.js';
import { parseDocument } from './parse-document.js';
import { compareProblems, formatPath, type Problem } from './problem.js';
import { FILES_ANCHOR, REFERENCE_PAGE, referenceAnchor } from './reference.js';
import { toAuthorityPolicy, toCommunicationsPolicy, toRollbackPlan } from './to-domain.js';
import { readYamlDocuments, type SourceDocument } from './yaml-source.js';

export type { Problem } from './problem.js';

/** Larger manifest files are refused unread: plans are small, and parsing must stay cheap. */
export const MAX_FILE_BYTES = 1024 * 1024;

export interface ManifestSet {
  /** By service. */
  plans: Map<string, RollbackPlan>;
  /** By metadata.name. */
  policies: Map<string, AuthorityPolicy>;
  /** By metadata.name. */
  communications: Map<string, CommunicationsPolicy>;
  problems: Problem[];
}

export interface ValidateOptions {
  /** Check that every `${env:NAME}` is set here (`validate --env-check`); otherwise syntax only. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Skip, with a warning, files none of whose documents is a rollback-bot manifest (a folder may
   * also hold Kubernetes or Prometheus files). Set when a folder was given, not a file.
   */
  skipForeignFiles?: boolean;
  /** STEP_TIMEOUT_MAX of the bot that will run the plans (default 60m): a longer `timeout` is refused. */
  stepTimeoutMaxMs?: number;
}

export interface ManifestText {
  file: string;
  text: string;
  /** Size of the file when it was too large to read (then `text` is empty). */
  bytes?: number;
}

export function validateManifestTexts(
  files: readonly ManifestText[],
  registry: ExecutorRegistry,
  options: ValidateOptions = {},
): ManifestSet {
  const problems: Problem[] = [];
  const parsed: ParsedManifest[] = [];
  for (const { file, text, bytes: knownBytes } of files) {
    const bytes = knownBytes ?? Buffer.byteLength(text);
    if (bytes > MAX_FILE_BYTES) {
      problems.push(
        fileProblem(
          file,
          'error',
          `file is ${(bytes / 1024 / 1024).toFixed(1)} MB; manifest files over 1 MB are refused: split it`,
        ),
      );
      continue;
    }
    const source = readYamlDocuments(file, text);
    if (source.empty) {
      problems.push(fileProblem(file, 'warning', 'file is empty: no manifests in it'));
      continue;
    }
    const results = source.documents.map((doc) => ({ doc, result: parseDocument(doc.data) }));
    if (options.skipForeignFiles && source.problems.length === 0 && results.every((r) => r.result.foreign)) {
      problems.push(
        fileProblem(
          file,
          'warning',
          'not a rollback-bot manifest (no document has apiVersion rollback-bot/v1 or a known kind): skipped',
        ),
      );
      continue;
    }
    problems.push(...source.problems.map(linkFileError));
    for (const { doc, result } of results) {
      problems.push(...result.problems.map((p) => locate(doc, p.path, p.message, 'error', registry)));
      if (result.manifest) parsed.push({ ...result.manifest, doc } as ParsedManifest);
    }
  }
  const checks = crossCheck(parsed, {
    registry,
    ...(options.env ? { env: options.env } : {}),
    stepTimeoutMaxMs: options.stepTimeoutMaxMs ?? DEFAULT_STEP_TIMEOUT_MAX_MS,
  });
  problems.push(...checks.map((f) => locate(f.doc, f.path, f.message, f.severity, registry)));
  return { ...toDomain(parsed), problems: problems.sort(compareProblems) };
}

function toDomain(parsed: readonly ParsedManifest[]): Omit<ManifestSet, 'problems'> {
  const set: Omit<ManifestSet, 'problems'> = {
    plans: new Map(),
    policies: new Map(),
    communications: new Map(),
  };
  for (const item of parsed) {
    // The first of two duplicates wins; the second is reported by the cross-checks.
    if (item.kind === 'RollbackPlan' && !set.plans.has(item.manifest.spec.service)) {
      set.plans.set(item.manifest.spec.service, toRollbackPlan(item.manifest));
    } else if (item.kind === 'AuthorityPolicy' && !set.policies.has(item.manifest.metadata.name)) {
      set.policies.set(item.manifest.metadata.name, toAuthorityPolicy(item.manifest));
    } else if (item.kind === 'Communications' && !set.communications.has(item.manifest.metadata.name)) {
      set.communications.set(item.manifest.metadata.name, toCommunicationsPolicy(item.manifest));
    }
  }
  return set;
}

/** A problem in a document, linked to the reference's section on the field it is about. */
function locate(
  doc: SourceDocument,
  path: readonly (string | number)[],
  message: string,
  severity: Problem['severity'],
  registry: ExecutorRegistry,
): Problem {
  const position = doc.locate(path);
  const docs = `${REFERENCE_PAGE}#${referenceAnchor(doc.data, path, registry)}`;
  return { file: doc.file, ...(position ?? {}), path: formatPath(path), message, severity, docs };
}

/**
 * A problem with a whole file. Errors (too large, YAML syntax) link to the reference's section on
 * files; the warnings (empty, skipped) say all there is to say.
 */
function fileProblem(file: string, severity: Problem['severity'], message: string): Problem {
  return linkFileError({ file, line: 1, column: 1, path: '', message, severity });
}

function linkFileError(problem: Problem): Problem {
  return problem.severity === 'error' ? { ...problem, docs: `${REFERENCE_PAGE}#${FILES_ANCHOR}` } : problem;
}

/** Reads `path` (a file or a folder) and validates what it holds; file names are shown relative to `cwd`. */
export async function loadManifests(
  path: string,
  registry: ExecutorRegistry = defaultRegistry(),
  options: Omit<ValidateOptions, 'skipForeignFiles'> & { cwd?: string } = {},
): Promise<ManifestSet> {
  const cwd = options.cwd ?? process.cwd();
  const isFolder = (await stat(path)).isDirectory();
  const paths = isFolder ? await yamlFilesUnder(path) : [path];
  const files = await Promise.all(
    paths.map(async (file) => ({ file: relative(cwd, file) || file, ...(await readCapped(file)) })),
  );
  const set = validateManifestTexts(files, registry, { ...options, skipForeignFiles: isFolder });
  if (files.length === 0) {
    set.problems.push({
      file: relative(cwd, path) || path,
      path: '',
      message: 'no *.yaml or *.yml file in this folder',
      severity: 'warning',
    });
  }
  return set;
}

async function yamlFilesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && /\.ya?ml$/i.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** A file over the limit is not read whole: its size alone is enough to refuse it. */
async function readCapped(file: string): Promise<{ text: string; bytes?: number }> {
  const { size } = await stat(file);
  if (size > MAX_FILE_BYTES) return { text: '', bytes: size };
  return { text: await readFile(file, 'utf8') };
}
