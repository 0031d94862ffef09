/**
 * What the benches share: the smoke switch, percentiles, a Redis prefix of their own (deleted after),
 * and the summary line each bench ends with. `BENCH_SMOKE=1` shrinks every bench to a few seconds:
 * it proves that the bench runs and prints its line, and its figures mean nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { deleteKeysWithPrefix } from '../test/support/redis-cleanup.js';

export const SMOKE = process.env.BENCH_SMOKE === '1';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** `full` normally, `smoke` under BENCH_SMOKE=1; an explicit environment variable wins over both. */
export function sized(name: string, full: number, smoke: number): number {
  const given = process.env[name];
  if (given !== undefined && given !== '') return Number(given);
  return SMOKE ? smoke : full;
}

/** Nearest-rank percentile (`q` in 0..1) of ascending `sorted`. */
export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

export const ascending = (values: readonly number[]): number[] => [...values].sort((a, b) => a - b);

export const ms = (n: number): string => `${n.toFixed(1)} ms`;

export const mib = (bytes: number): string => `${Math.round(bytes / 1_048_576)} MiB`;

/** Prints the one line `npm run bench` collects: `SUMMARY <bench>: <figures>`. */
export function summary(bench: string, figures: string): void {
  console.log(`SUMMARY ${bench}: ${figures}`);
}

/** A fresh key prefix under which a bench writes, and its cleanup (SCAN + DEL of it only). */
export async function redisPrefix(bench: string): Promise<{
  prefix: string;
  /** False when Redis does not answer: the bench skips its Redis part and says so. */
  up: boolean;
  cleanup: () => Promise<number>;
}> {
  const prefix = `bench-${bench}:${process.pid}-${randomBytes(4).toString('hex')}`;
  const admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await admin.connect();
    await admin.ping();
  } catch {
    admin.disconnect();
    return { prefix, up: false, cleanup: () => Promise.resolve(0) };
  }
  return {
    prefix,
    up: true,
    cleanup: async () => {
      const deleted = await deleteKeysWithPrefix(admin, prefix);
      await admin.quit();
      return deleted;
    },
  };
}

/** Polls `probe` every `everyMs` until it holds; false if `timeoutMs` passed first. */
export async function until(
  probe: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 10,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return true;
}

const REPO = fileURLToPath(new URL('..', import.meta.url));

/**
 * How a bench runs the bot in a process of its own: as `npm start` runs it, from the build (`dist/`,
 * built here first, so it is the code of the working tree) with plain Node; or from `src/` under tsx,
 * which costs memory and start-up time a deployed bot never pays (BENCH_TSX=1). Under BENCH_SMOKE
 * the build is skipped: `dist/` when it is newer than every source file (CI builds before the
 * benches), else tsx, whose start-up takes seconds longer.
 */
export function botModules(): { root: 'dist' | 'src'; nodeArgs: string[] } {
  const tsx = { root: 'src' as const, nodeArgs: ['--import', 'tsx'] };
  if (process.env.BENCH_TSX === '1') return tsx;
  if (SMOKE) return builtIsCurrent() ? { root: 'dist', nodeArgs: [] } : tsx;
  const built = spawnSync(
    process.execPath,
    [`${REPO}node_modules/typescript/bin/tsc`, '-p', `${REPO}tsconfig.build.json`],
    { stdio: 'inherit' },
  );
  if (built.status !== 0) throw new Error('npm run build failed: the bench needs the bot built');
  return { root: 'dist', nodeArgs: [] };
}

/** True when `dist/` was built after the last change to `src/` (tsc writes every output file). */
function builtIsCurrent(): boolean {
  const built = statSync(`${REPO}dist/main.js`, { throwIfNoEntry: false });
  if (built === undefined) return false;
  const sources = readdirSync(`${REPO}src`, { recursive: true, withFileTypes: true });
  return sources.every(
    (entry) => !entry.isFile() || statSync(join(entry.parentPath, entry.name)).mtimeMs <= built.mtimeMs,
  );
}

export type ServerKind = 'bare' | 'memory' | 'redis';

/** A server under test in a process of its own (bench/ack-server.ts). */
export interface BenchServer {
  kind: ServerKind;
  port: number;
  /** Writes a command ("mark", "usage") and resolves with the server's JSON answer. */
  send(line: string): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/**
 * Starts bench/ack-server.ts as `kind` on `modules`; `env` gives it what that file reads (SIM_URL,
 * SIGNING_SECRET, BOT_TOKEN, ALERT_TOKEN, PLAN_DIR, PREFIX). BENCH_NODE_ARGS="--cpu-prof
 * --cpu-prof-dir=DIR" profiles it.
 */
export async function startBenchServer(
  kind: ServerKind,
  modules: ReturnType<typeof botModules>,
  env: Record<string, string>,
): Promise<BenchServer> {
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  const child = spawn(
    process.execPath,
    [...nodeArgs, ...modules.nodeArgs, join(import.meta.dirname, 'ack-server.ts'), kind],
    { env: { ...process.env, ...env, BOT_ROOT: modules.root }, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextJson = async (): Promise<Record<string, number>> => {
    const next = await lines.next();
    if (next.done === true) throw new Error(`the ${kind} server ended early (exit ${String(await exited)})`);
    return JSON.parse(next.value) as Record<string, number>;
  };
  const { port } = await nextJson();
  return {
    kind,
    port: port!,
    send(line) {
      child.stdin.write(`${line}\n`);
      return nextJson();
    },
    async stop() {
      child.stdin.write('stop\n');
      await exited;
    },
  };
}
