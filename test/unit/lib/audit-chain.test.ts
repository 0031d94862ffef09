/**
 * The audit chain on its own: canonical hashing, and verification naming the first entry that does
 * not hold for every kind of change to a stored trail (edit, removal, insertion, reorder, a lost
 * tail, removed hash fields), with trails written before the chain reported as unchained.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  chainEntry,
  chainHead,
  chainStart,
  entryHash,
  verifyAuditChain,
  versionRanges,
  type ChainEntry,
} from '../../../src/lib/audit-chain.js';
import { FUZZ_SEED, fuzzRuns } from '../../support/fuzz.js';

const ID = 'rb-chain';
const T = Date.UTC(2026, 10, 23, 6, 0, 0);

interface Entry extends ChainEntry {
  event: string;
  by: string;
  state: string;
  detail?: Record<string, unknown>;
}

function plain(count: number): Entry[] {
  return Array.from({ length: count }, (_, i) => ({
    version: i + 1,
    at: T + i * 1_000,
    event: i === 0 ? 'DECLARE' : 'STEP_SUCCEEDED',
    by: i % 2 === 0 ? 'U0ONCALL1' : 'system',
    state: 'executing',
    ...(i === 2 ? { detail: { step: 1, roles: ['on-call-engineer'], note: 'é ✓' } } : {}),
  }));
}

function chained(entries: Entry[], from = chainStart(ID)): Array<Entry & { prev: string; hash: string }> {
  let prev = from;
  return entries.map((entry) => {
    const next = chainEntry(entry, prev);
    prev = next.hash;
    return next;
  });
}

const recordOf = (entries: readonly ChainEntry[]) => ({
  version: entries.length,
  auditHash: entries.at(-1)?.hash,
});

const verify = (entries: readonly ChainEntry[], record = recordOf(entries)) =>
  verifyAuditChain({ rollbackId: ID, entries, record });

describe('canonical hashing', () => {
  it('does not depend on key order or on fields JSON drops', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}',
    );
    const entry = { version: 1, at: T, event: 'X', by: 'system', state: 's', detail: { b: 2, a: 1 } };
    const shuffled = { detail: { a: 1, b: 2 }, state: 's', by: 'system', event: 'X', at: T, version: 1 };
    expect(entryHash(entry, 'p')).toBe(entryHash(shuffled, 'p'));
    expect(entryHash({ ...entry, detail: { a: 1, b: 2, gone: undefined } }, 'p')).toBe(entryHash(entry, 'p'));
    // It reads back from JSON as it was hashed.
    const stored = chainEntry(entry, 'p');
    expect(entryHash(JSON.parse(JSON.stringify(stored)) as object, 'p')).toBe(stored.hash);
  });

  it('binds the chain to its rollback and each entry to the one before', () => {
    expect(chainStart('rb-1')).not.toBe(chainStart('rb-2'));
    expect(chainStart(ID)).toMatch(/^[0-9a-f]{64}$/);
    const [first] = plain(1);
    expect(entryHash(first!, 'a')).not.toBe(entryHash(first!, 'b'));
    expect(chained(plain(3)).map((e) => e.prev)).toEqual([
      chainStart(ID),
      chained(plain(3))[0]!.hash,
      chained(plain(3))[1]!.hash,
    ]);
  });
});

describe('verifyAuditChain', () => {
  it('verifies an intact trail and gives its head', () => {
    const entries = chained(plain(6));
    expect(verify(entries)).toEqual({
      status: 'verified',
      entries: 6,
      unchained: [],
      head: entries[5]!.hash,
    });
    expect(chainHead(ID, entries)).toBe(entries[5]!.hash);
  });

  it('names an edited entry', () => {
    const entries = chained(plain(6));
    entries[3] = { ...entries[3]!, by: 'U0INTRUDER' };
    expect(verify(entries, recordOf(chained(plain(6))))).toEqual({
      status: 'broken',
      entries: 6,
      index: 3,
      version: 4,
      at: T + 3_000,
      problem: 'its content differs from what was written (it no longer matches its hash)',
    });
  });

  it('names the entry after a removed one', () => {
    const entries = chained(plain(6));
    const record = recordOf(entries);
    entries.splice(2, 1);
    expect(verify(entries, record)).toMatchObject({
      status: 'broken',
      index: 2,
      version: 4,
      problem:
        'it does not follow the entry before it (an entry was removed, added or moved): version 3 belongs here, found 4',
    });
  });

  it('names the first of two swapped entries', () => {
    const entries = chained(plain(6));
    const record = recordOf(entries);
    [entries[1], entries[2]] = [entries[2]!, entries[1]!];
    expect(verify(entries, record)).toMatchObject({ status: 'broken', index: 1, version: 3 });
  });

  it('names an inserted entry, even one chained onto its predecessor with a plausible version', () => {
    const entries = chained(plain(4));
    const record = recordOf(entries);
    const forged = chainEntry({ ...plain(1)[0]!, version: 3, event: 'APPROVE' }, entries[1]!.hash);
    entries.splice(2, 0, forged);
    // In place of version 3 it chains correctly; the real version 3 after it no longer does.
    expect(verify(entries, record)).toMatchObject({ status: 'broken', index: 3, version: 3 });
  });

  it('notices a lost tail from the record, and a rewritten last entry from the head', () => {
    const entries = chained(plain(5));
    expect(verify(entries.slice(0, 3), recordOf(entries))).toEqual({
      status: 'broken',
      entries: 3,
      index: 3,
      version: 4,
      at: null,
      problem: 'missing: the rollback is at version 5 but its audit ends after 3 entries',
    });
    // The last entry replaced by one chained correctly onto the one before: only the head shows it.
    const replaced = [
      ...entries.slice(0, 4),
      chainEntry({ ...entries[4]!, by: 'U0INTRUDER' }, entries[3]!.hash),
    ];
    expect(verify(replaced, recordOf(entries))).toMatchObject({
      status: 'broken',
      index: 4,
      problem: 'it is not the entry the rollback was last committed with (the head hash differs)',
    });
    expect(verify(entries, { version: 4, auditHash: undefined })).toMatchObject({
      status: 'broken',
      problem: 'the audit has 5 entries but the rollback is at version 4',
    });
  });

  it('names an entry whose chain fields were removed', () => {
    const entries = chained(plain(4));
    const record = recordOf(entries);
    const { hash: _hash, ...noHash } = entries[1]!;
    expect(verify([entries[0]!, noHash, ...entries.slice(2)], record)).toMatchObject({
      status: 'broken',
      index: 1,
      problem: 'it has no hash: a chain field was removed',
    });
    // Both fields gone from the last entry: the record was committed with a head, so it had them.
    const { hash: _h, prev: _p, ...bare } = entries[3]!;
    expect(verify([...entries.slice(0, 3), bare], record)).toMatchObject({
      status: 'broken',
      index: 3,
      problem: 'it carries no hash although the rollback was committed with one (its hash was removed)',
    });
  });

  it('reports a trail written before the chain as unchained, not broken', () => {
    expect(verify(plain(4), { version: 4, auditHash: undefined })).toEqual({
      status: 'unchained',
      entries: 4,
    });
    // Still in order: a removed entry of an old trail shows by its version.
    const gap = plain(4).filter((e) => e.version !== 2);
    expect(verify(gap, { version: 4, auditHash: undefined })).toMatchObject({ status: 'broken', index: 1 });
  });

  it('verifies a trail that began before the chain, and covers its old entries from the first chained one', () => {
    const old = plain(3);
    const entries = [...old, ...chained(plain(6).slice(3), chainHead(ID, old))];
    expect(verify(entries)).toEqual({
      status: 'verified',
      entries: 6,
      unchained: [1, 2, 3],
      head: entries[5]!.hash,
    });
    // An old entry edited: the first chained entry no longer follows it.
    const edited = entries.map((e, i) => (i === 1 ? { ...e, by: 'U0INTRUDER' } : e));
    expect(verify(edited, recordOf(entries))).toMatchObject({ status: 'broken', index: 3, version: 4 });
  });

  it('names every single edit, removal or swap at or before the entry it touched', () => {
    const arbitraryTrail = fc.integer({ min: 2, max: 30 }).map((n) => chained(plain(n)));
    fc.assert(
      fc.property(
        arbitraryTrail,
        fc.nat(),
        fc.constantFrom('edit', 'remove', 'swap', 'duplicate'),
        fc.string({ minLength: 1, maxLength: 8 }),
        (entries, pick, change, text) => {
          const record = recordOf(entries);
          const i = pick % entries.length;
          const changed = [...entries];
          if (change === 'edit') {
            const before = changed[i]!;
            changed[i] = { ...before, by: `${before.by}${text}` };
          } else if (change === 'remove') changed.splice(i, 1);
          else if (change === 'duplicate') changed.splice(i, 0, changed[i]!);
          else {
            const j = i === entries.length - 1 ? i - 1 : i + 1;
            [changed[i], changed[j]] = [changed[j]!, changed[i]!];
          }
          const verdict = verify(changed, record);
          expect(verdict.status).toBe('broken');
          if (verdict.status === 'broken') expect(verdict.index).toBeLessThanOrEqual(Math.max(i, 0) + 1);
        },
      ),
      { seed: FUZZ_SEED, numRuns: fuzzRuns(300) },
    );
  });
});

describe('versionRanges', () => {
  it('joins runs', () => {
    expect(versionRanges([1, 2, 3, 7, 9, 10])).toBe('1–3, 7, 9–10');
    expect(versionRanges([])).toBe('');
  });
});
