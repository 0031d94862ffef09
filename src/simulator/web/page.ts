/**
 * The page of the simulator's web view: plain HTML, one stylesheet and one small script, served as
 * files of their own so the Content-Security-Policy can forbid every inline script and style (a
 * second guard behind the escaping of message text). No framework, no build step.
 */
import { escapeHtml } from './mrkdwn.js';

export interface PageOptions {
  title: string;
  people: ReadonlyArray<{ id: string; label: string }>;
  actions: ReadonlyArray<{ id: string; label: string; title?: string }>;
  command: string;
  commandPlaceholder: string;
  /** The channel as first drawn, before the script takes over. */
  live: string;
}

export function pageHtml(options: PageOptions): string {
  const people = options.people
    .map((p) => `<option value="${escapeHtml(p.id)}">${escapeHtml(p.label)}</option>`)
    .join('');
  const actions = options.actions
    .map(
      (a) =>
        `<button type="button" data-demo-action="${escapeHtml(a.id)}"${
          a.title === undefined ? '' : ` title="${escapeHtml(a.title)}"`
        }>${escapeHtml(a.label)}</button>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<link rel="stylesheet" href="/app.css">
<link rel="icon" href="/favicon.svg">
</head>
<body>
<header class="top">
  <h1>${escapeHtml(options.title)}</h1>
  <label class="viewer">Acting as <select id="viewer">${people}</select></label>
  <div class="demo-actions">${actions}</div>
  <form id="command" autocomplete="off">
    <label><span class="command">${escapeHtml(options.command)}</span>
      <input name="text" id="command-text" size="48" placeholder="${escapeHtml(options.commandPlaceholder)}"></label>
    <button type="submit">Send</button>
  </form>
  <p id="status" role="status" aria-live="polite"></p>
</header>
<main id="live">${options.live}</main>
<dialog id="confirm">
  <form method="dialog">
    <h4 class="confirm-title"></h4>
    <div class="confirm-text"></div>
    <menu><button value="no" class="deny"></button><button value="yes" class="yes"></button></menu>
  </form>
</dialog>
<script src="/app.js"></script>
</body>
</html>
`;
}

export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><text y=".9em" font-size="90">⏪</text></svg>';

export const PAGE_CSS = `
:root { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; font-size: 15px; color: #1d1c1d; background: #f8f8f8; }
body { margin: 0; }
.top { position: sticky; top: 0; z-index: 1; background: #3f0e40; color: #fff; padding: 10px 16px; display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; }
.top h1 { font-size: 17px; margin: 0 8px 0 0; }
.top select, .top input { font: inherit; padding: 3px 6px; }
.top button { font: inherit; padding: 3px 10px; border-radius: 4px; border: 1px solid #fff8; background: #ffffff22; color: #fff; cursor: pointer; }
.top button:hover { background: #ffffff44; }
.top .command { font-family: ui-monospace, monospace; margin-right: 4px; }
.demo-actions { display: flex; gap: 8px; }
#status { flex-basis: 100%; margin: 0; min-height: 1.3em; font-size: 14px; color: #e8d6ea; }
#status.bad { color: #ffb3b3; font-weight: 600; }
main { max-width: 980px; margin: 0 auto; padding: 12px 16px 48px; }
.notes { background: #fff4d6; border: 1px solid #f2c94c; border-radius: 6px; padding: 6px 12px; margin-bottom: 12px; }
.notes p { margin: 4px 0; }
.empty { color: #616061; }
.msg { background: #fff; border: 1px solid #e2e2e2; border-radius: 8px; padding: 8px 12px; margin: 10px 0; }
.msg header { font-size: 13px; color: #616061; margin-bottom: 4px; }
.msg .author { font-weight: 700; color: #1d1c1d; font-size: 15px; }
.msg.ephemeral { background: #f4f0fa; border-style: dashed; }
.only-you { color: #6a3b8a; font-weight: 600; }
.thread { margin: 8px 0 0 14px; padding-left: 12px; border-left: 3px solid #d9d0e6; }
.thread .msg { margin: 6px 0; }
.thread-count { font-size: 13px; color: #1264a3; font-weight: 600; }
.b-header { margin: 4px 0 6px; font-size: 17px; }
.b-section { display: flex; gap: 12px; align-items: flex-start; justify-content: space-between; margin: 4px 0; }
.b-section > .b-text, .b-section > .b-fields { flex: 1; }
.b-fields { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 4px 16px; }
.b-context { font-size: 13px; color: #616061; margin: 4px 0; }
.b-actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 6px 0; }
.b-unknown, .el-other, .b-image { color: #616061; font-style: italic; }
hr { border: 0; border-top: 1px solid #e2e2e2; margin: 8px 0; }
.attachment { border-left: 4px solid #ddd; padding-left: 8px; margin: 6px 0; }
blockquote { margin: 4px 0; padding-left: 10px; border-left: 4px solid #ddd; color: #454245; }
pre { background: #f6f6f6; border: 1px solid #e2e2e2; border-radius: 4px; padding: 6px 8px; white-space: pre-wrap; word-break: break-word; margin: 4px 0; font-size: 13px; }
code { background: #f6f6f6; border: 1px solid #e2e2e2; border-radius: 3px; padding: 0 3px; color: #c01343; font-size: 13px; }
.mention { background: #e8f5fa; color: #1264a3; border-radius: 3px; padding: 0 2px; }
.btn { font: inherit; font-size: 14px; font-weight: 600; padding: 4px 12px; border-radius: 4px; border: 1px solid #bbb; background: #fff; color: #1d1c1d; cursor: pointer; text-decoration: none; }
.btn:hover { background: #f4f4f4; }
.btn.primary { background: #007a5a; border-color: #007a5a; color: #fff; }
.btn.danger { background: #fff; border-color: #e01e5a; color: #e01e5a; }
.btn:disabled { opacity: 0.5; cursor: progress; }
dialog { border: 0; border-radius: 8px; padding: 16px 20px; max-width: 440px; box-shadow: 0 8px 32px #0005; }
dialog h4 { margin: 0 0 8px; font-size: 17px; }
dialog menu { display: flex; justify-content: flex-end; gap: 8px; padding: 0; margin: 16px 0 0; }
dialog menu button { font: inherit; font-weight: 600; padding: 4px 14px; border-radius: 4px; border: 1px solid #bbb; background: #fff; cursor: pointer; }
dialog menu .yes { background: #007a5a; border-color: #007a5a; color: #fff; }
`;

/**
 * The page's behaviour: redraws the channel whenever the server says it changed (Server-Sent
 * Events), sends clicks, commands and the demo's actions as the person chosen, and asks a button's
 * `confirm` question in a dialog first. What it inserts is HTML the server rendered and escaped.
 */
export const PAGE_SCRIPT = `'use strict';
(() => {
  const live = document.getElementById('live');
  const viewer = document.getElementById('viewer');
  const status = document.getElementById('status');
  const dialog = document.getElementById('confirm');
  const commandForm = document.getElementById('command');
  const remembered = sessionStorage.getItem('viewer');
  if (remembered && [...viewer.options].some((o) => o.value === remembered)) viewer.value = remembered;

  let loading = false;
  let again = false;
  async function refresh() {
    if (loading) { again = true; return; }
    loading = true;
    try {
      const response = await fetch('/channel?viewer=' + encodeURIComponent(viewer.value));
      if (response.ok) live.innerHTML = await response.text();
    } catch {
      say('The demo server does not answer: is it still running?', true);
    } finally {
      loading = false;
      if (again) { again = false; refresh(); }
    }
  }

  function say(text, bad) {
    status.textContent = text;
    status.className = bad ? 'bad' : '';
  }

  async function post(path, body) {
    try {
      const response = await fetch(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = await response.json().catch(() => ({ message: response.statusText }));
      say(answer.message, !response.ok);
    } catch {
      say('The demo server does not answer: is it still running?', true);
    }
    refresh();
  }

  function confirmed(button) {
    // A button's own dialog follows it (render.ts): not another button's of the same block.
    const template = button.nextElementSibling;
    if (!template || !template.matches('template.confirm')) return Promise.resolve(true);
    const copy = template.content.cloneNode(true);
    dialog.querySelector('.confirm-title').replaceChildren(...copy.querySelector('h4').childNodes);
    dialog.querySelector('.confirm-text').replaceChildren(...copy.querySelector('.confirm-text').childNodes);
    dialog.querySelector('.yes').textContent = copy.querySelector('[data-yes]').textContent;
    dialog.querySelector('.deny').textContent = copy.querySelector('[data-no]').textContent;
    return new Promise((resolve) => {
      dialog.returnValue = '';
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true });
      dialog.showModal();
    });
  }

  document.addEventListener('click', async (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const button = target && target.closest('button[data-action-id]');
    if (button) {
      if (!(await confirmed(button))) { say('Not sent: the dialog was dismissed.'); return; }
      button.disabled = true;
      const data = button.dataset;
      await post('/click', {
        user: viewer.value,
        channel: data.channel,
        ts: data.ts,
        actionId: data.actionId,
        ...(data.value === undefined ? {} : { value: data.value }),
      });
      return;
    }
    const action = target && target.closest('button[data-demo-action]');
    if (action) {
      action.disabled = true;
      try {
        await post('/actions/' + encodeURIComponent(action.dataset.demoAction), { user: viewer.value });
      } finally {
        action.disabled = false;
      }
    }
  });

  commandForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = commandForm.elements.namedItem('text');
    const text = input.value;
    input.value = '';
    await post('/command', { user: viewer.value, text });
  });

  viewer.addEventListener('change', () => {
    sessionStorage.setItem('viewer', viewer.value);
    say('Now acting as ' + viewer.selectedOptions[0].textContent + ': buttons and commands are theirs.');
    refresh();
  });

  new EventSource('/events').addEventListener('message', () => refresh());
  refresh();
})();
`;
