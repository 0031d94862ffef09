/**
 * The simulator's web view draws what the bot posts as HTML: mrkdwn formatted as Slack shows it, and
 * every character of message text escaped, since it carries what alerts, people and CI wrote.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../../src/simulator/json.js';
import { escapeHtml, mrkdwnHtml, type NameDirectory } from '../../../src/simulator/web/mrkdwn.js';
import { bodyHtml, type RenderContext } from '../../../src/simulator/web/render.js';

const names: NameDirectory = {
  user: (id) => ({ U1: 'Omar', U2: 'Lena <b>' })[id] ?? id,
  channel: (id) => ({ C1: 'incidents' })[id] ?? id.toLowerCase(),
};
const ctx: RenderContext = { names, botName: 'rollback-bot' };
const place = { channel: 'C1', ts: '1700000000.000100' };
const HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'&';

function body(blocks: JsonObject[], text = ''): string {
  return bodyHtml({ text, blocks, attachments: [] }, ctx, place);
}

/** The tags the renderer writes itself; the text can add none. */
const OWN_TAGS = new Set(
  'a blockquote br button code div em h3 h4 hr pre s section span strong template time'.split(' '),
);

/**
 * No tag, attribute or link came from the text: every tag is one of the renderer's, and once the
 * (double-quoted) attribute values are set aside no event handler or script URL is left.
 */
function expectInert(html: string): void {
  for (const [tag, name = '', attributes = ''] of html.matchAll(/<\/?([a-zA-Z][\w-]*)([^>]*)>/g)) {
    expect(OWN_TAGS, tag).toContain(name.toLowerCase());
    const outsideValues = attributes.replace(/="[^"]*"/g, '=""');
    expect(outsideValues, tag).toMatch(/^(\s+[\w-]+(="")?)*\s*$/);
    expect(attributes, tag).not.toMatch(/href="\s*javascript:/i);
  }
}

describe('mrkdwn', () => {
  it('formats bold, italic, strike, code, code blocks, quotes and line breaks', () => {
    expect(mrkdwnHtml('*State* _validating_ ~old~ `rb-1a`', names)).toBe(
      '<strong>State</strong> <em>validating</em> <s>old</s> <code>rb-1a</code>',
    );
    expect(mrkdwnHtml('out:\n```draining blue\n{"previous":"v1"}```', names)).toBe(
      'out:<br><pre>draining blue\n{&quot;previous&quot;:&quot;v1&quot;}</pre>',
    );
    expect(mrkdwnHtml('*Reason*\n>5xx spike\n>after v1.5.0\nend', names)).toBe(
      '<strong>Reason</strong><br><blockquote>5xx spike<br>after v1.5.0</blockquote>end',
    );
  });

  it('leaves markers inside words and code alone', () => {
    expect(mrkdwnHtml('snake_case_name 2*3*4', names)).toBe('snake_case_name 2*3*4');
    expect(mrkdwnHtml('`*not bold*` and ```_not italic_```', names)).toBe(
      '<code>*not bold*</code> and <pre>_not italic_</pre>',
    );
  });

  it('shows mentions as names, channels, user groups, dates and links', () => {
    expect(mrkdwnHtml('<@U1> approved in <#C1>, FYI <!subteam^S0ONCALL>', names)).toBe(
      '<span class="mention">@Omar</span> approved in <span class="mention">#incidents</span>, FYI <span class="mention">@S0ONCALL</span>',
    );
    expect(mrkdwnHtml('<!subteam^S1|@oncall> <!here> <!date^1700000000^{time}|later>', names)).toBe(
      '<span class="mention">@oncall</span> <span class="mention">@here</span> <time>22:13:20</time>',
    );
    expect(mrkdwnHtml('see <https://grafana.example/d?a=1&amp;b=2|*the panel*>', names)).toBe(
      'see <a href="https://grafana.example/d?a=1&amp;b=2" target="_blank" rel="noopener noreferrer"><strong>the panel</strong></a>',
    );
  });

  it('escapes hostile text wherever it stands', () => {
    // As sent raw, and as a Slack sender escapes it (`&lt;` ...): both show the characters, never a tag.
    for (const text of [HOSTILE, '&lt;script&gt;alert(1)&lt;/script&gt;', `*${HOSTILE}*`, `>${HOSTILE}`]) {
      expectInert(mrkdwnHtml(text, names));
    }
    expect(mrkdwnHtml('&lt;script&gt;', names)).toBe('&lt;script&gt;');
    expect(mrkdwnHtml('`<script>` ```<img src=x onerror=alert(1)>```', names)).toBe(
      '<code>&lt;script&gt;</code> <pre>&lt;img src=x onerror=alert(1)&gt;</pre>',
    );
    // A name is text too, and a link to anything but http(s) or mailto stays text.
    expect(mrkdwnHtml('<@U2>', names)).toBe('<span class="mention">@Lena &lt;b&gt;</span>');
    expect(mrkdwnHtml('<javascript:alert(1)|click me>', names)).toBe('&lt;javascript:alert(1)|click me&gt;');
    expect(mrkdwnHtml('<https://x.example/"onmouseover="alert(1)|x>', names)).toBe(
      '<a href="https://x.example/&quot;onmouseover=&quot;alert(1)" target="_blank" rel="noopener noreferrer">x</a>',
    );
    // The renderer's own placeholders cannot be forged from the text.
    expect(mrkdwnHtml('\u00000\u0000 `x`', names)).toBe('0 <code>x</code>');
  });

  it('escapes text for HTML text and attribute values alike', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});

describe('Block Kit', () => {
  it('draws headers, sections with fields, context, dividers and buttons readably', () => {
    const html = body([
      { type: 'header', text: { type: 'plain_text', text: '✅ Rollback: demo-service' } },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: '*Versions* `v1.5.0` → `v1.4.1`' },
        fields: [{ type: 'mrkdwn', text: '*State* resolved' }],
      },
      { type: 'divider' },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'Rollback `rb-1`' }] },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: 'rollback:approve',
            value: '{"r":"rb-1"}',
            style: 'primary',
            text: { type: 'plain_text', text: 'Approve' },
            confirm: {
              title: { type: 'plain_text', text: 'Roll back demo-service?' },
              text: { type: 'plain_text', text: 'v1.5.0 → v1.4.1' },
              confirm: { type: 'plain_text', text: 'Approve' },
              deny: { type: 'plain_text', text: 'Back' },
            },
          },
          { type: 'static_select', action_id: 'pick', placeholder: { type: 'plain_text', text: 'Pick' } },
        ],
      },
    ]);
    expect(html).toContain('<h3 class="b-header">✅ Rollback: demo-service</h3>');
    expect(html).toContain('<strong>Versions</strong> <code>v1.5.0</code> → <code>v1.4.1</code>');
    expect(html).toContain('<div class="b-fields"><div><strong>State</strong> resolved</div></div>');
    expect(html).toContain('<hr>');
    expect(html).toContain('<div class="b-context"><span>Rollback <code>rb-1</code></span></div>');
    expect(html).toContain(
      '<button type="button" class="btn primary" data-channel="C1" data-ts="1700000000.000100" data-action-id="rollback:approve" data-value="{&quot;r&quot;:&quot;rb-1&quot;}">Approve</button>',
    );
    expect(html).toContain(
      '<template class="confirm"><h4>Roll back demo-service?</h4><div class="confirm-text">v1.5.0 → v1.4.1</div><span data-yes>Approve</span><span data-no>Back</span></template>',
    );
    expect(html).toContain(
      '<span class="el-other" title="not clickable in this page">[static_select: Pick]</span>',
    );
  });

  it('escapes hostile text in every place a message carries it', () => {
    const plain = { type: 'plain_text', text: HOSTILE };
    const mrkdwn = { type: 'mrkdwn', text: HOSTILE };
    const html = body(
      [
        { type: 'header', text: plain },
        { type: 'section', text: mrkdwn, fields: [mrkdwn, plain] },
        { type: 'context', elements: [mrkdwn, { type: 'image', image_url: 'x', alt_text: HOSTILE }] },
        {
          type: 'actions',
          elements: [
            {
              type: 'button',
              action_id: `a"${HOSTILE}`,
              value: HOSTILE,
              text: plain,
              confirm: { title: plain, text: mrkdwn, confirm: plain, deny: plain },
            },
            { type: 'button', action_id: 'link', url: 'javascript:alert(1)', text: plain },
          ],
        },
        { type: 'image', image_url: 'x', alt_text: HOSTILE },
        {
          type: 'rich_text',
          elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: HOSTILE }] }],
        },
        { type: HOSTILE },
      ],
      HOSTILE,
    );
    expectInert(html);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // Attribute values cannot be left: every quote in them is escaped.
    expect(html).toContain(
      'data-value="&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;&amp;"',
    );
    // Text without blocks and attachments' text are escaped as well.
    const fallback = bodyHtml(
      { text: HOSTILE, blocks: [], attachments: [{ text: HOSTILE, fallback: 'x' }] },
      ctx,
      place,
    );
    expectInert(fallback);
  });
});
