import { z } from 'zod';
import { strictObject } from '../../schema/zod-kit.js';
import { timeout } from '../shared-params.js';
import { INHERIT_PATTERN, isBotCredential } from './inherit-env.js';

export const commandParams = strictObject({
  argv: z
    .array(z.string().min(1, { error: 'arguments must not be empty' }), {
      error: 'must be a list of arguments such as ["./scripts/flag.sh", "off"]; shell strings are not run',
    })
    .min(1, { error: 'must name the program to run as its first item' })
    .describe('Program and arguments, run without a shell; items may use {{ templates }}.'),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'is not a variable name' }), z.string())
    .optional()
    .describe('Extra environment variables for the program; secrets as ${env:NAME}.'),
  inheritEnv: z
    .array(
      z
        .string()
        .regex(INHERIT_PATTERN, {
          error:
            'must be a variable name (KUBECONFIG) or a prefix ending in * (AWS_*); * alone would pass the whole environment',
        })
        .refine((name) => !isBotCredential(name), {
          error:
            "is one of the bot's own credentials, which are never inherited; pass it explicitly in env as ${env:NAME} if the program really needs it",
        }),
    )
    .optional()
    .describe(
      "Variables of the bot's environment the program also gets, by name or prefix (AWS_*, KUBECONFIG); by default it gets PATH only. The bot's own tokens are never inherited; secret-looking values are masked in the output.",
    ),
  allowOptionValues: z
    .boolean()
    .default(false)
    .describe(
      'Let a {{ template }} value that begins with "-" start an argument. Off by default: such a value fails the step, so text from a user, an alert or CI can never become an option of the program.',
    ),
  cwd: z.string().min(1).optional().describe("Working directory (default: the bot's)."),
  timeout: timeout('5m'),
});

export type CommandParams = z.output<typeof commandParams>;
