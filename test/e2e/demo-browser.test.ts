/**
 * `npm run demo -- --serve` as a person uses it: the command in a child process (no Slack, no Redis),
 * its page in a real headless Chromium. The person fires the sample alert, rolls back from the
 * incident's thread, is refused as the outsider, arms the step failure, approves as the on-call
 * engineer, retries the failed step, marks the manual check done and sees the card resolved. Every
 * assertion is on text the page shows. A screenshot of the end is saved for people to look at.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(root, 'test-results/demo-browser.png');
/** Generous: the demo starts the whole bot, and this machine's cores are shared. */
const SEEN_MS = 30_000;

let demo: ChildProcess | undefined;
let demoOutput = '';
let browser: BrowserContext | undefined;
let profile: string | undefined;

/** Starts `demo --serve --port 0` and resolves with the URL it prints. */
function startDemo(): Promise<string> {
  // One process (tsx as a loader of this Node), so the test's SIGTERM reaches the demo as Ctrl-C would.
  const argv = ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--serve', '--port', '0'];
  const child = spawn(process.execPath, argv, {
    cwd: root,
    // No REDIS_URL: the demo must not need Redis.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  demo = child;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`the demo printed no URL within 90 s:\n${demoOutput}`));
    }, 90_000);
    const read = (chunk: Buffer): void => {
      demoOutput += chunk.toString();
      const url = /Open (http:\/\/127\.0\.0\.1:\d+\/) in a browser/.exec(demoOutput)?.[1];
      if (url !== undefined) {
        clearTimeout(timer);
        resolve(url);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited (${code}) before printing its URL:\n${demoOutput}`));
    });
  });
}

async function stopDemo(): Promise<number | null> {
  const child = demo;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null)
    return child?.exitCode ?? null;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      resolve(code);
    });
  });
  child.kill('SIGTERM');
  return exited;
}

beforeAll(() => {
  // Fail in the first second with what to do, not after a minute of timeouts.
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: apt-get install chromium (npm test installs it when it runs as root)`,
    );
});

afterAll(async () => {
  await browser?.close();
  await stopDemo();
  if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
});

/** The channel as the page shows it. */
const channel = (page: Page): Locator => page.locator('#live');

/** Waits until the page shows `text`; else fails with what the page shows instead. */
async function sees(page: Page, text: string | RegExp): Promise<void> {
  try {
    await channel(page).getByText(text).first().waitFor({ timeout: SEEN_MS });
  } catch {
    const status = await page.locator('#status').innerText();
    throw new Error(
      `the page does not show ${String(text)}; its status line says "${status}", its channel:\n${await channel(page).innerText()}`,
    );
  }
}

async function clickButton(page: Page, name: string): Promise<void> {
  await channel(page).getByRole('button', { name, exact: true }).last().click({ timeout: SEEN_MS });
}

async function actAs(page: Page, label: RegExp): Promise<void> {
  const option = page.locator('#viewer option', { hasText: label });
  await page.locator('#viewer').selectOption((await option.getAttribute('value')) ?? '');
}

describe('rollback-bot demo --serve', () => {
  it('takes a person from an alert to a resolved rollback in the browser', async () => {
    const url = await startDemo();
    profile = mkdtempSync(join(tmpdir(), 'demo-browser-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      // A closed network: without these Chromium waits on connections it cannot make.
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1100, height: 900 },
    });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(url);
    await sees(page, 'No messages in #incidents yet.');
    expect(await page.locator('#viewer option:checked').textContent()).toBe('Dana, developer');

    // Alertmanager fires: the incident's message and its thread appear, with the offer.
    await page.getByRole('button', { name: 'Fire a sample alert' }).click();
    await sees(page, '🚨 INCIDENT: demo-service (production)');
    await sees(page, /HighErrorRate — 5xx ratio above 5%/);
    await sees(page, /the plan proposes rolling back demo-service \(production\)/);

    // Dana rolls back from the thread: the card is drawn on the incident's message.
    await clickButton(page, 'Roll back');
    await sees(page, /Declared rollback `?rb-[0-9a-f]+`?: its status card is on this incident's message/);
    await sees(page, /Approval needed for the rollback of demo-service/);
    await sees(page, 'Only visible to you');

    // Otto, who holds no role, approves: the confirmation dialog, then a refusal only he sees.
    await actAs(page, /Otto/);
    await clickButton(page, 'Approve');
    const dialog = page.locator('dialog#confirm');
    await dialog.waitFor({ timeout: SEEN_MS });
    expect(await dialog.locator('.confirm-title').textContent()).toBe(
      'Roll back demo-service in production?',
    );
    await dialog.getByRole('button', { name: 'Approve' }).click();
    await sees(page, '🙅 needs on-call-engineer or above; you hold no role in authority policy "demo"');
    await expect.poll(() => page.locator('#status').textContent()).toBe('Otto clicked “Approve”.');

    // The step failure is armed, then Omar, the on-call engineer, approves; he does not see Otto's refusal.
    await page.getByRole('button', { name: 'Fail the next step' }).click();
    await sees(page, /Armed: the next step that runs will fail once/);
    await actAs(page, /Omar/);
    await expect
      .poll(() => channel(page).textContent(), { timeout: SEEN_MS })
      .not.toContain('you hold no role in authority policy');
    await clickButton(page, 'Approve');
    await dialog.getByRole('button', { name: 'Approve' }).click();
    await sees(page, /Authorized\. Starting the 2 steps/);
    await sees(page, 'blue does not drain (failed on purpose: the demo switch was on)');
    await sees(page, /step 1\/2 Drain the blue environment failed/);

    // Retry: the step runs again (the switch was used up), then the rest, then the manual check.
    await clickButton(page, 'Retry step 1');
    await sees(page, /step 1\/2 Drain the blue environment succeeded .*\(attempt 2\)/);
    await sees(page, 'green serves v1.4.1 (drain reported previous=v1.4.1)');
    await clickButton(page, 'Mark done');
    await sees(page, 'ROLLBACK COMPLETE');
    await sees(page, /State\s*✅ resolved/);
    await sees(page, 'Post-Mortem');
    expect(await page.locator('.notes').count()).toBe(0);
    expect(errors).toEqual([]);

    mkdirSync(join(root, 'test-results'), { recursive: true });
    // From the top, so the sticky bar with the switcher heads the picture.
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`demo-browser screenshot: ${SCREENSHOT}`);

    expect(await stopDemo()).toBe(0);
    expect(demoOutput).toContain('rollback-bot demo: stopped');
  }, 180_000);
});
