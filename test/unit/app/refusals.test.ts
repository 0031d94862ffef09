import { describe, expect, it } from 'vitest';
import { REFUSAL_CODES, refuse } from '../../../src/app/refusals.js';
import { refusalOf } from '../../../src/app/rollback-service.js';
import { HTTP_ERROR_CODES } from '../../../src/http/respond.js';

describe('refusal codes', () => {
  it('are listed once each, in snake_case, per layer', () => {
    for (const codes of [REFUSAL_CODES, HTTP_ERROR_CODES]) {
      expect(new Set(codes).size).toBe(codes.length);
      for (const code of codes) expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
    }
  });

  it('have one shape, and the engine refusing an event becomes it with the same sentence', () => {
    expect(refuse('not_frozen', 'nothing to lift')).toEqual({
      ok: false,
      code: 'not_frozen',
      message: 'nothing to lift',
    });
    expect(refusalOf({ ok: false, code: 'not_found', message: 'no rollback rb-1' })).toEqual({
      ok: false,
      code: 'not_found',
      message: 'no rollback rb-1',
    });
  });
});
