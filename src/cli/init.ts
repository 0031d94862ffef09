/**
 * `rollback-bot init`: a first RollbackPlan and AuthorityPolicy for one service, to edit rather than
 * write from the schema. Each field carries its description from the zod schemas as a comment, so
 * the files explain themselves with the same words as the reference and the editor's JSON Schema.
 * What `init` cannot know (a namespace, a cluster, a URL, the people of each role) is written as a
 * value that validates and a `CHANGE:` comment on it.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { Document, isMap, isPair, isScalar, isSeq, visit, type Pair } from 'yaml';
import { API_VERSION } from '../config/manifest-schema.js';
import { REFERENCE_PAGE, visitDocument } from '../config/reference.js';
import { defaultRegistry } from '../executors/default-registry.js';
import { USAGE, type CliIo } from './io.js';

export const PLATFORMS = ['kubernetes', 'ecs', 'http', 'command'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const DEFAULT_OUT = 'rollback';
export const POLICY_FILE = 'authority-policy.yaml';

/** What each flag must hold: checked the same way for flags and answers. */
const CHECKS = {
  service: {
    flag: '--service',
    question: "Service name, as your alerts' `service` label has it (e.g. checkout-api)",
    check: (value: string) =>
      /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/.test(value)
        ? undefined
        : `--service "${value}" must be lowercase letters, digits, ".", "_" or "-", starting and ending with a letter or digit (it also names the plan), e.g. checkout-api`,
  },
  channel: {
    flag: '--channel',
    question: "Slack channel id for incidents (C..., from the channel's About tab, not #name)",
    check: (value: string) =>
      /^[CG][A-Z0-9]{2,}$/.test(value)
        ? undefined
        : `--channel "${value}" is not a Slack channel id: give its id, such as C0123ABCD (in Slack, open the channel's name > About; the id is at the bottom), not #name`,
  },
  platform: {
    flag: '--platform',
    question: `Where the service runs (${PLATFORMS.join(', ')})`,
    check: (value: string) =>
      (PLATFORMS as readonly string[]).includes(value)
        ? undefined
        : `--platform "${value}" is not one of ${PLATFORMS.join(', ')}`,
  },
} as const;

type Field = keyof typeof CHECKS;
const FIELDS = Object.keys(CHECKS) as Field[];

interface InitFlags {
  values: Partial<Record<Field, string>>;
  out: string;
  force: boolean;
}

function parseFlags(
  args: readonly string[],
): { ok: true; flags: InitFlags } | { ok: false; message: string } {
  const flags: InitFlags = { values: {}, out: DEFAULT_OUT, force: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--force') {
      flags.force = true;
      continue;
    }
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s) : [arg, undefined];
    const field = FIELDS.find((f) => CHECKS[f].flag === name);
    if (field === undefined && name !== '--out') {
      return {
        ok: false,
        message: `unexpected ${arg} (init takes --service, --channel, --platform, --out, --force)`,
      };
    }
    const value = inline ?? args[++i];
    if (value === undefined || value === '' || value.startsWith('--')) {
      return { ok: false, message: `${name} needs a value` };
    }
    if (field === undefined) flags.out = value;
    else flags.values[field] = value.trim();
  }
  return { ok: true, flags };
}

export async function runInit(args: readonly string[], io: CliIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.out(USAGE);
    return 0;
  }
  const parsed = parseFlags(args);
  if (!parsed.ok) return usage(io, parsed.message);
  const { flags } = parsed;
  for (const field of FIELDS) {
    const value = flags.values[field];
    const problem = value === undefined ? undefined : CHECKS[field].check(value);
    if (problem !== undefined) return usage(io, problem);
  }
  const missing = FIELDS.filter((field) => flags.values[field] === undefined);
  if (missing.length > 0 && io.ask === undefined) {
    return usage(
      io,
      `missing ${missing.map((f) => CHECKS[f].flag).join(', ')} (stdin is not a terminal, so nothing can be asked)`,
    );
  }
  for (const field of missing) {
    const answer = await askFor(field, io);
    if (answer === undefined) return usage(io, `no ${CHECKS[field].flag} given`);
    flags.values[field] = answer;
  }
  const { service, channel, platform } = flags.values as Record<Field, string>;
  const folder = resolve(io.cwd, flags.out);
  const planPath = join(folder, `${service}.yaml`);
  const policyPath = join(folder, POLICY_FILE);
  const shown = (path: string) => relative(io.cwd, path) || path;
  if (!flags.force && (await exists(planPath))) {
    io.err(
      `${shown(planPath)} already exists: not overwritten (give --force to replace it, or another --out)\n`,
    );
    return 1;
  }
  const keepPolicy = !flags.force && (await exists(policyPath));
  await mkdir(folder, { recursive: true });
  await writeFile(planPath, planText(service, channel, platform as Platform));
  io.out(`wrote ${shown(planPath)}\n`);
  if (keepPolicy) {
    io.out(
      `kept ${shown(policyPath)} as it is (the plan uses its policy named "default"; --force rewrites it)\n`,
    );
  } else {
    await writeFile(policyPath, policyText());
    io.out(`wrote ${shown(policyPath)}\n`);
  }
  io.out(
    `\nNext: fill in what the CHANGE: comments ask, then check the files with\n` +
      `  npx rollback-bot validate ${shown(folder)}\n` +
      `and point the bot at them with ROLLBACK_CONFIG=${shown(folder)}. Every field: ${REFERENCE_PAGE}\n`,
  );
  return 0;
}

function usage(io: CliIo, message: string): number {
  io.err(`rollback-bot init: ${message}\n\n${USAGE}`);
  return 2;
}

/** Asks until the answer passes its check; an empty answer (or end of input) gives up. */
async function askFor(field: Field, io: CliIo): Promise<string | undefined> {
  const { question, check } = CHECKS[field];
  for (;;) {
    const answer = (await io.ask!(`${question}: `))?.trim();
    if (answer === undefined || answer === '') return undefined;
    const problem = check(answer);
    if (problem === undefined) return answer;
    io.err(`${problem}\n`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

interface Strategy {
  name: string;
  step: Record<string, unknown>;
  /** Comments on values `init` had to guess, by their path under the step's `with`. */
  change: Record<string, string>;
}

function strategyFor(service: string, platform: Platform): Strategy {
  switch (platform) {
    case 'kubernetes':
      return {
        name: 'rollout-undo',
        step: {
          name: 'Roll the Deployment back to the previous revision',
          uses: 'kubernetes',
          with: { kind: 'Deployment', namespace: 'default', name: service, timeout: '10m' },
        },
        change: {
          namespace: 'the namespace the Deployment runs in.',
          name: 'the Deployment (or StatefulSet, DaemonSet, Argo Rollout: set kind) of the service.',
        },
      };
    case 'ecs':
      return {
        name: 'previous-task-definition',
        step: {
          name: 'Back to the previous task definition',
          uses: 'ecs',
          with: { cluster: 'default', service, timeout: '15m' },
        },
        change: {
          cluster: 'the ECS cluster that runs the service.',
          service:
            "the ECS service name, if it is not the plan's service name. Region: AWS_REGION of the bot, or add region.",
        },
      };
    case 'http':
      return {
        name: 'switch-back',
        step: {
          name: 'Ask the deploy service to roll back',
          uses: 'http',
          with: {
            method: 'POST',
            url: 'https://deploy.example.com/api/services/{{ service }}/rollback',
            headers: { Authorization: 'Bearer ${env:DEPLOY_TOKEN}' },
            json: {
              environment: '{{ environment }}',
              version: '{{ toVersion }}',
              rollback: '{{ rollback.id }}',
            },
            expectStatus: [200, 202],
            timeout: '30s',
          },
        },
        change: {
          url: 'the endpoint that rolls the service back; the bot sends the body below as JSON.',
          headers: "DEPLOY_TOKEN must be set in the bot's environment (validate --env-check checks it).",
        },
      };
    case 'command':
      return {
        name: 'run-script',
        step: {
          name: 'Run the rollback script',
          uses: 'command',
          with: {
            argv: ['./scripts/rollback.sh', '{{ service }}', '{{ environment }}', '{{ toVersion }}'],
            timeout: '10m',
          },
        },
        change: {
          argv: "your program and its arguments (run without a shell, from the bot's working directory).",
        },
      };
  }
}

export function planText(service: string, channel: string, platform: Platform): string {
  const strategy = strategyFor(service, platform);
  const manifest = {
    apiVersion: API_VERSION,
    kind: 'RollbackPlan',
    metadata: { name: service },
    spec: {
      service,
      channel,
      environments: ['production', 'staging'],
      criticality: 'high',
      rto: '15m',
      authority: 'default',
      defaultStrategy: strategy.name,
      strategies: {
        [strategy.name]: {
          steps: [strategy.step],
          validate: [
            {
              name: `${service} works again`,
              uses: 'manual',
              with: { instructions: `Check ${service}'s dashboards and try it as a user would.` },
            },
          ],
          stabilize: '5m',
        },
      },
      triggers: [{ name: 'error-rate', match: { rollback_trigger: 'error-rate' }, action: 'propose' }],
    },
  };
  const change: Record<string, string> = {
    'spec.environments': 'the environments your alerts and deploys name.',
    'spec.criticality': 'how bad an outage of this service is.',
    'spec.strategies.validate': `a check the bot runs by itself is better, e.g.
- name: Health endpoint
  uses: healthcheck
  with: { url: https://${service}.example.com/health, attempts: 10 }`,
  };
  for (const [key, note] of Object.entries(strategy.change))
    change[`spec.strategies.steps.with.${key}`] = note;
  return commented(
    manifest,
    [
      `The rollback plan of ${service}, written by \`rollback-bot init\`: edit it, then check it with`,
      `\`npx rollback-bot validate\`. Every field: ${REFERENCE_PAGE}; examples: manifests/examples/.`,
    ],
    change,
  );
}

export function policyText(): string {
  const role = (name: string) => ({ name, members: { users: [] as string[] } });
  const manifest = {
    apiVersion: API_VERSION,
    kind: 'AuthorityPolicy',
    metadata: { name: 'default' },
    spec: {
      roles: [
        role('on-call-engineer'),
        role('team-lead'),
        role('engineering-manager'),
        role('vp-engineering'),
      ],
      tiers: [
        { after: '0m', approver: 'on-call-engineer', notify: 'team-lead' },
        { after: '15m', approver: 'team-lead', notify: 'engineering-manager' },
        { after: '30m', approver: 'engineering-manager', notify: 'vp-engineering' },
        { after: '60m', approver: 'vp-engineering' },
      ],
      selfApproval: false,
      approvalsRequired: 1,
      reminderEvery: '5m',
      expireAfter: '2h',
    },
  };
  return commented(
    manifest,
    [
      'Who may approve a rollback, by time since the incident started (docs/authority-matrix.md),',
      `written by \`rollback-bot init\`. Every field: ${REFERENCE_PAGE}.`,
      'Until each role has members, `validate` warns and nobody can approve as that role.',
    ],
    {
      'spec.roles.members':
        'who holds the role: Slack user ids (users: [U0123ABCD]) and/or a user group (usergroup: S0123ABCD).',
    },
  );
}

/** Where a value sits, without indexes and mapping keys: `spec.strategies.steps.with.url`. */
const shapeOf = (path: readonly (string | number)[], strategyKeys: ReadonlySet<string>): string =>
  path
    .filter((key, i) => typeof key === 'string' && !(path[i - 1] === 'strategies' && strategyKeys.has(key)))
    .join('.');

/**
 * The manifest as YAML with the description of each field above its first occurrence, and the
 * `CHANGE:` notes of `change` (by shape, see `shapeOf`) under it.
 */
function commented(
  manifest: Record<string, unknown>,
  header: string[],
  change: Record<string, string>,
): string {
  const doc = new Document(manifest);
  doc.commentBefore = header.map((line) => ` ${line}`).join('\n');
  const spec = manifest['spec'] as { strategies?: Record<string, unknown> };
  const strategyKeys = new Set(Object.keys(spec.strategies ?? {}));
  const comments = new Map<string, string[]>();
  const described = new Set<string>();
  const noted = new Set<string>();
  visitDocument(manifest, defaultRegistry(), (field) => {
    const shape = shapeOf(field.path, strategyKeys);
    const key = field.path.map(String).join('\u0000');
    const texts: string[] = [];
    if (!described.has(field.anchor) && field.schema.description !== undefined) {
      described.add(field.anchor);
      texts.push(field.schema.description);
    }
    const note = change[shape];
    if (note !== undefined && !noted.has(shape)) {
      noted.add(shape);
      texts.push(`CHANGE: ${note}`);
    }
    if (texts.length > 0) comments.set(key, texts);
  });
  visit(doc, {
    Pair(_, pair, path) {
      if (!isScalar(pair.key)) return;
      const texts = comments.get(pathOf(path, pair).map(String).join('\u0000'));
      if (texts === undefined) return;
      // Each mapping or list above the pair indents it by two columns.
      const indent = 2 * (path.filter((node) => isMap(node) || isSeq(node)).length - 1);
      const comment = texts
        .flatMap((text) => wrap(text, LINE_WIDTH - indent))
        .map((line) => ` ${line}`)
        .join('\n');
      const parent = path.at(-1);
      // The first field of a list item: above the `-`, where a reader looks for it.
      if (isMap(parent) && isSeq(path.at(-2)) && parent.items[0] === pair) parent.commentBefore = comment;
      else pair.key.commentBefore = comment;
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/** The document path of `pair` from the ancestors `visit` passes. */
function pathOf(ancestors: readonly unknown[], pair: Pair): (string | number)[] {
  const path: (string | number)[] = [];
  ancestors.forEach((node, i) => {
    const child = ancestors[i + 1] ?? pair;
    if (isPair(node) && isScalar(node.key)) path.push(String(node.key.value));
    else if (isSeq(node)) path.push(node.items.indexOf(child));
  });
  if (isScalar(pair.key)) path.push(String(pair.key.value));
  return path;
}

const LINE_WIDTH = 100;

/** Comment lines of at most `width` characters (or one long word), keeping the lines and indents a text has. */
function wrap(text: string, width: number): string[] {
  return text.split('\n').flatMap((paragraph) => {
    const indent = /^ */.exec(paragraph)![0];
    const lines: string[] = [];
    let line = indent;
    for (const word of paragraph.trimStart().split(' ')) {
      if (line.trim() !== '' && line.length + word.length + 1 > width - 2) {
        lines.push(line);
        line = `${indent}${word}`;
      } else line = line.trim() === '' ? `${indent}${word}` : `${line} ${word}`;
    }
    return [...lines, line];
  });
}
