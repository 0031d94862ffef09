/** How a rollback record's audit head is written to and read from its Redis hash. */
import { describe, expect, it } from 'vitest';
import { decodeRollback, rollbackFields } from '../../../src/store/redis/codec.js';

const hash = (fields: Record<string, string> = {}) => ({
  id: 'rb-1',
  service: 'checkout',
  environment: 'production',
  version: '7',
  state: 'executing',
  final: '0',
  snapshot: '{}',
  createdAt: '1',
  updatedAt: '2',
  ...fields,
});

describe('the audit head of a rollback record', () => {
  it('is stored with the version that wrote it', () => {
    const fields = rollbackFields({ ...decodeRollback(hash(), 'k')!, auditHash: 'ab'.repeat(32) });
    expect(fields.at(-1)).toBe(`7:${'ab'.repeat(32)}`);
    expect(rollbackFields(decodeRollback(hash(), 'k')!).at(-1)).toBe('');
  });

  it('reads as none when a replica older than the chain committed the record after it', () => {
    expect(decodeRollback(hash({ auditHead: `7:${'cd'.repeat(32)}` }), 'k')?.auditHash).toBe('cd'.repeat(32));
    // Version 7 written by an older replica that left the head of version 6 in place.
    expect(decodeRollback(hash({ auditHead: `6:${'cd'.repeat(32)}` }), 'k')).not.toHaveProperty('auditHash');
    expect(decodeRollback(hash({ auditHead: 'garbage' }), 'k')).not.toHaveProperty('auditHash');
  });
});
