/**
 * The audit trail of a rollback as a hash chain, so that an entry edited, removed, added or moved in
 * the store after it was written shows. Each entry carries `prev`, the hash of the entry before it
 * (for the first: of the rollback id), and `hash`, sha256 over `prev` and the entry's own fields in
 * canonical JSON (keys sorted, as the value reads back from a store). The record keeps the hash of
 * its newest entry, so losing the last entries shows too. Pure and deterministic: the engine chains
 * what it commits and `rollback-bot audit verify` and the post-mortem check what was stored, with
 * the same functions.
 *
 * Entries written before the chain existed (or, during a rolling upgrade, by an older replica) have
 * no hash: they are reported as unchained, not broken. They are still hashed on the way (the entry
 * after one chains onto its content), so an edit of one shows at the next chained entry.
 *
 * The chain detects changes made without recomputing it. Someone who can write Redis and recomputes
 * every hash and the record's head is not detected here: the post-mortem posts the head hash in
 * Slack, outside Redis, so a later rewrite of a finished rollback disagrees with it.
 */
import { createHash } from 'node:crypto';

/** The release that started chaining: entries without a hash were written before it. */
export const AUDIT_CHAIN_SINCE = '0.2.0';

/** The fields an entry gains from the chain; everything else in it is what it records. */
export interface ChainFields {
  prev?: string | undefined;
  hash?: string | undefined;
}

/** An audit entry as the chain sees it: its version (1, 2, ...) and time, and any other JSON fields. */
export interface ChainEntry extends ChainFields {
  version: number;
  at: number;
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** JSON with object keys sorted at every depth, of the value as it reads back from JSON. */
export function canonicalJson(value: unknown): string {
  const text = JSON.stringify(value) as string | undefined;
  return text === undefined ? 'null' : sorted(JSON.parse(text) as unknown);
}

function sorted(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sorted).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${sorted(record[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The `prev` of a rollback's first entry: binds the chain to the rollback it belongs to. */
export function chainStart(rollbackId: string): string {
  return sha256(`rollback-bot audit chain v1\n${rollbackId}`);
}

/** The hash of an entry whose predecessor hashed to `prev` (its own `prev` and `hash` left out). */
export function entryHash(entry: object, prev: string): string {
  const { prev: _prev, hash: _hash, ...content } = entry as ChainFields & Record<string, unknown>;
  return sha256(`${prev}\n${canonicalJson(content)}`);
}

/** The entry with its place in the chain: after the entry that hashed to `prev`. */
export function chainEntry<E extends object>(entry: E, prev: string): E & { prev: string; hash: string } {
  return { ...entry, prev, hash: entryHash(entry, prev) };
}

/**
 * The hash the next entry chains onto, for entries read back from a store (the engine needs it
 * when a record carries no head: written before the chain, or by an older replica).
 */
export function chainHead(rollbackId: string, entries: readonly ChainEntry[]): string {
  let head = chainStart(rollbackId);
  for (const entry of entries) head = entry.hash ?? entryHash(entry, head);
  return head;
}

export type AuditVerdict =
  /** Every chained entry is intact and in place. `unchained` lists the versions that carry no hash. */
  | { status: 'verified'; entries: number; unchained: number[]; head: string }
  /** No entry carries a hash: all were written before the chain. Nothing to check, nothing broken. */
  | { status: 'unchained'; entries: number }
  /** `index` (0-based) is the first entry that does not hold; `problem` says what differs. */
  | {
      status: 'broken';
      entries: number;
      index: number;
      version: number | null;
      at: number | null;
      problem: string;
    };

export interface ChainToVerify {
  rollbackId: string;
  /** In stored order. */
  entries: readonly ChainEntry[];
  /**
   * The rollback record: its version, and the hash of the newest entry it was committed with
   * (absent when that commit was made before the chain, or by an older replica).
   */
  record: { version: number; auditHash?: string | undefined } | null;
}

/** Checks a stored chain from its start and names the first entry that does not hold. */
export function verifyAuditChain({ rollbackId, entries, record }: ChainToVerify): AuditVerdict {
  const broken = (index: number, problem: string): AuditVerdict => {
    const entry = entries[index];
    return {
      status: 'broken',
      entries: entries.length,
      index,
      version: entry?.version ?? null,
      at: entry?.at ?? null,
      problem,
    };
  };
  let head = chainStart(rollbackId);
  const unchained: number[] = [];
  for (const [index, entry] of entries.entries()) {
    const chained = entry.prev !== undefined || entry.hash !== undefined;
    if (chained) {
      if (entry.prev === undefined || entry.hash === undefined) {
        return broken(
          index,
          `it has ${entry.prev === undefined ? 'no prev' : 'no hash'}: a chain field was removed`,
        );
      }
      if (entryHash(entry, entry.prev) !== entry.hash) {
        return broken(index, 'its content differs from what was written (it no longer matches its hash)');
      }
    }
    if (entry.version !== index + 1 || (chained && entry.prev !== head)) {
      const found =
        entry.version === index + 1 ? '' : `: version ${index + 1} belongs here, found ${entry.version}`;
      return broken(
        index,
        `it does not follow the entry before it (an entry was removed, added or moved)${found}`,
      );
    }
    if (!chained) unchained.push(entry.version);
    head = entry.hash ?? entryHash(entry, head);
  }
  if (record !== null && record.version !== entries.length) {
    const missing = record.version > entries.length;
    return {
      status: 'broken',
      entries: entries.length,
      index: entries.length,
      version: missing ? entries.length + 1 : null,
      at: null,
      problem: missing
        ? `missing: the rollback is at version ${record.version} but its audit ends after ${entries.length} entries`
        : `the audit has ${entries.length} entries but the rollback is at version ${record.version}`,
    };
  }
  // The commit that stored a head wrote a chained entry: a bare one there had its hash removed.
  if (record?.auditHash !== undefined && entries.at(-1)?.hash === undefined) {
    return broken(
      entries.length - 1,
      'it carries no hash although the rollback was committed with one (its hash was removed)',
    );
  }
  if (record?.auditHash !== undefined && record.auditHash !== head) {
    return broken(
      entries.length - 1,
      'it is not the entry the rollback was last committed with (the head hash differs)',
    );
  }
  if (entries.length > 0 && unchained.length === entries.length) {
    return { status: 'unchained', entries: entries.length };
  }
  return { status: 'verified', entries: entries.length, unchained, head };
}

/** `1–3, 7` for versions 1, 2, 3 and 7. */
export function versionRanges(versions: readonly number[]): string {
  const ranges: string[] = [];
  for (let i = 0; i < versions.length;) {
    let j = i;
    while (j + 1 < versions.length && versions[j + 1] === versions[j]! + 1) j += 1;
    ranges.push(i === j ? `${versions[i]}` : `${versions[i]}–${versions[j]}`);
    i = j + 1;
  }
  return ranges.join(', ');
}
