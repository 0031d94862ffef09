/** The Slack simulator: a Web API server, a driver that plays Slack towards the bot, a transcript. */
export { startSlackSimulator, SlackSimulator, compareTs, type Fault, type SimCall } from './web-api.js';
export type { SlackSimulatorOptions, SimulatorUser } from './config.js';
export type {
  SimMessage,
  MessageVersion,
  SimEphemeral,
  SimView,
  ResponseUrlPost,
  ResponseUrlTarget,
} from './workspace.js';
export {
  SlackDriver,
  type SlackDriverOptions,
  type DeliveryOptions,
  type ResponseWait,
  type Delivery,
  type InteractionDelivery,
  type ClickDelivery,
  type ViewDelivery,
} from './driver.js';
export { visibleButtons, type FoundButton, type ButtonQuery } from './buttons.js';
export { textInput, selectOption, type ViewInput } from './view-state.js';
export { channelTranscript, bodyLines, type TranscriptOptions } from './transcript.js';
export { slackSignature } from './signing.js';
export type { Json, JsonObject } from './json.js';
export {
  startSimulatorWeb,
  type SimulatorWeb,
  type SimulatorWebOptions,
  type WebPerson,
  type WebAction,
} from './web/server.js';
