/**
 * The Dockerfile cannot be built on the machines the suite runs on (no Docker engine), so it is read
 * instead: the image that ships must contain every program an executor starts (each executor's
 * `programs`; the build runs `<program> --version` so a missing one fails the build, not a
 * rollback), run as a non-root user under an init, and say what every variable does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_VARIABLES } from '../../../src/config/env.js';
import { defaultRegistry } from '../../../src/executors/default-registry.js';

const root = join(import.meta.dirname, '../../..');
const text = readFileSync(join(root, 'Dockerfile'), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions in order, continuation lines joined, comments dropped. */
function instructions(source: string): Instruction[] {
  const joined = source
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

const all = instructions(text);
const froms = all.flatMap((instruction, index) => (instruction.keyword === 'FROM' ? [index] : []));
const globalArgs = Object.fromEntries(
  all
    .slice(0, froms[0])
    .filter((i) => i.keyword === 'ARG')
    .map((i) => i.args.split('=') as [string, string]),
);
const finalStage = all.slice(froms.at(-1));
const inFinal = (keyword: string) => finalStage.filter((i) => i.keyword === keyword);
const programs = defaultRegistry()
  .kinds()
  .flatMap((kind) => defaultRegistry().get(kind)?.programs ?? []);

describe('Dockerfile', () => {
  it('is multi-stage on Node 24', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const index of froms) {
      const image = all[index]!.args.split(/\s+/)[0]!.replace(
        /^\$\{(\w+)\}$/,
        (_, name: string) => globalArgs[name] ?? '',
      );
      expect(image).toMatch(/^node:24[-.]/);
    }
  });

  it.each(programs)('installs %s in the final stage and fails the build when it is missing', (program) => {
    expect(programs.length).toBeGreaterThan(0);
    const checked = inFinal('RUN').some((run) =>
      new RegExp(`(^|[\\s;&|])${program} --version`).test(run.args),
    );
    expect(checked, `the final stage must RUN ${program} --version`).toBe(true);
  });

  it('takes a current postgresql-client and CA certificates from apt in the final stage', () => {
    const install = inFinal('RUN').find(
      (run) => run.args.includes('apt-get install') && run.args.includes('postgresql-client'),
    );
    expect(install?.args).toContain('"postgresql-client-${PG_MAJOR}"');
    expect(install?.args).toContain('ca-certificates');
    const major = inFinal('ARG')
      .find((arg) => arg.args.startsWith('PG_MAJOR='))
      ?.args.split('=')[1];
    // pg_dump refuses servers of a newer major: 17 and 18 are the majors current when this was written.
    expect(Number(major)).toBeGreaterThanOrEqual(17);
  });

  it('runs as a numeric non-root user under tini', () => {
    const user = inFinal('USER').at(-1)?.args;
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(user?.split(':')[0]).not.toBe('0');
    expect(inFinal('RUN').some((run) => /apt-get install[^;&]*\btini\b/.test(run.args))).toBe(true);
    expect(JSON.parse(inFinal('ENTRYPOINT').at(-1)?.args ?? '[]')).toEqual(['/usr/bin/tini', '--']);
    expect(JSON.parse(inFinal('CMD').at(-1)?.args ?? '[]')).toEqual(['node', 'dist/main.js']);
  });

  it('reads the plans from a mounted folder', () => {
    expect(inFinal('ENV').some((env) => /\bROLLBACK_CONFIG=\/config\b/.test(env.args))).toBe(true);
  });

  it.each([...ENV_VARIABLES])('documents %s', (name) => {
    const comments = text
      .split('\n')
      .filter((line) => line.startsWith('#'))
      .join('\n');
    expect(comments).toMatch(new RegExp(`^#\\s+${name}\\s`, 'm'));
    expect(readFileSync(join(root, 'docs/operations/configuration.md'), 'utf8')).toContain(`\`${name}\``);
    expect(readFileSync(join(root, '.env.example'), 'utf8')).toMatch(new RegExp(`^${name}=`, 'm'));
  });
});
