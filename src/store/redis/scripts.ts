/**
 * Lua scripts of the Redis store. Each one touches keys of a single hash slot only (see keys.ts), so
 * it runs unchanged on one node and on Redis Cluster. Scripts return `false` (nil) instead of empty
 * values and never put nil inside a table (Lua would cut the table short).
 */
import type { Cluster, Redis, Result } from 'ioredis';

/**
 * KEYS: rb, audit, outbox, timers, index, active, serviceIndex.
 * ARGV: expectedVersion, id, version, state, final (1|0), snapshot, service, environment, createdAt,
 * updatedAt, auditHead (`<version>:<hash>`, or empty: none), then `n` and n audit JSONs, `n` and n
 * effect JSONs, `n` and n (score, member) timer pairs.
 * Returns {1, version} when written, {0, currentVersion} on a version conflict (nothing written).
 */
const COMMIT = `
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then return {0, current} end
redis.call('HSET', KEYS[1], 'id', ARGV[2], 'version', ARGV[3], 'state', ARGV[4], 'final', ARGV[5],
  'snapshot', ARGV[6], 'service', ARGV[7], 'environment', ARGV[8], 'createdAt', ARGV[9], 'updatedAt', ARGV[10])
if ARGV[11] == '' then redis.call('HDEL', KEYS[1], 'auditHead') else redis.call('HSET', KEYS[1], 'auditHead', ARGV[11]) end
local i = 12
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('XADD', KEYS[2], '*', 'e', ARGV[i]); i = i + 1 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('XADD', KEYS[3], '*', 'e', ARGV[i]); i = i + 1 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('ZADD', KEYS[4], ARGV[i], ARGV[i + 1]); i = i + 2 end
redis.call('ZADD', KEYS[5], ARGV[9], ARGV[2])
redis.call('ZADD', KEYS[7], ARGV[9], ARGV[2])
if ARGV[5] == '1' then redis.call('ZREM', KEYS[6], ARGV[2]) else redis.call('ZADD', KEYS[6], ARGV[9], ARGV[2]) end
return {1, tonumber(ARGV[3])}
`;

/**
 * KEYS: outbox. ARGV: group, consumer, minIdleMs, count.
 * XAUTOCLAIM until `count` entries or the end of the pending list, then each entry's delivery count
 * from XPENDING (XAUTOCLAIM has already incremented it). Returns {{id, fields, deliveries}, ...}.
 * Entries deleted from the stream are skipped (Redis 6.2 returns them as nil, 7.x drops them).
 */
const RECLAIM = `
local out = {}
local got = 0
local want = tonumber(ARGV[4])
local cursor = '0-0'
repeat
  local reply = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], cursor, 'COUNT', want - got)
  cursor = reply[1]
  for _, entry in ipairs(reply[2]) do
    if type(entry) == 'table' and type(entry[2]) == 'table' then
      local pending = redis.call('XPENDING', KEYS[1], ARGV[1], entry[1], entry[1], 1)
      local deliveries = 1
      if pending[1] then deliveries = pending[1][4] end
      got = got + 1
      out[got] = {entry[1], entry[2], deliveries}
    end
  end
until cursor == '0-0' or got >= want
return out
`;

/** KEYS: outbox. ARGV: group, id. Acknowledges and deletes, so the stream holds only live effects. */
const ACK = `
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return redis.call('XDEL', KEYS[1], ARGV[2])
`;

/** KEYS: timers. ARGV: now, limit, visibleAgainAt. Due members, hidden until visibleAgainAt. */
const CLAIM_TIMERS = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[3], member) end
return due
`;

/** KEYS: lease, fence. ARGV: owner, ttlMs. A new fencing token, or nil when another owner holds it. */
const ACQUIRE_LEASE = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return false end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return redis.call('INCR', KEYS[2])
`;

/** KEYS: lease. ARGV: owner, ttlMs. 1 when renewed by its owner. */
const RENEW_LEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

/** KEYS: key. ARGV: expected. Deletes the key only while it holds `expected`; 1 when deleted. */
const DELETE_IF_EQUAL = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

/** KEYS: lock. ARGV: rollbackId. {1, holder} when taken (or already ours), {0, holder} otherwise. */
const ACQUIRE_LOCK = `
local holder = redis.call('GET', KEYS[1])
if not holder then
  redis.call('SET', KEYS[1], ARGV[1])
  return {1, ARGV[1]}
end
if holder == ARGV[1] then return {1, holder} end
return {0, holder}
`;

/** KEYS: lock. ARGV: expectedHolder, rollbackId. 1 when replaced. */
const REPLACE_LOCK = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`;

/** KEYS: docs hash. ARGV: key, expectedVersion, JSON. Stores `<version>:<JSON>`; 1 when written. */
const PUT_DOC = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
local version = 0
if current then version = tonumber(string.match(current, '^(%d+):')) end
if version ~= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], string.format('%d', version + 1) .. ':' .. ARGV[3])
return 1
`;

/**
 * KEYS: doc (a string key). ARGV: expectedVersion, JSON, ttlMs, versionIfAbsent. Stores
 * `<version>:<JSON>` with the TTL, in the same write; 1 when written. An absent key (or an expired one)
 * has version `versionIfAbsent`: 0, or the version of the document in the hash written before the
 * collection had a TTL (see RedisStore.putDoc).
 */
const PUT_EXPIRING_DOC = `
local current = redis.call('GET', KEYS[1])
local version = tonumber(ARGV[4])
if current then version = tonumber(string.match(current, '^(%d+):')) end
if version ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], string.format('%d', version + 1) .. ':' .. ARGV[2], 'PX', ARGV[3])
return 1
`;

/** KEYS: key. ARGV: ttlMs. Sets the TTL only on a key that has none (PEXPIRE NX before Redis 7.0). */
const EXPIRE_IF_PERSISTENT = `
if redis.call('PTTL', KEYS[1]) ~= -1 then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[1])
`;

type Arg = string | number;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    rbCommit(...args: Arg[]): Result<unknown, Context>;
    rbReclaim(
      outbox: string,
      group: string,
      consumer: string,
      minIdleMs: number,
      count: number,
    ): Result<unknown, Context>;
    rbAck(outbox: string, group: string, id: string): Result<unknown, Context>;
    rbClaimTimers(
      timers: string,
      now: number,
      limit: number,
      visibleAgainAt: number,
    ): Result<unknown, Context>;
    rbAcquireLease(lease: string, fence: string, owner: string, ttlMs: number): Result<unknown, Context>;
    rbRenewLease(lease: string, owner: string, ttlMs: number): Result<unknown, Context>;
    rbDeleteIfEqual(key: string, expected: string): Result<unknown, Context>;
    rbAcquireLock(lock: string, rollbackId: string): Result<unknown, Context>;
    rbReplaceLock(lock: string, expectedHolder: string, rollbackId: string): Result<unknown, Context>;
    rbPutDoc(docs: string, key: string, expectedVersion: number, json: string): Result<unknown, Context>;
    rbPutExpiringDoc(
      doc: string,
      expectedVersion: number,
      json: string,
      ttlMs: number,
      versionIfAbsent: number,
    ): Result<unknown, Context>;
    rbExpireIfPersistent(key: string, ttlMs: number): Result<unknown, Context>;
  }
}

export const COMMIT_KEYS = 7;

/** Registers the scripts on a client (EVALSHA, falling back to EVAL on NOSCRIPT, per node). */
export function defineScripts(client: Redis | Cluster): void {
  const define = (name: string, numberOfKeys: number, lua: string): void => {
    client.defineCommand(name, { numberOfKeys, lua });
  };
  define('rbCommit', COMMIT_KEYS, COMMIT);
  define('rbReclaim', 1, RECLAIM);
  define('rbAck', 1, ACK);
  define('rbClaimTimers', 1, CLAIM_TIMERS);
  define('rbAcquireLease', 2, ACQUIRE_LEASE);
  define('rbRenewLease', 1, RENEW_LEASE);
  define('rbDeleteIfEqual', 1, DELETE_IF_EQUAL);
  define('rbAcquireLock', 1, ACQUIRE_LOCK);
  define('rbReplaceLock', 1, REPLACE_LOCK);
  define('rbPutDoc', 1, PUT_DOC);
  define('rbPutExpiringDoc', 1, PUT_EXPIRING_DOC);
  define('rbExpireIfPersistent', 1, EXPIRE_IF_PERSISTENT);
}
