/**
 * Redis servers that tests start and own: a 3-node Redis Cluster and a standalone server with AOF that
 * can be stopped and started again on the same port and data folder. Each server is a child process on
 * a port found free at start, in its own temp folder; every child is killed when the test process
 * exits, even after a failure. The machine's shared Redis on 6379 is never touched here.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

const handedOut = new Set<number>();

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => {
      resolve(false);
    });
    server.listen(port, '127.0.0.1', () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}

/** A free port below 55535, so that a cluster node's bus port (port + 10000) exists and is free too. */
export async function findFreePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = 20_000 + Math.floor(Math.random() * 35_000);
    if (handedOut.has(port)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + 10_000))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port pair found for a test Redis');
}

/** Sends PING over a raw socket: true on +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => {
      finish(false);
    });
    socket.once('error', () => {
      finish(false);
    });
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      finish(data.toString().startsWith('+PONG'));
    });
  });
}

interface Child {
  process: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

async function spawnRedis(port: number, args: string[]): Promise<Child> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  const failure: { error?: Error } = {};
  child.once('error', (error) => {
    failure.error = error; // e.g. ENOENT: redis-server is not installed
  });
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(child);
      resolve();
    });
  });
  const deadline = Date.now() + 10_000;
  while (!(await ping(port))) {
    if (failure.error || child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      live.delete(child);
      const reason = failure.error ? `${failure.error.message} (apt-get install redis-server)` : output;
      throw new Error(`redis-server on port ${port} did not start: ${reason}`);
    }
    await sleep(30);
  }
  return { process: child, output: () => output, exited };
}

/** SIGTERM (Redis flushes its AOF and exits), then SIGKILL if it has not gone after 10 s. */
async function stopChild(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill('SIGTERM');
  const timeout = setTimeout(() => child.process.kill('SIGKILL'), 10_000);
  await child.exited;
  clearTimeout(timeout);
}

export interface StandaloneRedis {
  port: number;
  dir: string;
  url: string;
  /** SIGTERM and wait for the process to exit. */
  stop(): Promise<void>;
  /** Start again on the same port and data folder (after `stop`). */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stop and delete the data folder. */
  destroy(): Promise<void>;
}

/** A standalone redis-server persisting every write (`appendonly yes`, `appendfsync always`). */
export async function startStandaloneRedis(): Promise<StandaloneRedis> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rollback-bot-redis-'));
  const port = await findFreePort();
  const args = [
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    '--save',
    '',
    '--daemonize',
    'no',
    '--dir',
    dir,
  ];
  let child: Child | undefined = await spawnRedis(port, args);
  const stop = async (): Promise<void> => {
    if (child) await stopChild(child);
    child = undefined;
  };
  const start = async (): Promise<void> => {
    if (child) throw new Error(`redis-server on port ${port} is already running`);
    child = await spawnRedis(port, args);
  };
  return {
    port,
    dir,
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    destroy: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisCluster {
  nodes: Array<{ host: string; port: number }>;
  /** Comma-separated `redis://` seed URLs, the form `REDIS_URL` takes for a cluster. */
  url: string;
  stop(): Promise<void>;
}

async function clusterInfo(port: number): Promise<string> {
  try {
    const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info'], { timeout: 5_000 });
    return stdout;
  } catch {
    return '';
  }
}

/** Starts `size` masters (no replicas), joins them with `redis-cli --cluster create`, waits for state ok. */
export async function startRedisCluster(size = 3): Promise<RedisCluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rollback-bot-cluster-'));
  const children: Child[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(children.map(stopChild));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < size; i += 1) ports.push(await findFreePort());
    for (const port of ports) {
      const config = path.join(dir, `nodes-${port}.conf`);
      const args = ['--cluster-enabled', 'yes', '--cluster-config-file', config];
      children.push(
        await spawnRedis(port, [
          ...args,
          '--save',
          '',
          '--appendonly',
          'no',
          '--daemonize',
          'no',
          '--dir',
          dir,
        ]),
      );
    }
    const addresses = ports.map((port) => `127.0.0.1:${port}`);
    await run(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
      {
        timeout: 60_000,
      },
    );
    const deadline = Date.now() + 30_000;
    for (const port of ports) {
      for (;;) {
        const info = await clusterInfo(port);
        if (info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${size}`)) break;
        if (Date.now() > deadline) throw new Error(`cluster node ${port} is not ok:\n${info}`);
        await sleep(50);
      }
    }
    return {
      nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
      url: ports.map((port) => `redis://127.0.0.1:${port}`).join(','),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
