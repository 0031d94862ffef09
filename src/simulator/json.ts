/** JSON values as they travel between the bot and the simulator, with the narrowing the handlers need. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objects(value: Json | undefined): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

export function str(value: Json | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function obj(value: Json | undefined): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

/** Parses JSON text; `undefined` when it is not JSON. */
export function parseJson(text: string): Json | undefined {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

/** The text of a composition text object (`{ type: 'plain_text' | 'mrkdwn', text }`), or ''. */
export function textOf(value: Json | undefined): string {
  return str(obj(value)?.text) ?? '';
}

export function clone<T extends Json>(value: T): T {
  return structuredClone(value);
}
