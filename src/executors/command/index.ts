import { notImplementedExecutor } from '../executor.js';
import { commandParams } from './params.js';

export const commandExecutor = notImplementedExecutor(
  'command',
  'Runs a program with arguments (never through a shell); output is captured and truncated.',
  commandParams,
);
