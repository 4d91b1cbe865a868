/**
 * The harness the browser end-to-end scripts (search, organiser, candidates) share: Chromium
 * through playwright-core, the `[e2e]` log lines, the steps, the console errors of the page, the
 * screenshots, the failure screenshot and the exit (0 PASS, 1 FAIL in a step, 2 gave up).
 *
 * One script runs per process, so the current step and the console errors live here.
 *
 * CHROMIUM  the browser binary (default: /usr/bin/chromium)
 *
 * `checkAccessibility(page, name)` runs axe-core on the page as it stands and fails the step on
 * any violation; every script calls it on each page state it reaches.
 */
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** @typedef {import('playwright-core').Browser} Browser */
/** @typedef {import('playwright-core').ConsoleMessage} ConsoleMessage */
/** @typedef {import('playwright-core').Page} Page */

/** How long one action (a click, a wait, a screenshot) may take, in ms. */
export const STEP_TIMEOUT = 30_000;

/** @type {string[]} */
const consoleErrors = [];
let currentStep = 'start';

/** axe-core's browser bundle, read once; evaluated in the page (not a <script> tag, which the
 * site's Content-Security-Policy would block). */
let axeSource = '';

/**
 * Run axe-core on the page as it stands and fail (with each rule, its impact, its help address
 * and the elements it found) on any violation. Every rule axe runs by default is checked: WCAG
 * 2.x A and AA and axe's best practices (a level-one heading, landmarks, dialog names, ...).
 * @param {Page} page
 * @param {string} name  the page state, for the log and the failure
 * @param {{ exclude?: string[] }} [options]  CSS selectors of parts axe skips (third-party widgets)
 */
export async function checkAccessibility(page, name, { exclude = [] } = {}) {
  if (!axeSource) axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(axeSource);
  // Animations (a dialog or a snackbar fading in) would leave colours half-way: wait until the
  // page is at rest, two frames with no animation running (a transition the page starts in its
  // next frame is not running yet when first asked), at most 5 s.
  // (The callbacks run in the page; this file is type-checked without the DOM's types.)
  await page.evaluate(async () => {
    const win = /** @type {any} */ (globalThis);
    const frame = () => new Promise((resolve) => win.requestAnimationFrame(() => resolve(undefined)));
    const deadline = Date.now() + 5000;
    for (;;) {
      await frame();
      await frame();
      const running = win.document.getAnimations();
      if (!running.length || Date.now() > deadline) return;
      await Promise.all(running.map((/** @type {any} */ a) => a.finished.catch(() => {})));
    }
  });
  const violations = await page.evaluate(async (excluded) => {
    const win = /** @type {any} */ (globalThis);
    const context = excluded.length ? { exclude: excluded.map((sel) => [sel]) } : win.document;
    const result = await win.axe.run(context, { resultTypes: ['violations'] });
    return result.violations.map((/** @type {any} */ v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((/** @type {any} */ n) => `${n.target.join(' ')}${n.failureSummary ? `: ${n.failureSummary.replace(/\s+/g, ' ')}` : ''}`),
    }));
  }, exclude);
  if (violations.length) {
    const lines = violations.map(
      (v) => `${v.id} (${v.impact}, ${v.nodes.length}x): ${v.help} <${v.helpUrl}>\n      ${v.nodes.slice(0, 5).join('\n      ')}${v.nodes.length > 5 ? `\n      ... and ${v.nodes.length - 5} more` : ''}`,
    );
    fail(`axe found ${violations.length} accessibility violation(s) on ${name}:\n  ${lines.join('\n  ')}`);
  }
  log(`     axe: ${name}: no violations`);
}

/** The step now running ('start' before the first, 'end' after the last). */
export function stepName() {
  return currentStep;
}

/** @param {string} msg */
export function log(msg) {
  console.log(`[e2e] ${msg}`);
}

/**
 * @param {string} msg
 * @returns {never}
 */
export function fail(msg) {
  throw new Error(msg);
}

/**
 * Run one step, named in the log and in the failure line.
 * @param {string} name
 * @param {() => Promise<void>} fn
 */
export async function step(name, fn) {
  currentStep = name;
  const t0 = Date.now();
  await fn();
  log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

/**
 * Collect the page's console errors, licence warnings and uncaught exceptions, each with the step it came in.
 * @param {Page} page
 * @param {{ ignore?: (msg: ConsoleMessage) => boolean, withLocation?: boolean }} [options]
 *   ignore: errors the step expects; withLocation: add the script's address to the line
 */
export function watchConsole(page, { ignore = () => false, withLocation = false } = {}) {
  page.on('console', (msg) => {
    // a library's licence warning (lightGallery's "license key is not valid for production use")
    // counts as an error: the page must use every library as its licence allows, without one
    const licenceWarning = msg.type() === 'warning' && /licen[cs]e/i.test(msg.text());
    if ((msg.type() !== 'error' && !licenceWarning) || ignore(msg)) return;
    const loc = withLocation ? msg.location() : undefined;
    consoleErrors.push(`[${currentStep}] ${msg.text()}${loc?.url ? ` (${loc.url})` : ''}`);
  });
  page.on('pageerror', (err) => consoleErrors.push(`[${currentStep}] uncaught: ${err.message}`));
}

/**
 * A screenshot helper: `shot(name)` saves `dir/<prefix><name>` and logs where.
 * @param {Page} page
 * @param {string} dir
 * @param {string} [prefix]
 * @returns {(name: string, fullPage?: boolean) => Promise<void>}
 */
export function screenshotter(page, dir, prefix = '') {
  return async (name, fullPage = true) => {
    const file = path.join(dir, `${prefix}${name}`);
    await page.screenshot({ path: file, fullPage, timeout: STEP_TIMEOUT });
    log(`     screenshot ${file}`);
  };
}

/**
 * Launch headless Chromium, run `body` with it, then fail on any console error collected. On a
 * failure, save a screenshot of the first page as `dir/failureShot` (best effort); always close
 * the browser.
 * @param {(browser: Browser) => Promise<void>} body
 * @param {{ dir: string, failureShot: string }} options
 */
export async function withBrowser(body, { dir, failureShot }) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    timeout: STEP_TIMEOUT,
  });
  try {
    await body(browser);
    currentStep = 'end';
    if (consoleErrors.length) fail(`console errors in the page:\n  ${consoleErrors.join('\n  ')}`);
  } catch (e) {
    try {
      const pages = browser.contexts().flatMap((c) => c.pages());
      if (pages[0]) await pages[0].screenshot({ path: path.join(dir, failureShot), fullPage: true, timeout: 10_000 });
    } catch {
      /* best effort */
    }
    throw e;
  } finally {
    await browser.close().catch(() => {});
  }
}

/**
 * Run the script's `main` and exit: 0 with `[e2e] PASS`, 1 with `[e2e] FAIL in step "..."` (and
 * the console errors), 2 when it is still running after `totalTimeout` ms.
 * @param {() => Promise<void>} main
 * @param {{ totalTimeout: number }} options
 */
export function run(main, { totalTimeout }) {
  const killer = setTimeout(() => {
    console.error(`[e2e] FAIL: gave up after ${totalTimeout / 1000} s (step: ${currentStep})`);
    process.exit(2);
  }, totalTimeout);

  main()
    .then(() => {
      clearTimeout(killer);
      log('PASS');
      process.exit(0);
    })
    .catch((e) => {
      clearTimeout(killer);
      console.error(`[e2e] FAIL in step "${currentStep}": ${e?.message ?? e}`);
      if (consoleErrors.length && !String(e?.message).includes('console errors')) {
        console.error(`[e2e] console errors:\n  ${consoleErrors.join('\n  ')}`);
      }
      process.exit(1);
    });
}

/**
 * Open the site as a visitor who scanned the event's poster: its QR link `/?code=ACCESS_CODE` when
 * the site asks for a code (ACCESS_CODE set), then tick the notice shown before the first search.
 * @param {Page} page
 * @param {string} baseUrl
 */
export async function openAsVisitor(page, baseUrl) {
  const code = process.env.ACCESS_CODE;
  await page.goto(code ? `${baseUrl}/?code=${encodeURIComponent(code)}` : baseUrl, { waitUntil: 'domcontentloaded' });
  const notice = page.getByRole('region', { name: 'Before you search' });
  await notice.or(page.getByLabel(/upload sample photos/i)).first().waitFor({ state: 'attached' });
  if (await notice.count()) {
    await notice.getByRole('checkbox').check();
    await notice.getByRole('button', { name: /continue to the search/i }).click();
  }
  if (new URL(page.url()).searchParams.has('code')) fail('the access code stays in the address bar');
}
