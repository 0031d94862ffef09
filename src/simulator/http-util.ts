/** Reading request bodies the way Slack's Web API accepts them, and writing its replies. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isObject, parseJson, type Json, type JsonObject } from './json.js';

const MAX_BODY_BYTES = 5 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Form fields (all strings, as `@slack/web-api` sends them) or a JSON object body. */
export function parseArgs(contentType: string | undefined, body: string, query: URLSearchParams): JsonObject {
  const args: JsonObject = Object.fromEntries(query.entries());
  if (body === '') return args;
  if ((contentType ?? '').startsWith('application/json')) {
    const parsed = parseJson(body);
    return isObject(parsed) ? { ...args, ...parsed } : args;
  }
  for (const [key, value] of new URLSearchParams(body)) args[key] = value;
  return args;
}

/** The bearer token of the request, else the `token` argument. */
export function tokenOf(req: IncomingMessage, args: JsonObject): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ') === true) return header.slice('Bearer '.length);
  return typeof args.token === 'string' ? args.token : undefined;
}

/** The arguments as a test wants to read them: JSON-string fields parsed, the token left out. */
export function readableArgs(args: JsonObject): JsonObject {
  const readable: JsonObject = {};
  for (const [key, value] of Object.entries(args)) {
    if (key === 'token') continue;
    const parsed: Json | undefined =
      typeof value === 'string' && ['blocks', 'attachments', 'view', 'metadata'].includes(key)
        ? parseJson(value)
        : undefined;
    readable[key] = parsed ?? value;
  }
  return readable;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: JsonObject,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}
