/** Reads a request body with a size limit; the caller parses the value with its zod schema. */
import type { IncomingMessage } from 'node:http';
import type { HttpErrorCode } from './respond.js';

type Refused<S extends number, C extends HttpErrorCode> = { ok: false; status: S; code: C; error: string };
export type RawBody = { ok: true; raw: Buffer } | Refused<413, 'payload_too_large'>;
export type JsonBody =
  | { ok: true; value: unknown }
  | Refused<400, 'invalid_json'>
  | Refused<413, 'payload_too_large'>
  | Refused<415, 'unsupported_media_type'>;
export type JsonBodyWithRaw = { ok: true; value: unknown; raw: Buffer } | Exclude<JsonBody, { ok: true }>;

/** The bytes of the body, refusing (without reading further) once it passes `maxBytes`. */
export async function readRaw(req: IncomingMessage, maxBytes: number): Promise<RawBody> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > maxBytes)
    return {
      ok: false,
      status: 413,
      code: 'payload_too_large',
      error: `the body is larger than ${maxBytes} bytes`,
    };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes)
      return {
        ok: false,
        status: 413,
        code: 'payload_too_large',
        error: `the body is larger than ${maxBytes} bytes`,
      };
    chunks.push(chunk);
  }
  return { ok: true, raw: Buffer.concat(chunks) };
}

/**
 * A JSON body and its raw bytes (signatures are computed over the bytes). `types` are the
 * accepted content types: SNS, for one, posts JSON as `text/plain`.
 */
export async function readJsonWithRaw(
  req: IncomingMessage,
  maxBytes = 64 * 1024,
  types: readonly string[] = ['application/json'],
): Promise<JsonBodyWithRaw> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!types.includes(type)) {
    return {
      ok: false,
      status: 415,
      code: 'unsupported_media_type',
      error: `send the body as ${types.join(' or ')}`,
    };
  }
  const body = await readRaw(req, maxBytes);
  if (!body.ok) return body;
  try {
    return { ok: true, value: JSON.parse(body.raw.toString('utf8')) as unknown, raw: body.raw };
  } catch {
    return { ok: false, status: 400, code: 'invalid_json', error: 'the body is not valid JSON' };
  }
}

export async function readJson(req: IncomingMessage, maxBytes = 64 * 1024): Promise<JsonBody> {
  const body = await readJsonWithRaw(req, maxBytes);
  return body.ok ? { ok: true, value: body.value } : body;
}
