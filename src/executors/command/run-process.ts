/**
 * Runs a program from an argv array (never a shell string, so nothing from a template can inject a
 * command), in its own process group so that a timeout or an abort ends the whole tree: SIGTERM
 * first, SIGKILL after a grace period. Output is streamed line by line and kept up to a limit.
 */
import { spawn } from 'node:child_process';

export interface ProcessRequest {
  argv: readonly [string, ...string[]];
  cwd?: string;
  env?: Readonly<Record<string, string>>;
  timeoutMs: number;
  signal: AbortSignal;
  /** Time between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  /** Characters of output kept (the tail wins: the end of a log says why it failed). */
  maxOutputChars?: number;
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface ProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Why it ended early, if it did. */
  ended: 'exited' | 'timeout' | 'aborted' | 'spawn_error';
  output: string;
  truncated: boolean;
  spawnError?: string;
  durationMs: number;
}

export function runProcess(request: ProcessRequest): Promise<ProcessResult> {
  const started = performance.now();
  const maxChars = request.maxOutputChars ?? 64_000;
  const killGraceMs = request.killGraceMs ?? 5_000;
  let output = '';
  let truncated = false;
  const keep = (text: string): void => {
    output += text;
    if (output.length > maxChars) {
      output = output.slice(output.length - maxChars);
      truncated = true;
    }
  };

  return new Promise((resolve) => {
    const [program, ...args] = request.argv;
    let ended: ProcessResult['ended'] = 'exited';
    let spawnError: string | undefined;
    const child = spawn(program, args, {
      cwd: request.cwd,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...request.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });

    const killGroup = (signal: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (why: 'timeout' | 'aborted'): void => {
      if (ended !== 'exited') return;
      ended = why;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => {
        killGroup('SIGKILL');
      }, killGraceMs);
    };
    const timeout = setTimeout(() => {
      stop('timeout');
    }, request.timeoutMs);
    const onAbort = (): void => {
      stop('aborted');
    };
    if (request.signal.aborted) onAbort();
    request.signal.addEventListener('abort', onAbort);

    for (const [stream, name] of [
      [child.stdout, 'stdout'],
      [child.stderr, 'stderr'],
    ] as const) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        keep(chunk);
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) request.onLine?.(line, name);
      });
      stream.on('end', () => {
        if (partial) request.onLine?.(partial, name);
      });
    }

    child.on('error', (error) => {
      spawnError = error.message;
      ended = 'spawn_error';
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timeout);
      clearTimeout(killTimer);
      request.signal.removeEventListener('abort', onAbort);
      // The leader exited; make sure nothing it started lives on.
      if (ended !== 'spawn_error') killGroup('SIGKILL');
      resolve({
        exitCode,
        signal,
        ended,
        output,
        truncated,
        durationMs: performance.now() - started,
        ...(spawnError === undefined ? {} : { spawnError }),
      });
    });
  });
}
