import { describe, expect, it } from 'vitest';
import {
  escapeMrkdwn,
  groupMention,
  mention,
  slackDate,
  truncate,
  truncateStart,
} from '../../../src/slack/blocks/text.js';
import { T0 } from '../../support/domain-fixtures.js';

describe('text', () => {
  it('escapes &, < and >', () => {
    expect(escapeMrkdwn('a & <!channel> <@U1> >')).toBe('a &amp; &lt;!channel&gt; &lt;@U1&gt; &gt;');
  });

  it('truncates without splitting a surrogate pair, an entity or a token', () => {
    expect(truncate('short', 10)).toBe('short');
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('ab😀cd', 4)).toBe('ab…');
    expect(truncate('ab &amp; cd', 6)).toBe('ab …');
    expect(truncate('hi <@U123> there', 8)).toBe('hi …');
    for (let max = 1; max < 40; max++) {
      const cut = truncate('😀 &amp; <@U1> &lt;x&gt; 🧨🧨 end of text', max);
      expect(cut.length).toBeLessThanOrEqual(max);
      expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
      expect(cut).not.toMatch(/&[a-z]*…$/);
      expect(cut).not.toMatch(/<[^>]*…$/);
    }
  });

  it('truncateStart keeps the tail', () => {
    expect(truncateStart('abcdef', 4)).toBe('…def');
    expect(truncateStart('x &amp; yz', 7)).toBe('… yz');
    expect(truncateStart('😀abc', 4)).toBe('…abc');
  });

  it('mentions users, groups and the non-human actors', () => {
    expect(mention('U0ABC')).toBe('<@U0ABC>');
    expect(mention('policy')).toBe('_the authority policy_');
    expect(mention('system')).toBe('_rollback-bot_');
    expect(mention('<!channel>')).toBe('&lt;!channel&gt;');
    expect(groupMention('S0LEADS')).toBe('<!subteam^S0LEADS>');
    expect(groupMention('!here')).toBe('!here');
  });

  it('dates are Slack date tokens with a UTC fallback', () => {
    expect(slackDate(T0 + 1_500)).toBe(
      '<!date^1795413601^{date_short_pretty} {time_secs}|2026-11-23 06:00:01 UTC>',
    );
  });
});
