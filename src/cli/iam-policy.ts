/**
 * `rollback-bot iam-policy [FILE]`: the IAM policy the bot's AWS identity needs, generated from the
 * executors' `iamActions` (src/executors/iam-policy.ts); `npm run iam-policy` rewrites the copy in
 * deploy/aws/ and a test fails while that copy is stale.
 */
import { defaultRegistry } from '../executors/default-registry.js';
import { iamPolicy } from '../executors/iam-policy.js';
import type { CliIo } from './io.js';
import { writeGenerated } from './generated-file.js';

export function iamPolicyText(): string {
  return `${JSON.stringify(iamPolicy(defaultRegistry()), null, 2)}\n`;
}

export const runIamPolicy = (args: readonly string[], io: CliIo): Promise<number> =>
  writeGenerated('iam-policy', iamPolicyText, args, io);
