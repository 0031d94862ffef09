/**
 * The bot as shipped (`src/main.ts`, configured by its environment alone) in a child process: a
 * replica for the multi-replica and crash tests. Resolves once it logs that it listens, with the
 * port it bound; every child is killed when the test process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface BotReplica {
  port: number;
  pid: number;
  /** The last lines it printed (JSON logs), for a failure message. */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * `modules`: where the bot's code comes from, `src` under tsx (the default: no build needed) or the
 * build in `dist` on plain Node, as `npm start` runs it (bench/kit.ts botModules decides).
 */
export async function startBotReplica(
  env: Record<string, string>,
  modules: { root: 'dist' | 'src'; nodeArgs: string[] } = { root: 'src', nodeArgs: ['--import', 'tsx'] },
): Promise<BotReplica> {
  const main = modules.root === 'dist' ? 'dist/main.js' : 'src/main.ts';
  const child = spawn(process.execPath, [...modules.nodeArgs, main], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let output = '';
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(child);
      resolve();
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(
          `the replica did not start in 120 s (tsx compiles the bot on start: slow on a loaded machine):\n${output}`,
        ),
      );
    }, 120_000);
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-20_000);
      const listening = /"port":(\d+)[^\n]*rollback-bot is listening/.exec(output);
      if (listening) {
        clearTimeout(timer);
        resolve(Number(listening[1]));
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the replica exited before it listened:\n${output}`));
    });
  });
  return {
    port,
    pid: child.pid!,
    output: () => output,
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
