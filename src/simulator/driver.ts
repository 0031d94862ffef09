/**
 * SlackDriver plays Slack towards the bot: it sends slash commands, button clicks (found in what the
 * bot posted), view submissions and events to the bot's request URL, signed as Slack signs them.
 */
import { performance } from 'node:perf_hooks';
import { findButton, type ButtonQuery, type FoundButton } from './buttons.js';
import { parseJson, type Json, type JsonObject, isObject } from './json.js';
import {
  appHomeOpenedEvent,
  blockActionsPayload,
  eventCallback,
  slashCommandFields,
  viewSubmissionPayload,
  type PayloadIdentity,
} from './payloads.js';
import { slackSignature } from './signing.js';
import { buildStateValues, type ViewInput } from './view-state.js';
import type { SlackSimulator } from './web-api.js';
import type { ResponseUrlPost, SimView } from './workspace.js';

export interface SlackDriverOptions {
  /** The bot's request URL, e.g. `http://127.0.0.1:P/slack/events`. */
  botUrl: string;
  signingSecret: string;
  simulator: SlackSimulator;
  teamId?: string;
  appId?: string;
  verificationToken?: string;
  /** How long to collect response_url posts after an ack when no count is expected (default 200 ms). */
  responseWaitMs?: number;
}

/** How one delivery is sent: Slack's retry headers, a forged signature, a chosen (stale) timestamp. */
export interface DeliveryOptions {
  retryNum?: number;
  retryReason?: string;
  forge?: boolean;
  /** Epoch seconds for `X-Slack-Request-Timestamp` (default now). */
  timestamp?: number;
}

/** Waiting for what the bot sends to the interaction's response_url after its ack. */
export interface ResponseWait {
  /** Wait until this many posts arrived (up to 3 s) instead of a fixed `responseWaitMs`. */
  expectResponses?: number;
}

/** A delivery exactly as it went on the wire, to send again (a replay, as an attacker would). */
export interface SentRequest {
  body: string;
  headers: Record<string, string>;
}

export interface Delivery {
  status: number;
  /** The ack body: parsed JSON, or the text ('' for an empty ack). */
  body: Json;
  ackMs: number;
  request: SentRequest;
}

export interface InteractionDelivery extends Delivery {
  responseUrl: string;
  triggerId: string;
  /** What reached the response_url within the wait. */
  responses: ResponseUrlPost[];
}

export interface ClickDelivery extends InteractionDelivery {
  button: FoundButton;
}

export interface ViewDelivery extends Delivery {
  view: SimView;
}

const EXPECTED_RESPONSES_TIMEOUT_MS = 3_000;

let lastActionMicros = 0;

/**
 * Slack's `action_ts` for a new action: seconds with six decimals, never the same twice (only a
 * redelivery repeats one). The bot remembers clicks by it, so two clicks sent within the same
 * millisecond must not share it, or the second would be taken for a redelivery of the first.
 */
function newActionTs(): string {
  lastActionMicros = Math.max(Date.now() * 1_000, lastActionMicros + 1);
  return `${Math.floor(lastActionMicros / 1e6)}.${String(lastActionMicros % 1e6).padStart(6, '0')}`;
}

export class SlackDriver {
  private readonly id: PayloadIdentity;
  private eventCounter = 0;

  constructor(private readonly options: SlackDriverOptions) {
    const config = options.simulator.config;
    this.id = {
      config,
      appId: options.appId ?? config.appId,
      teamId: options.teamId ?? config.teamId,
      verificationToken: options.verificationToken ?? 'sim-verification-token',
    };
  }

  async slashCommand(
    input: { user: string; channel: string; command?: string; text?: string } & DeliveryOptions &
      ResponseWait,
  ): Promise<InteractionDelivery> {
    const sim = this.options.simulator;
    const response = sim.createResponseUrl({ channel: input.channel, user: input.user });
    const triggerId = sim.issueTrigger(input.user);
    const fields = slashCommandFields(this.id, {
      user: input.user,
      channel: input.channel,
      command: input.command ?? '/rollback',
      text: input.text ?? '',
      responseUrl: response.url,
      triggerId,
    });
    const delivery = await this.deliver(
      new URLSearchParams(fields).toString(),
      'application/x-www-form-urlencoded',
      input,
    );
    const responses = await this.collect(response.id, delivery.status, input);
    return { ...delivery, responseUrl: response.url, triggerId, responses };
  }

  /** `actionTs` replays a click exactly (as Slack does when it retries a delivery); default: a new one. */
  async click(
    input: ButtonQuery & DeliveryOptions & ResponseWait & { actionTs?: string },
  ): Promise<ClickDelivery> {
    const sim = this.options.simulator;
    const button = findButton(sim, input);
    const response = sim.createResponseUrl({
      channel: button.channel,
      user: input.user,
      messageTs: button.messageTs,
      ephemeral: button.ephemeral,
    });
    const triggerId = sim.issueTrigger(input.user);
    const message = button.message;
    const payload = blockActionsPayload(this.id, {
      user: input.user,
      button,
      responseUrl: response.url,
      triggerId,
      actionTs: input.actionTs ?? newActionTs(),
      ...(message === undefined
        ? {}
        : {
            message: {
              type: 'message',
              user: message.user,
              bot_id: message.botId,
              app_id: sim.config.appId,
              text: message.text,
              ts: message.ts,
              team: sim.config.teamId,
              blocks: message.blocks,
              ...(message.threadTs === undefined ? {} : { thread_ts: message.threadTs }),
            },
          }),
    });
    const delivery = await this.deliverPayload(payload, input);
    const responses = await this.collect(response.id, delivery.status, input);
    return { ...delivery, responseUrl: response.url, triggerId, responses, button };
  }

  /** Submits a modal found by `viewId`, or the latest open one with `callbackId` (for that user). */
  async submitView(
    input: {
      user: string;
      viewId?: string;
      callbackId?: string;
      values?: Record<string, string | ViewInput>;
    } & DeliveryOptions,
  ): Promise<ViewDelivery> {
    const view = this.findView(input);
    const values = buildStateValues(view, input.values ?? {});
    const triggerId = this.options.simulator.issueTrigger(input.user);
    const delivery = await this.deliverPayload(
      viewSubmissionPayload(this.id, { user: input.user, view, values, triggerId }),
      input,
    );
    if (delivery.status === 200)
      this.options.simulator.settleView(view.id, isObject(delivery.body) ? delivery.body : undefined);
    return { ...delivery, view };
  }

  /** An Events API `event_callback` (JSON, as Slack sends events); pass `eventId` to replay one. */
  async sendEvent(
    event: JsonObject,
    options: DeliveryOptions & { eventId?: string } = {},
  ): Promise<Delivery & { eventId: string }> {
    this.eventCounter += 1;
    const eventId = options.eventId ?? `Ev${Date.now().toString(36).toUpperCase()}${this.eventCounter}`;
    const eventTime = Math.floor(Date.now() / 1000);
    const body = eventCallback(this.id, { event_ts: `${eventTime}.000000`, ...event }, eventId, eventTime);
    const delivery = await this.deliver(JSON.stringify(body), 'application/json', options);
    return { ...delivery, eventId };
  }

  /**
   * The user opens the app's Home tab (`tab: 'messages'` for the Messages tab): an `app_home_opened`
   * event carrying the home view published for them so far, as Slack sends it.
   */
  openAppHome(
    input: { user: string; tab?: 'home' | 'messages' } & DeliveryOptions & { eventId?: string },
  ): Promise<Delivery & { eventId: string }> {
    const view = this.options.simulator.homeView(input.user);
    const event = appHomeOpenedEvent(this.id, {
      user: input.user,
      tab: input.tab ?? 'home',
      ...(view === undefined ? {} : { view }),
    });
    return this.sendEvent(event, input);
  }

  /**
   * Sends `request` again, byte for byte with its original signature and timestamp: what someone who
   * captured a delivery can do within Slack's 5-minute window (or Slack itself, retrying).
   */
  replay(request: SentRequest): Promise<Delivery> {
    return this.post(request);
  }

  /** Any body, signed as Slack signs it: for bodies Slack would not send (e.g. oversized ones). */
  sendSigned(body: string, contentType: string, options: DeliveryOptions = {}): Promise<Delivery> {
    return this.deliver(body, contentType, options);
  }

  private findView(input: { user: string; viewId?: string; callbackId?: string }): SimView {
    const sim = this.options.simulator;
    const candidates = sim
      .views()
      .filter(
        (v) =>
          v.type === 'modal' &&
          v.open &&
          (input.viewId === undefined || v.id === input.viewId) &&
          (input.callbackId === undefined || v.callbackId === input.callbackId) &&
          (input.viewId !== undefined || v.user === input.user),
      );
    const view = candidates.at(-1);
    if (view !== undefined) return view;
    const open = sim
      .views()
      .filter((v) => v.type === 'modal' && v.open)
      .map((v) => `${v.id} callback_id=${v.callbackId} user=${v.user}`);
    throw new Error(
      `No open modal ${input.viewId ?? input.callbackId ?? ''} for ${input.user}; open modals: ${open.length === 0 ? 'none' : open.join(', ')}`,
    );
  }

  private deliverPayload(payload: JsonObject, options: DeliveryOptions): Promise<Delivery> {
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    return this.deliver(body, 'application/x-www-form-urlencoded', options);
  }

  private async deliver(body: string, contentType: string, options: DeliveryOptions): Promise<Delivery> {
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
    const secret =
      options.forge === true ? `${this.options.signingSecret}-forged` : this.options.signingSecret;
    const headers: Record<string, string> = {
      'content-type': contentType,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(secret, timestamp, body),
    };
    if (options.retryNum !== undefined) headers['x-slack-retry-num'] = String(options.retryNum);
    if (options.retryReason !== undefined) headers['x-slack-retry-reason'] = options.retryReason;
    return this.post({ body, headers });
  }

  private async post(request: SentRequest): Promise<Delivery> {
    const started = performance.now();
    const response = await fetch(this.options.botUrl, { method: 'POST', ...request });
    const text = await response.text();
    const ackMs = performance.now() - started;
    const body = text === '' ? '' : (parseJson(text) ?? text);
    return { status: response.status, body, ackMs, request };
  }

  private async collect(id: string, status: number, wait: ResponseWait): Promise<ResponseUrlPost[]> {
    const sim = this.options.simulator;
    if (status !== 200) return sim.responsePosts(id);
    if (wait.expectResponses !== undefined)
      return sim.waitForResponses(id, wait.expectResponses, EXPECTED_RESPONSES_TIMEOUT_MS);
    return sim.waitForResponses(id, Number.POSITIVE_INFINITY, this.options.responseWaitMs ?? 200);
  }
}
