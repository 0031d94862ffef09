/**
 * `npm run bench`: runs every bench in turn, each in its own process (so one's memory and open
 * connections do not skew the next), and prints their figures. Needs Redis (REDIS_URL, default
 * redis://127.0.0.1:6379); each bench cleans up its own prefix.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const BENCHES = [
  'dispatch-latency.ts',
  'store-reads.ts',
  'redis-memory.ts',
  'ack-latency.ts',
  'alert-ingest.ts',
  'orchestration-overhead.ts',
  'many-rollbacks.ts',
  'recovery.ts',
  'startup.ts',
  'alert-to-thread.ts',
];

let failed = 0;
for (const bench of BENCHES) {
  console.log(`\n=== bench/${bench} ===`);
  const began = Date.now();
  // process.execPath is the Node 24 running this script; tsx is loaded the same way `npx tsx` does.
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, bench)], {
    stdio: 'inherit',
  });
  const seconds = ((Date.now() - began) / 1_000).toFixed(1);
  if (result.status !== 0) {
    failed++;
    console.log(`bench/${bench} FAILED (exit ${result.status ?? result.signal ?? '?'}) after ${seconds}s`);
  } else {
    console.log(`(bench/${bench}: ${seconds}s)`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
