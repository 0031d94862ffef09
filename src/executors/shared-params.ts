/** Parameter pieces several executors share, so the same field reads the same everywhere. */
import { z } from 'zod';
import { duration } from '../schema/zod-kit.js';

/** A step's time limit; `fallback` is a duration string, parsed like any other. */
export const timeout = (fallback: string) =>
  duration(`Time limit for the whole step, e.g. 30s or 5m (default ${fallback}).`).prefault(fallback);

const httpStatus = z.int().min(100).max(599);

export const expectStatus = z
  .union([httpStatus, z.array(httpStatus).min(1)])
  .describe('Accepted HTTP status code, or a list of them (default: any 2xx).');
