/**
 * Every plan of manifests/examples would run as written with the image and deploy/kubernetes/:
 * validated with the Deployment's STEP_TIMEOUT_MAX; each step's executor exists; an AWS step names
 * its region (the Deployment sets no AWS_REGION) and its actions are in deploy/aws/iam-policy.json;
 * a `kubeconfig` is a file of a Secret the pod mounts, and a `context` never goes without one (in
 * the pod, the service account's is the only context); `${env:NAME}` is a key the Secret example
 * names; `${file:}` and dump folders are on volumes (writable for dumps); a command's program is in
 * the image or, a path of the operator's, listed as theirs in docs/operations/running-the-examples.md,
 * whose table has a row per example naming its executors.
 */
import type * as k8s from '@kubernetes/client-node';
import { readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { validateManifestTexts } from '../../../src/config/manifests.js';
import { parseStepTimeoutMax } from '../../../src/config/env.js';
import { defaultRegistry } from '../../../src/executors/default-registry.js';
import type { IamPolicyDocument } from '../../../src/executors/iam-policy.js';

const root = join(import.meta.dirname, '../../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const registry = defaultRegistry();

const deployment = YAML.parse(read('deploy/kubernetes/deployment.yaml')) as k8s.V1Deployment;
const pod = deployment.spec!.template.spec!;
const container = pod.containers[0]!;
const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
/** The image's working directory, where relative paths of steps land. */
const WORKDIR = /^WORKDIR\s+(\S+)$/m.exec(read('Dockerfile'))![1]!;
/** node comes with the base image (node:24, checked by dockerfile.test.ts); the rest are the executors'. */
const IMAGE_PROGRAMS = new Set([
  'node',
  ...registry.kinds().flatMap((kind) => registry.get(kind)?.programs ?? []),
]);
/** In the base image too, but they write their cache and logs under a home the pod has read-only. */
const NEEDS_WRITABLE_HOME = new Set(['npm', 'npx']);
const secretExample = read('deploy/kubernetes/secret.example.yaml');
const policy = JSON.parse(read('deploy/aws/iam-policy.json')) as IamPolicyDocument;
const granted = new Set(policy.Statement.flatMap((statement) => statement.Action));
const guide = read('docs/operations/running-the-examples.md');

interface Mount {
  path: string;
  readOnly: boolean;
  volume: k8s.V1Volume;
  subPath?: string | undefined;
}
const mounts: Mount[] = (container.volumeMounts ?? []).map((m) => ({
  path: m.mountPath,
  readOnly: m.readOnly === true,
  volume: pod.volumes!.find((v) => v.name === m.name)!,
  subPath: m.subPath,
}));
/** The mount a file at `path` would be on, the deepest one. */
const mountOf = (path: string): Mount | undefined =>
  mounts
    .filter((m) => path === m.path || path.startsWith(`${m.path}/`))
    .sort((a, b) => b.path.length - a.path.length)[0];

interface Step {
  where: string;
  uses: string;
  with: Record<string, unknown>;
}

const files = readdirSync(join(root, 'manifests/examples')).filter((file) => file.endsWith('.yaml'));

function stepsOf(file: string): Step[] {
  const docs = YAML.parseAllDocuments(read(`manifests/examples/${file}`)).map(
    (doc) => doc.toJS() as { kind?: string; spec?: { strategies?: Record<string, Record<string, unknown>> } },
  );
  return docs.flatMap((doc) =>
    Object.entries(doc.spec?.strategies ?? {}).flatMap(([name, strategy]) =>
      ['steps', 'validate', 'watch', 'after'].flatMap((list) =>
        ((strategy[list] ?? []) as { name: string; uses: string; with?: Record<string, unknown> }[]).map(
          (step) => ({
            where: `${file} ${name}.${list} "${step.name}"`,
            uses: step.uses,
            with: step.with ?? {},
          }),
        ),
      ),
    ),
  );
}

/** The row of the examples table for `file`. */
const rowOf = (file: string) =>
  guide.split('\n').find((line) => line.includes(`manifests/examples/${file})`));

/** Why this step would not run with the image and the deploy manifests; [] when it would. */
function problemsOf(step: Step): string[] {
  const problems: string[] = [];
  const say = (text: string) => problems.push(`${step.where}: ${text}`);
  const executor = registry.get(step.uses);
  if (!executor) return [`${step.where}: no executor "${step.uses}"`];
  const text = JSON.stringify(step.with);
  for (const [, name] of text.matchAll(/\$\{env:(\w+)\}/g)) {
    if (!new RegExp(`\\b${name!}\\b`).test(secretExample)) say(`\${env:${name!}} is not a key of the Secret`);
  }
  for (const [, path] of text.matchAll(/\$\{file:([^}]+)\}/g)) {
    if (!mountOf(path!)) say(`\${file:${path!}} is on no volume of the pod`);
  }
  if ((executor.iamActions ?? []).length > 0) {
    if (step.with['region'] === undefined && env['AWS_REGION'] === undefined) {
      say('an AWS step without region, and the Deployment sets no AWS_REGION');
    }
    for (const action of executor.iamActions!) {
      if (!granted.has(action)) say(`${action} is not in deploy/aws/iam-policy.json`);
    }
  }
  switch (step.uses) {
    case 'kubernetes': {
      const kubeconfig = step.with['kubeconfig'] as string | undefined;
      if (kubeconfig === undefined) {
        if (step.with['context'] !== undefined) {
          say('a context without kubeconfig: in the pod the service account has only inClusterContext');
        }
        break;
      }
      const mount = mountOf(kubeconfig);
      if (!mount?.volume.secret || !mount.readOnly || mount.subPath !== undefined) {
        say(`kubeconfig ${kubeconfig} is not in a Secret mounted read-only as a folder`);
      }
      break;
    }
    case 'postgres-backup': {
      const dir = (step.with['outputDir'] as string | undefined) ?? './backups';
      const absolute = isAbsolute(dir) ? dir : posix.join(WORKDIR, dir);
      const mount = mountOf(absolute);
      if (!mount || mount.readOnly || !mount.volume.emptyDir) {
        say(`dumps go to ${absolute}, which is on no writable volume`);
      }
      break;
    }
    case 'command': {
      const [program = ''] = step.with['argv'] as string[];
      const cwd = step.with['cwd'] as string | undefined;
      const row = rowOf(step.where.split(' ')[0]!) ?? '';
      if (NEEDS_WRITABLE_HOME.has(program)) {
        say(`${program} writes under a home that is read-only in the pod: run the package's bin`);
      } else if (!program.includes('/')) {
        if (!IMAGE_PROGRAMS.has(program)) say(`${program} is not in the image`);
      } else if (!row.includes(`\`${program}\``)) {
        say(`${program} is not in the image nor listed as yours in running-the-examples.md`);
      }
      if (cwd !== undefined && !row.includes(`\`${cwd}`)) say(`cwd ${cwd} is not listed as yours`);
      break;
    }
  }
  return problems;
}

describe('manifests/examples with the image and deploy/kubernetes/', () => {
  it('validate without errors or warnings with the Deployment’s STEP_TIMEOUT_MAX', () => {
    const max = parseStepTimeoutMax(env['STEP_TIMEOUT_MAX']);
    if (!max.ok) throw new Error('deployment.yaml has no valid STEP_TIMEOUT_MAX');
    const texts = files.map((file) => ({ file, text: read(`manifests/examples/${file}`) }));
    const set = validateManifestTexts(texts, registry, { stepTimeoutMaxMs: max.ms });
    expect(set.problems).toEqual([]);
    expect(set.plans.size).toBe(files.length - 1);
  });

  it.each(files)('%s: every step would run with the image and the deploy manifests', (file) => {
    expect(stepsOf(file).flatMap(problemsOf)).toEqual([]);
  });

  it.each(files)('%s has a row in the examples table naming its executors', (file) => {
    const row = rowOf(file);
    expect(row, `no row for ${file} in docs/operations/running-the-examples.md`).toBeDefined();
    for (const uses of new Set(stepsOf(file).map((step) => step.uses))) {
      expect(row, `${file}: ${uses}`).toContain(`\`${uses}\``);
    }
  });

  it('leaves KUBECONFIG unset in the pod, so steps without kubeconfig use its service account', () => {
    expect(env).not.toHaveProperty('KUBECONFIG');
    expect(pod.automountServiceAccountToken).toBe(true);
  });

  it('catches what would not run: a program not in the image, a context without kubeconfig, no region', () => {
    const problems = [
      { where: 'x', uses: 'command', with: { argv: ['aws', 'ssm', 'put-parameter'], inheritEnv: ['AWS_*'] } },
      {
        where: 'x',
        uses: 'kubernetes',
        with: { kind: 'Deployment', namespace: 'n', name: 'a', context: 'prod' },
      },
      {
        where: 'x',
        uses: 'kubernetes',
        with: { kind: 'Deployment', namespace: 'n', name: 'a', kubeconfig: '/x' },
      },
      { where: 'x', uses: 'ecs', with: { cluster: 'c', service: 's' } },
      { where: 'x', uses: 'postgres-backup', with: { database: '${env:NOPE_URL}', outputDir: '/srv' } },
    ].flatMap(problemsOf);
    expect(problems).toEqual([
      'x: aws is not in the image',
      'x: a context without kubeconfig: in the pod the service account has only inClusterContext',
      'x: kubeconfig /x is not in a Secret mounted read-only as a folder',
      'x: an AWS step without region, and the Deployment sets no AWS_REGION',
      'x: ${env:NOPE_URL} is not a key of the Secret',
      'x: dumps go to /srv, which is on no writable volume',
    ]);
  });
});
