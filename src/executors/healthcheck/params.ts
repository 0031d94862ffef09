import { z } from 'zod';
import { duration, strictObject, templatedUrl } from '../../schema/zod-kit.js';
import { expectStatus } from '../shared-params.js';

export const healthcheckParams = strictObject({
  url: templatedUrl('Health endpoint to poll.'),
  successes: z.int().min(1).default(1).describe('Consecutive successes needed (default 1).'),
  attempts: z.int().min(1).default(5).describe('Attempts allowed in total before failing (default 5).'),
  interval: duration('Pause between attempts (default 2s).').prefault('2s'),
  expectStatus: expectStatus.optional(),
  bodyMatch: z
    .string()
    .refine(compiles, { error: 'is not a valid regular expression' })
    .optional()
    .describe('Regular expression the response body must match (a plain word matches as a substring).'),
  timeout: duration('Time limit for each probe; a probe that takes longer fails (default 5s).').prefault(
    '5s',
  ),
}).superRefine((params, ctx) => {
  if (params.successes > params.attempts) {
    ctx.addIssue({
      code: 'custom',
      path: ['successes'],
      message: `${params.successes} consecutive successes can never happen in ${params.attempts} attempts`,
    });
  }
});

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

export type HealthcheckParams = z.output<typeof healthcheckParams>;
