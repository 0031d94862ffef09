/**
 * The Slack Web API simulator: a local HTTP server at `<url>` (`http://127.0.0.1:<port>/api/`) that
 * answers the methods the bot uses as Slack does, records every call, injects faults on request,
 * and serves the response_urls the driver hands out (`POST /response/<id>`).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chatMethods } from './chat-methods.js';
import { resolveConfig, type SimulatorConfig, type SlackSimulatorOptions } from './config.js';
import { directoryMethods } from './directory-methods.js';
import { FaultRules, type Fault } from './faults.js';
import { parseArgs, readableArgs, readBody, sendJson, sendText, tokenOf } from './http-util.js';
import { isObject, parseJson, type JsonObject } from './json.js';
import type { MethodHandler } from './method-kit.js';
import { applyResponse } from './response-urls.js';
import { viewMethods } from './view-methods.js';
import {
  Workspace,
  type ResponseUrlPost,
  type ResponseUrlTarget,
  type SimEphemeral,
  type SimMessage,
  type SimView,
} from './workspace.js';

export type { Fault } from './faults.js';

export interface SimCall {
  method: string;
  /** The arguments with `blocks`/`attachments`/`view` parsed from their JSON strings; no token. */
  args: JsonObject;
  at: Date;
  /** The HTTP status answered; 0 for a call held without an answer (`hang`). */
  status: number;
  response: JsonObject | string;
}

const METHODS: Record<string, MethodHandler> = { ...chatMethods, ...viewMethods, ...directoryMethods };

export class SlackSimulator {
  readonly calls: SimCall[] = [];
  readonly config: SimulatorConfig;
  private readonly ws: Workspace;
  private readonly faults: FaultRules;
  private readonly responseWaiters = new Set<() => void>();
  private readonly changeListeners = new Set<() => void>();
  private baseUrl = '';

  private constructor(
    options: SlackSimulatorOptions,
    private readonly server: Server,
  ) {
    this.config = resolveConfig(options);
    this.faults = new FaultRules(this.config.now);
    this.ws = new Workspace(this.config.now);
  }

  static async start(options: SlackSimulatorOptions): Promise<SlackSimulator> {
    const server = createServer();
    const sim = new SlackSimulator(options, server);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      sim.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendText(res, 500, `simulator error: ${String(error)}`);
        else res.destroy();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    sim.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return sim;
  }

  /** The Web API base for `slackApiUrl`, ending in `/api/`. */
  get url(): string {
    return `${this.baseUrl}/api/`;
  }

  callsTo(method: string): SimCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** The next `times` calls to `method` fail with `fault` (after which the method answers normally). */
  failNext(method: string, fault: Fault, times = 1): void {
    this.faults.next(method, fault, times);
  }

  /** Every call to `method` fails with `fault` until `clearFaults`. */
  failAlways(method: string, fault: Fault): void {
    this.faults.always(method, fault);
  }

  /** Every call to `methods` fails with `fault` for the next `ms` (Slack limiting or down a while). */
  failFor(methods: string | readonly string[], fault: Fault, ms: number): void {
    for (const method of [methods].flat()) this.faults.always(method, fault, ms);
  }

  /**
   * The next `times` calls to `method` whose arguments (as `calls` shows them: blocks parsed) match
   * fail with `fault`: one message Slack refuses, e.g. `{ kind: 'error', error: 'invalid_blocks' }`.
   */
  failWhen(method: string, match: (args: JsonObject) => boolean, fault: Fault, times = 1): void {
    this.faults.when(method, match, fault, times);
  }

  /** `method` (or every method) answers normally again; requests already held by `hang` stay held. */
  clearFaults(method?: string): void {
    this.faults.clear(method);
  }

  /**
   * Calls `listener` after every Web API call and response_url post (anything that may have changed
   * what people see), so a live view redraws without polling. Returns the unsubscribe function.
   */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => {
      this.changeListeners.delete(listener);
    };
  }

  /** Top-level messages of a channel, oldest first, each in its latest version; deleted ones left out. */
  messages(channel: string): SimMessage[] {
    return this.allMessages().filter((m) => m.channel === channel && m.threadTs === undefined);
  }

  /** Every live message (top level and replies) of every channel, by ts. */
  allMessages(): SimMessage[] {
    return [...this.ws.messages.values()].filter((m) => !m.deleted).sort((a, b) => compareTs(a.ts, b.ts));
  }

  message(channel: string, ts: string): SimMessage | undefined {
    return this.ws.message(channel, ts);
  }

  /** The replies of a thread, oldest first. */
  replies(channel: string, threadTs: string): SimMessage[] {
    const parent = this.ws.message(channel, threadTs);
    return (parent?.replies ?? []).map((ts) => this.ws.message(channel, ts)).filter((m) => m !== undefined);
  }

  /** Ephemerals still on screen (not replaced or deleted), optionally for one channel and/or user. */
  ephemerals(filter: { channel?: string; user?: string } = {}): SimEphemeral[] {
    return this.ws.ephemerals.filter(
      (e) => !e.gone && (filter.channel ?? e.channel) === e.channel && (filter.user ?? e.user) === e.user,
    );
  }

  view(id: string): SimView | undefined {
    return this.ws.views.get(id);
  }

  views(): SimView[] {
    return [...this.ws.views.values()];
  }

  homeView(user: string): SimView | undefined {
    const id = this.ws.homeViews.get(user);
    return id === undefined ? undefined : this.ws.views.get(id);
  }

  /** Everything posted to response_urls, optionally to one of them. */
  responsePosts(id?: string): ResponseUrlPost[] {
    return this.ws.responsePosts.filter((p) => id === undefined || p.id === id);
  }

  /** A response_url for an interaction (the driver calls this), and its id. */
  createResponseUrl(target: ResponseUrlTarget): { id: string; url: string } {
    const id = `${this.ws.nextId()}${this.ws.nextId()}`;
    this.ws.responseUrls.set(id, target);
    return { id, url: `${this.baseUrl}/response/${id}` };
  }

  /** A trigger_id for `user`, valid for views.open once within 3 seconds. */
  issueTrigger(user: string): string {
    return this.ws.issueTrigger(user);
  }

  /** Resolves once `count` posts reached response_url `id`, or after `timeoutMs`, with what arrived. */
  async waitForResponses(id: string, count: number, timeoutMs: number): Promise<ResponseUrlPost[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.responsePosts(id).length < count && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, deadline - Date.now());
        const waiters = this.responseWaiters;
        function done(): void {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
    return this.responsePosts(id);
  }

  /** A simulated view submission's outcome: `response_action: 'update'` replaces the view, others close it. */
  settleView(id: string, ack: JsonObject | undefined): void {
    const view = this.ws.views.get(id);
    if (view === undefined) return;
    const action = ack?.response_action;
    if (action === 'update' && isObject(ack?.view)) {
      viewMethods['views.update']!({ view_id: id, view: ack.view }, { ws: this.ws, config: this.config });
    } else if (action !== 'errors' && action !== 'push') {
      view.open = false;
    }
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => {
      this.server.close((error) => {
        if (error === undefined) resolve();
        else reject(error);
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const body = await readBody(req);
    if (url.pathname.startsWith('/api/')) {
      this.answerApi(
        url.pathname.slice('/api/'.length),
        parseArgs(req.headers['content-type'], body, url.searchParams),
        req,
        res,
      );
    } else if (url.pathname.startsWith('/response/') && req.method === 'POST') {
      this.answerResponseUrl(url.pathname.slice('/response/'.length), body, res);
    } else {
      sendText(res, 404, 'not found');
    }
  }

  private answerApi(method: string, args: JsonObject, req: IncomingMessage, res: ServerResponse): void {
    const record = (status: number, response: JsonObject | string): void => {
      this.calls.push({
        method,
        args: readableArgs(args),
        at: new Date(this.config.now()),
        status,
        response,
      });
    };
    const fault = this.faults.take(method, readableArgs(args));
    if (fault?.kind === 'hang') {
      record(0, 'no answer (hang)');
      return;
    }
    if (fault?.kind === 'ratelimited') {
      const reply = { ok: false, error: 'ratelimited' };
      record(429, reply);
      sendJson(res, 429, reply, { 'retry-after': String(fault.retryAfterSeconds) });
      return;
    }
    if (fault?.kind === 'http500') {
      record(500, 'Internal Server Error');
      sendText(res, 500, 'Internal Server Error');
      return;
    }
    const token = tokenOf(req, args);
    const handler = METHODS[method];
    let reply: JsonObject;
    if (fault?.kind === 'error') reply = { ok: false, error: fault.error };
    else if (token === undefined || token === '') reply = { ok: false, error: 'not_authed' };
    else if (token !== this.config.botToken) reply = { ok: false, error: 'invalid_auth' };
    else if (handler === undefined) reply = { ok: false, error: 'unknown_method' };
    else reply = handler(args, { ws: this.ws, config: this.config });
    record(200, reply);
    sendJson(res, 200, reply);
    this.changed();
  }

  private answerResponseUrl(id: string, body: string, res: ServerResponse): void {
    const target = this.ws.responseUrls.get(id);
    if (target === undefined) {
      sendText(res, 404, 'no_such_response_url');
      return;
    }
    const parsed = parseJson(body);
    if (!isObject(parsed)) {
      sendText(res, 400, 'invalid_payload');
      return;
    }
    const outcome = applyResponse(this.ws, this.config, id, target, parsed);
    if (!outcome.ok) {
      sendText(res, outcome.status, outcome.error);
      return;
    }
    for (const wake of [...this.responseWaiters]) wake();
    sendJson(res, 200, { ok: true });
    this.changed();
  }

  private changed(): void {
    for (const listener of [...this.changeListeners]) listener();
  }
}

export function startSlackSimulator(options: SlackSimulatorOptions): Promise<SlackSimulator> {
  return SlackSimulator.start(options);
}

/** Orders Slack ts strings numerically (seconds, then microseconds). */
export function compareTs(a: string, b: string): number {
  const [as = '0', au = '0'] = a.split('.');
  const [bs = '0', bu = '0'] = b.split('.');
  return Number(as) - Number(bs) || Number(au) - Number(bu);
}
