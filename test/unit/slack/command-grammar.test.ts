import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRollbackCommand, tokenize } from '../../../src/slack/command-grammar.js';

const parsed = (text: string) => {
  const result = parseRollbackCommand(text);
  if (!result.ok) throw new Error(result.message);
  return result.command;
};
const refused = (text: string): string => {
  const result = parseRollbackCommand(text);
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.command)}`);
  return result.message;
};

describe('/rollback grammar', () => {
  it('opens the modal when called alone', () => {
    expect(parsed('')).toEqual({ kind: 'modal' });
    expect(parsed('   ')).toEqual({ kind: 'modal' });
  });

  it('parses a declaration with every flag, quoted text and = forms', () => {
    expect(
      parsed('user-service --env production --to v1.4.1 --strategy blue-green --reason "5xx spike"'),
    ).toEqual({
      kind: 'declare',
      service: 'user-service',
      environment: 'production',
      toVersion: 'v1.4.1',
      strategy: 'blue-green',
      reason: '5xx spike',
    });
    expect(parsed('checkout -e staging --reason=“after deploy 42”')).toEqual({
      kind: 'declare',
      service: 'checkout',
      environment: 'staging',
      reason: 'after deploy 42',
    });
    expect(parsed('checkout')).toEqual({ kind: 'declare', service: 'checkout' });
  });

  it('parses the subcommands', () => {
    expect(parsed('help')).toEqual({ kind: 'help' });
    expect(parsed('LIST')).toEqual({ kind: 'list' });
    expect(parsed('status')).toEqual({ kind: 'status' });
    expect(parsed('status rb-7k3f')).toEqual({ kind: 'status', id: 'rb-7k3f' });
    expect(parsed('history')).toEqual({ kind: 'history' });
    expect(parsed('history checkout')).toEqual({ kind: 'history', service: 'checkout' });
    expect(parsed('plan checkout')).toEqual({ kind: 'plan', service: 'checkout' });
    expect(parsed('cancel rb-1')).toEqual({ kind: 'cancel', id: 'rb-1' });
    expect(parsed('stats')).toEqual({ kind: 'stats' });
    expect(parsed('drill checkout')).toEqual({ kind: 'drill', service: 'checkout' });
  });

  it('explains every malformed command in one plain sentence', () => {
    expect(refused('checkout --evn production')).toMatch(/unknown option `--evn` \(did you mean `--env`\?\)/);
    expect(refused('checkout --to')).toMatch(/`--to` needs a value/);
    expect(refused('checkout --to --env prod')).toMatch(/`--to` needs a value/);
    expect(refused('checkout --env a --env b')).toMatch(/`--env` is given twice/);
    expect(refused('checkout 5xx spike')).toMatch(/put text in an option, e.g. --reason/);
    expect(refused('stauts rb-1')).toMatch(/did you mean `\/rollback status`\?/);
    expect(refused('cancel')).toMatch(/needs a rollback id/);
    expect(refused('plan')).toMatch(/needs a service/);
    expect(refused('plan a b')).toMatch(/unexpected "b"/);
    expect(refused('help me')).toMatch(/takes no arguments/);
    expect(refused('--env production')).toMatch(/name the service first/);
    expect(refused('checkout --reason "unclosed')).toMatch(/quote \(“?"?\)? ?is not closed|is not closed/);
  });

  it('parses freezes: a list, on with a service, environment and reason, off with a service', () => {
    expect(parsed('freeze')).toEqual({ kind: 'freeze', action: 'list' });
    expect(parsed('freeze on checkout')).toEqual({ kind: 'freeze', action: 'on', service: 'checkout' });
    expect(parsed('freeze ON checkout --env staging --reason "release train"')).toEqual({
      kind: 'freeze',
      action: 'on',
      service: 'checkout',
      environment: 'staging',
      reason: 'release train',
    });
    expect(parsed('freeze off checkout -e=production')).toEqual({
      kind: 'freeze',
      action: 'off',
      service: 'checkout',
      environment: 'production',
    });
  });

  it('freezes every service when none is named (DESIGN: `/rollback freeze on|off`)', () => {
    expect(parsed('freeze on')).toEqual({ kind: 'freeze', action: 'on', service: '*' });
    expect(parsed('freeze on --env production --reason "release train"')).toEqual({
      kind: 'freeze',
      action: 'on',
      service: '*',
      environment: 'production',
      reason: 'release train',
    });
    expect(parsed('freeze off --env production')).toEqual({
      kind: 'freeze',
      action: 'off',
      service: '*',
      environment: 'production',
    });
  });

  it('explains malformed freezes', () => {
    expect(refused('freeze maybe')).toMatch(/takes `on` or `off`: `\/rollback freeze on SERVICE/);
    expect(refused('freeze off checkout --reason done')).toMatch(
      /`\/rollback freeze off` does not take `--reason`; it takes --env\./,
    );
    expect(refused('freeze on checkout --to v1')).toMatch(/does not take `--to`/);
    expect(refused('freeze on checkout release train')).toMatch(/put the why in --reason/);
    expect(refused('freeze on checkout --rason x')).toMatch(
      /unknown option `--rason` \(did you mean `--reason`\?\)/,
    );
    expect(refused('freeze on checkout --env')).toMatch(/`--env` needs a value, e.g. --env production/);
  });

  it('parses drills, which always run against staging', () => {
    expect(parsed('drill checkout')).toEqual({ kind: 'drill', service: 'checkout' });
    expect(parsed('drill checkout --strategy canary --to v1.2.0')).toEqual({
      kind: 'drill',
      service: 'checkout',
      strategy: 'canary',
      toVersion: 'v1.2.0',
    });
    expect(refused('drill')).toMatch(/`\/rollback drill` needs a service/);
    expect(refused('drill --strategy canary')).toMatch(/needs a service/);
    expect(refused('drill checkout --env production')).toMatch(/always runs against `staging`/);
    expect(refused('drill checkout --reason x')).toMatch(/does not take `--reason`/);
    expect(refused('drill checkout now')).toMatch(/unexpected "now"/);
  });

  it('refuses a --to that is not a version, naming the rule and the character that broke it', () => {
    expect(refused("checkout --to '../../../admin/purge?all=true#'")).toBe(
      "`--to`: a version is letters, digits and . _ + - (at most 128, starting with a letter or digit): '../../../admin/purge?all=true#' starts with '.'.",
    );
    expect(refused("checkout --to '--log-file=/tmp/x'")).toMatch(/starts with '-'/);
    expect(refused('checkout --to=v1/../..')).toMatch(/'v1\/\.\.\/\.\.' has '\/'/);
    expect(refused('drill checkout --to v1?x=1')).toMatch(/has '\?'/);
    expect(parsed('checkout --to 1.4.1+build_7-rc.1')).toMatchObject({ toVersion: '1.4.1+build_7-rc.1' });
  });

  it('refuses control and bidirectional formatting characters in any argument, named as an escape', () => {
    expect(refused('checkout --to v1.2\u202E3')).toBe(
      'the value of `--to` has \\u202E (a bidirectional formatting character); type it again without it.',
    );
    expect(refused('checkout --to=v1\u0007')).toMatch(
      /the value of `--to` has \\u0007 \(a control character\)/,
    );
    expect(refused('checkout --reason "spike\u2066 after deploy"')).toMatch(
      /the value of `--reason` has \\u2066 \(a bidirectional/,
    );
    expect(refused('check\u200Eout')).toMatch(/argument 1 has \\u200E/);
    expect(refused('checkout --env prod\u0085')).toMatch(/`--env` has \\u0085 \(a control character\)/);
    expect(refused('freeze on checkout --reason "a\u061Cb"')).toMatch(/\\u061C/);
    // Arabic or Hebrew text itself is fine: only the invisible formatting characters are refused.
    expect(parsed('checkout --reason "שגיאות אחרי הפריסה"')).toMatchObject({ reason: 'שגיאות אחרי הפריסה' });
  });

  it('never throws, whatever is typed', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const result = parseRollbackCommand(text);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 2_000 },
    );
  });

  it('keeps quoted text intact', () => {
    expect(tokenize(`a "b c" 'd e' ""`)).toEqual({ ok: true, tokens: ['a', 'b c', 'd e', ''] });
  });
});
