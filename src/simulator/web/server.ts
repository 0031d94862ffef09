/**
 * The simulator's channel as a web page (`rollback-bot demo --serve`): a local HTTP server that draws
 * the channel as the chosen person sees it, tells the page over Server-Sent Events whenever the
 * simulator records a change, and turns the page's clicks and slash commands into what Slack sends:
 * signed deliveries through the SlackDriver, found in the bot's messages as the driver finds them.
 * The host (the demo) adds its own actions (fire an alert, fail a step) and notes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { visibleButtons } from '../buttons.js';
import type { SlackDriver } from '../driver.js';
import { readBody, sendJson, sendText } from '../http-util.js';
import { parseJson } from '../json.js';
import type { SlackSimulator } from '../web-api.js';
import { escapeHtml } from './mrkdwn.js';
import { FAVICON_SVG, PAGE_CSS, PAGE_SCRIPT, pageHtml } from './page.js';
import { renderChannel, renderContext, type RenderContext } from './render.js';

export interface WebPerson {
  /** A user of the simulator's workspace. */
  id: string;
  /** What the switcher shows, e.g. `Omar (on-call engineer)`. */
  label: string;
}

export interface WebAction {
  id: string;
  label: string;
  /** A tooltip saying what the action does. */
  title?: string;
  /** Does it; the answer is shown to the person as the outcome. */
  run(user: string): Promise<string>;
}

export interface SimulatorWebOptions {
  simulator: SlackSimulator;
  driver: SlackDriver;
  channel: string;
  /** Who can be chosen to click and type; the first is chosen when the page opens. */
  people: readonly WebPerson[];
  actions?: readonly WebAction[];
  /** Lines shown above the channel (plain text), e.g. a fault that is armed. */
  notes?: () => string[];
  title?: string;
  /** Who the bot's messages are shown from (default `bot`). */
  botName?: string;
  /** The slash command the text box sends (default `/rollback`). */
  command?: string;
  commandPlaceholder?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1: the page acts as anyone in the workspace, so it stays on this machine. */
  host?: string;
}

export interface SimulatorWeb {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  port: number;
  /** Tells open pages to redraw (for changes the simulator does not see, e.g. a note). */
  changed(): void;
  stop(): Promise<void>;
}

/** Coalesces bursts (a card redraw is several calls) into one redraw per page. */
const CHANGE_DELAY_MS = 40;
const HEARTBEAT_MS = 15_000;

const clickBody = z.strictObject({
  user: z.string().min(1).max(64),
  channel: z.string().min(1).max(64),
  ts: z.string().regex(/^\d+\.\d+$/),
  actionId: z.string().min(1).max(255),
  value: z.string().max(2_000).optional(),
});
const commandBody = z.strictObject({ user: z.string().min(1).max(64), text: z.string().max(4_000) });
const actionBody = z.strictObject({ user: z.string().min(1).max(64) });

class WebError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startSimulatorWeb(options: SimulatorWebOptions): Promise<SimulatorWeb> {
  const { simulator: sim, driver, channel } = options;
  const people = options.people;
  const first = people[0];
  if (first === undefined) throw new Error('the web view needs at least one person to act as');
  const firstViewer = first.id;
  const actions = options.actions ?? [];
  const command = options.command ?? '/rollback';
  const title = options.title ?? `#${sim.config.channelNames[channel] ?? channel.toLowerCase()}`;
  const ctx: RenderContext = renderContext(sim.config, options.botName ?? 'bot');
  const streams = new Set<ServerResponse>();
  let revision = 0;
  let pending: NodeJS.Timeout | undefined;

  const changed = (): void => {
    pending ??= setTimeout(() => {
      pending = undefined;
      revision += 1;
      for (const stream of streams) stream.write(`data: ${revision}\n\n`);
    }, CHANGE_DELAY_MS);
  };
  const unsubscribe = sim.onChange(changed);
  const heartbeat = setInterval(() => {
    for (const stream of streams) stream.write(': still here\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const person = (id: string): WebPerson => {
    const found = people.find((p) => p.id === id);
    if (found === undefined) throw new WebError(400, `${id} is not one of the people of this page`);
    return found;
  };
  const nameOf = (id: string): string => ctx.names.user(id);

  const live = (viewer: string): string => {
    const notes = [
      ...(options.notes?.() ?? []),
      ...sim
        .views()
        .filter((v) => v.type === 'modal' && v.open && v.user === viewer)
        .map(
          (v) =>
            `The bot opened the dialog “${textOfTitle(v.title)}” for you: dialogs are not drawn on this page, so give the command its arguments instead.`,
        ),
    ];
    const notesHtml =
      notes.length === 0
        ? ''
        : `<div class="notes">${notes.map((n) => `<p>${escapeHtml(n)}</p>`).join('')}</div>`;
    return notesHtml + renderChannel(sim, channel, viewer, ctx);
  };

  async function click(body: z.infer<typeof clickBody>): Promise<string> {
    const who = person(body.user);
    // The page may show a version the bot has just replaced: say so rather than fail.
    const there = visibleButtons(sim, who.id).some(
      (b) =>
        b.channel === body.channel &&
        b.messageTs === body.ts &&
        b.actionId === body.actionId &&
        (body.value === undefined || b.value === body.value),
    );
    if (!there)
      throw new WebError(
        409,
        'That button is not there any more (the message changed): click it where it is now.',
      );
    const delivery = await driver.click({
      user: who.id,
      channel: body.channel,
      messageTs: body.ts,
      actionId: body.actionId,
      ...(body.value === undefined ? {} : { value: body.value }),
    });
    const what = `${nameOf(who.id)} clicked “${delivery.button.text}”`;
    return delivery.status === 200 ? `${what}.` : `${what}: the bot answered HTTP ${delivery.status}.`;
  }

  async function slash(body: z.infer<typeof commandBody>): Promise<string> {
    const who = person(body.user);
    const delivery = await driver.slashCommand({ user: who.id, channel, command, text: body.text });
    const typed = `${nameOf(who.id)} typed ${command}${body.text === '' ? '' : ` ${body.text}`}`;
    return delivery.status === 200 ? `${typed}.` : `${typed}: the bot answered HTTP ${delivery.status}.`;
  }

  async function route(req: IncomingMessage, res: ServerResponse, base: string): Promise<void> {
    const url = new URL(req.url ?? '/', base);
    const get = req.method === 'GET' || req.method === 'HEAD';
    if (get && url.pathname === '/') {
      send(
        res,
        200,
        'text/html',
        pageHtml({
          title,
          people,
          actions,
          command,
          commandPlaceholder: options.commandPlaceholder ?? '',
          live: live(firstViewer),
        }),
      );
    } else if (get && url.pathname === '/app.js') {
      send(res, 200, 'text/javascript', PAGE_SCRIPT);
    } else if (get && url.pathname === '/app.css') {
      send(res, 200, 'text/css', PAGE_CSS);
    } else if (get && (url.pathname === '/favicon.svg' || url.pathname === '/favicon.ico')) {
      send(res, 200, 'image/svg+xml', FAVICON_SVG);
    } else if (get && url.pathname === '/channel') {
      send(res, 200, 'text/html', live(person(url.searchParams.get('viewer') ?? '').id));
    } else if (get && url.pathname === '/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write(`retry: 1000\ndata: ${revision}\n\n`);
      streams.add(res);
      req.on('close', () => streams.delete(res));
    } else if (req.method === 'POST' && url.pathname === '/click') {
      answer(res, await click(await readJsonBody(req, clickBody)));
    } else if (req.method === 'POST' && url.pathname === '/command') {
      answer(res, await slash(await readJsonBody(req, commandBody)));
    } else if (req.method === 'POST' && url.pathname.startsWith('/actions/')) {
      const action = actions.find((a) => a.id === decodeURIComponent(url.pathname.slice('/actions/'.length)));
      if (action === undefined) throw new WebError(404, 'no such action');
      const { user } = await readJsonBody(req, actionBody);
      const outcome = await action.run(person(user).id);
      changed();
      answer(res, outcome);
    } else {
      sendText(res, 404, 'not found');
    }
  }

  const server: Server = createServer();
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const base = `http://${host}:${port}`;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const refusal = refuseForeign(req, port);
    if (refusal !== undefined) {
      sendJson(res, 403, { message: refusal });
      return;
    }
    route(req, res, base).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = error instanceof WebError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      sendJson(res, status, { message: status === 500 ? `The demo server failed: ${message}` : message });
    });
  });

  return {
    url: `${base}/`,
    port,
    changed,
    async stop() {
      unsubscribe();
      clearInterval(heartbeat);
      clearTimeout(pending);
      for (const stream of streams) stream.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

function textOfTitle(title: unknown): string {
  return typeof title === 'object' && title !== null && 'text' in title && typeof title.text === 'string'
    ? title.text
    : 'dialog';
}

/**
 * The page acts as anyone in the workspace, so only pages it served may use it: a request naming
 * another host (DNS rebinding) or sent from another origin is refused. JSON bodies also keep other
 * sites' plain form posts out, which browsers send without asking.
 */
function refuseForeign(req: IncomingMessage, port: number): string | undefined {
  const hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  if (!hosts.includes(req.headers.host ?? ''))
    return 'wrong Host header: open the page at the address the demo printed';
  const origin = req.headers.origin;
  if (origin !== undefined && !hosts.some((h) => origin === `http://${h}`))
    return 'requests from other sites are refused';
  if (req.method === 'POST' && !(req.headers['content-type'] ?? '').startsWith('application/json'))
    return 'send JSON (application/json)';
  return undefined;
}

async function readJsonBody<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  const parsed = schema.safeParse(parseJson(await readBody(req)));
  if (!parsed.success)
    throw new WebError(
      400,
      `bad request: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

function answer(res: ServerResponse, message: string): void {
  sendJson(res, 200, { message });
}

/** Pages and their script: no caching (a restarted demo is a new workspace), no inline code. */
function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'content-type': `${type}; charset=utf-8`,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy':
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  });
  res.end(body);
}
