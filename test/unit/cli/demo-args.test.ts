/** `rollback-bot demo [--serve [--port N]]`: the terminal journey unless asked for the browser. */
import { describe, expect, it } from 'vitest';
import { parseDemoArgs } from '../../../src/cli/demo.js';
import { DEFAULT_PORT } from '../../../src/cli/demo-serve.js';

describe('demo options', () => {
  it('plays in the terminal without options, serves the page with --serve', () => {
    expect(parseDemoArgs([])).toEqual({ serve: false, port: DEFAULT_PORT });
    expect(parseDemoArgs(['--serve'])).toEqual({ serve: true, port: DEFAULT_PORT });
    expect(parseDemoArgs(['--serve', '--port', '0'])).toEqual({ serve: true, port: 0 });
    expect(parseDemoArgs(['--port=9000', '--serve'])).toEqual({ serve: true, port: 9000 });
  });

  it('says what is wrong with the options', () => {
    expect(parseDemoArgs(['--serve', '--port'])).toBe('--port needs a port number (0 to 65535), got nothing');
    expect(parseDemoArgs(['--serve', '--port', '70000'])).toMatch(/^--port needs a port number/);
    expect(parseDemoArgs(['--serve', '--port', '-1'])).toMatch(/^--port needs a port number/);
    expect(parseDemoArgs(['--port', '9000'])).toBe('--port goes with --serve');
    expect(parseDemoArgs(['--browser'])).toBe('unknown option "--browser"');
  });
});
