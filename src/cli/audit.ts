/**
 * `rollback-bot audit verify [ID]`: checks the audit chain of one rollback (or of every rollback) in
 * the bot's Redis, as REDIS_URL names it, and prints one line per rollback: OK, UNCHAINED (written
 * before the chain existed: nothing to check) or BROKEN with the first entry that does not hold.
 * Exit 0 when nothing is broken, 1 when something is, 2 when it could not check (usage, no Redis).
 */
import { AUDIT_CHAIN_SINCE, verifyAuditChain, versionRanges, type AuditVerdict } from '../lib/audit-chain.js';
import { redact } from '../store/redis/redis-url.js';
import type { RollbackReader } from '../store/store.js';
import { readBotRedis, type BotRedisOptions } from './bot-redis.js';
import { USAGE, type CliIo } from './io.js';

/** Reads of one chain that a concurrent commit may straddle: read again, at most this often. */
const READ_ATTEMPTS = 5;

export async function runAudit(
  args: readonly string[],
  io: CliIo,
  options: BotRedisOptions = {},
): Promise<number> {
  const [verb, id, ...rest] = args;
  if (verb !== 'verify' || rest.length > 0 || id?.startsWith('-')) {
    io.err(`rollback-bot audit: expected \`audit verify [ID]\`\n\n${USAGE}`);
    return 2;
  }
  const url = io.env.REDIS_URL?.trim();
  if (!url) {
    io.err("audit verify reads the bot's Redis: set REDIS_URL as the bot has it\n");
    return 2;
  }
  let results: Array<{ id: string; verdict: AuditVerdict | null }>;
  try {
    results = await readBotRedis(url, options, async (store) => {
      if (store === null) return id === undefined ? [] : [{ id, verdict: null }];
      const ids = id === undefined ? (await store.listRollbacks()).map((r) => r.id).reverse() : [id];
      const out: Array<{ id: string; verdict: AuditVerdict | null }> = [];
      for (const each of ids) out.push({ id: each, verdict: await verifyStored(store, each) });
      return out;
    });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    io.err(`audit verify: Redis at ${redact(url)} did not answer (${detail})\n`);
    return 2;
  }
  if (id !== undefined && results[0]?.verdict === null) {
    io.err(`audit verify: there is no rollback ${id} in this Redis\n`);
    return 1;
  }
  for (const { id: each, verdict } of results) {
    if (verdict !== null) io.out(`${each}  ${describeVerdict(verdict)}\n`);
  }
  const count = (status: AuditVerdict['status']) =>
    results.filter((r) => r.verdict?.status === status).length;
  const broken = count('broken');
  io.out(
    `${results.length} ${results.length === 1 ? 'rollback' : 'rollbacks'}: ${count('verified')} OK, ${count('unchained')} unchained, ${broken} broken\n`,
  );
  return broken > 0 ? 1 : 0;
}

/**
 * The verdict on what is stored now. The record and its audit are two reads: a commit between them
 * makes them disagree by one entry, so a disagreement is read again before it counts.
 */
async function verifyStored(store: RollbackReader, id: string): Promise<AuditVerdict | null> {
  let verdict: AuditVerdict | null = null;
  for (let attempt = 0; attempt < READ_ATTEMPTS; attempt += 1) {
    const record = await store.getRollback(id);
    const entries = await store.readAudit(id);
    if (record === null && entries.length === 0) return null;
    verdict = verifyAuditChain({ rollbackId: id, entries, record });
    const after = await store.getRollback(id);
    if (verdict.status !== 'broken' || after?.version === record?.version) return verdict;
  }
  return verdict;
}

export function describeVerdict(verdict: AuditVerdict): string {
  switch (verdict.status) {
    case 'verified': {
      const unchained =
        verdict.unchained.length === 0
          ? ''
          : `; entries ${versionRanges(verdict.unchained)} unchained (written before version ${AUDIT_CHAIN_SINCE})`;
      return `OK  ${verdict.entries} entries, chain intact${unchained}; head ${verdict.head}`;
    }
    case 'unchained':
      return `UNCHAINED  ${verdict.entries} entries written before version ${AUDIT_CHAIN_SINCE} carry no hash: nothing to verify`;
    case 'broken': {
      const version = verdict.version === null ? '' : `version ${verdict.version}, `;
      const at = verdict.at === null ? 'no time' : timeText(verdict.at);
      return `BROKEN  entry ${verdict.index + 1} (${version}${at}): ${verdict.problem}`;
    }
  }
}

/** An entry's time as ISO, or as the number it holds when that is no time (an edited entry). */
function timeText(at: number): string {
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? `at ${at}` : date.toISOString();
}
