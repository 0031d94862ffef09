/**
 * Key layout of the Redis store. Everything lives under one configurable prefix `P` (no braces).
 *
 * Redis Cluster runs a script or MULTI only when all its keys hash to one slot (else CROSSSLOT), and
 * a transition's commit writes the record, its audit stream, the outbox and the timers together. So
 * each rollback belongs to one of `shards` shards (FNV-1a of its id, modulo `shards`) and the shard is
 * the hash tag `{s<n>}`: every key of one commit shares it.
 *
 *   P:{s<n>}:rb:<id>            hash    id, version, state, final (1|0), snapshot (JSON), service,
 *                                       environment, createdAt, updatedAt, auditHead (`<version>:<hash>`
 *                                       of the newest audit entry; absent before the audit chain)
 *   P:{s<n>}:audit:<id>         stream  one entry per audit record, field `e` = JSON (with `prev` and
 *                                       `hash`, src/lib/audit-chain.ts)
 *   P:{s<n>}:outbox             stream  one entry per effect, field `e` = JSON; consumer group `workers`;
 *                                       an entry is XDEL'd once acknowledged
 *   P:{s<n>}:timers             zset    member = JSON [rollbackId, timer, seq, dueAt], score = due time
 *                                       (a claimed timer is re-scored to claim time + visibility)
 *   P:{s<n>}:index              zset    rollback ids by createdAt (listings)
 *   P:{s<n>}:active             zset    ids of rollbacks that are not final, by createdAt
 *   P:{s<n>}:svc:<service>      zset    ids of one service's rollbacks, by createdAt
 *
 * Keys outside any commit, each alone in its slot (or paired by its own hash tag):
 *
 *   P:meta:shards                       string  the shard count the data was written with
 *   P:{lease:<name>}                    string  lease owner, PX = lease TTL
 *   P:{lease:<name>}:fence              string  fencing counter (INCR, never expires)
 *   P:once:<key>                        string  rememberOnce marker, PX = TTL
 *   P:lock:<service>:<environment>      string  id of the active rollback
 *   P:docs:<collection>                 hash    field = doc key, value = `<version>:<JSON>` (a collection
 *                                       without a TTL, collections.ts)
 *   P:doc:<collection>:<key>            string  `<version>:<JSON>`, PX = the collection's TTL (a collection
 *                                       with one: Redis 7.0 cannot expire one field of a hash)
 *   P:deploys:<service>:<environment>   zset    member = deployment JSON, score = `at`; newest 200 kept
 *
 * Service, environment and collection names are URI-encoded inside keys, so a `:` in a name cannot
 * make two different pairs collide. A document key is left as written: it ends its key.
 */

export const DEFAULT_SHARDS = 16;
export const OUTBOX_GROUP = 'workers';
export const DEPLOYMENTS_KEPT = 200;

/** FNV-1a, 32 bits: stable across processes and versions, unlike anything seeded. */
export function shardOf(id: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i += 1) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}

const part = (name: string): string => encodeURIComponent(name);

export class KeySpace {
  constructor(
    readonly prefix: string,
    readonly shards: number,
  ) {
    if (!/^[^{}\s]+$/.test(prefix)) {
      throw new Error(`Redis key prefix "${prefix}" must be non-empty, without braces or spaces`);
    }
    if (!Number.isInteger(shards) || shards < 1 || shards > 1024) {
      throw new Error(`shards must be an integer from 1 to 1024, got ${shards}`);
    }
  }

  shardOf(rollbackId: string): number {
    return shardOf(rollbackId, this.shards);
  }

  allShards(): number[] {
    return Array.from({ length: this.shards }, (_, n) => n);
  }

  private shard(n: number): string {
    return `${this.prefix}:{s${n}}`;
  }

  rollback(id: string): string {
    return `${this.shard(this.shardOf(id))}:rb:${id}`;
  }

  audit(id: string): string {
    return `${this.shard(this.shardOf(id))}:audit:${id}`;
  }

  outbox(shard: number): string {
    return `${this.shard(shard)}:outbox`;
  }

  timers(shard: number): string {
    return `${this.shard(shard)}:timers`;
  }

  index(shard: number): string {
    return `${this.shard(shard)}:index`;
  }

  active(shard: number): string {
    return `${this.shard(shard)}:active`;
  }

  serviceIndex(shard: number, service: string): string {
    return `${this.shard(shard)}:svc:${part(service)}`;
  }

  meta(): string {
    return `${this.prefix}:meta:shards`;
  }

  lease(name: string): string {
    return `${this.prefix}:{lease:${name}}`;
  }

  fence(name: string): string {
    return `${this.lease(name)}:fence`;
  }

  once(key: string): string {
    return `${this.prefix}:once:${key}`;
  }

  lock(service: string, environment: string): string {
    return `${this.prefix}:lock:${part(service)}:${part(environment)}`;
  }

  docs(collection: string): string {
    return `${this.prefix}:docs:${part(collection)}`;
  }

  /** The key as written (it is the end of the name, so a `:` in it is unambiguous): readable in redis-cli. */
  doc(collection: string, key: string): string {
    return `${this.prefix}:doc:${part(collection)}:${key}`;
  }

  deployments(service: string, environment: string): string {
    return `${this.prefix}:deploys:${part(service)}:${part(environment)}`;
  }
}
