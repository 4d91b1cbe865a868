#!/usr/bin/env node
/**
 * End-to-end check of a visitor's "My photos" link and "Remove me" in a real (headless) Chromium,
 * against the real site (nginx + gunicorn), in two stages around the organiser adding a photo
 * (backend/tests/test_deployment.py runs them):
 *
 *   STAGE=save:   the poster's link (/?code=ACCESS_CODE) -> accept the notice -> search with SAMPLE
 *                 -> found -> tick "Save my search" -> prints "[e2e] SAVED <url>"
 *   (the organiser adds a photo of the same person and indexes it)
 *   STAGE=return SAVED_URL=<url>: open the link -> "1 new photo since your last visit" ->
 *                 "Remove me from this gallery" -> confirm -> the poster's link and the notice (a new
 *                 browser) -> search with SAMPLE again -> not found
 *
 *   BASE_URL=http://127.0.0.1:8080 ACCESS_CODE=... SAMPLE=/path/amy1.png STAGE=save npm run e2e:visitor
 *   (ACCESS_CODE: the event's code, when the site asks for one; the saved link itself needs none)
 *
 * Exits non-zero, saying which step failed, on any failure or any console error in the page.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fail, log, openAsVisitor, run, screenshotter, step, watchConsole, withBrowser } from './harness.mjs';

const BASE_URL = process.env.BASE_URL || 'http://127.0.0.1:8010';
const SAMPLE = process.env.SAMPLE || '';
const STAGE = process.env.STAGE || 'save';
const SAVED_URL = process.env.SAVED_URL || '';
const SCREENSHOT_DIR = path.resolve(process.env.SCREENSHOT_DIR || 'e2e-output');
const RESULT_TIMEOUT = 120_000;
const ANSWER = '[data-testid="result-count"], [data-testid="not-found"], [role="alert"], section[aria-labelledby="candidates-title"]';

async function search(page) {
  await openAsVisitor(page, BASE_URL); // the poster's QR link, then the notice before the first search
  await page.getByRole('heading', { level: 1 }).waitFor();
  await page.getByLabel(/upload sample photos/i).setInputFiles(SAMPLE);
  await page.locator(ANSWER).first().waitFor({ state: 'visible', timeout: RESULT_TIMEOUT });
}

async function save(page, shot) {
  await step("the poster's link, the notice, then a search with the sample: found", async () => {
    await search(page);
    if (!(await page.getByTestId('result-count').count())) fail(`not found: ${await page.locator('main').innerText()}`);
    await shot('visitor-01-found.png');
  });
  await step('"Save my search" gives a private /me/ link', async () => {
    await page.getByRole('checkbox', { name: 'Save my search' }).click();
    const link = page.getByTestId('saved-link').getByRole('link');
    await link.waitFor();
    const href = await link.getAttribute('href');
    if (!href || !/^\/me\/[A-Za-z0-9_-]{16,}$/.test(href)) fail(`the saved link is ${href}`);
    log(`SAVED ${href}`);
    await shot('visitor-02-saved.png');
  });
}

async function comeBack(page, shot) {
  await step('the saved link shows "1 new photo since your last visit"', async () => {
    if (!SAVED_URL) fail('set SAVED_URL to the link the save stage printed');
    await page.goto(BASE_URL + SAVED_URL, { waitUntil: 'domcontentloaded' });
    const newSince = page.getByTestId('new-since');
    await newSince.waitFor({ timeout: RESULT_TIMEOUT });
    const text = await newSince.innerText();
    if (!/^1 new photo since your last visit/.test(text)) fail(`it says "${text}"`);
    await page.getByTestId('result-count').waitFor();
    await shot('visitor-03-one-new.png');
  });
  await step('"Remove me from this gallery", confirmed in its dialog', async () => {
    await page.getByRole('button', { name: 'Remove me from this gallery' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    if (!/no longer find you/i.test(await dialog.innerText())) fail('the dialog does not say what happens');
    await dialog.getByRole('button', { name: 'Remove me', exact: true }).click();
    await page.getByTestId('removed').waitFor();
    await shot('visitor-04-removed.png');
  });
  await step("the poster's link and the notice again, then the same sample answers as for someone absent", async () => {
    await search(page);
    if (await page.getByTestId('result-count').count()) fail(`still found: ${await page.getByTestId('result-count').innerText()}`);
    await shot('visitor-05-absent.png');
  });
}

async function main() {
  if (!SAMPLE) fail('set SAMPLE to a photo of someone in the gallery');
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await withBrowser(
    async (browser) => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      watchConsole(page);
      const shot = screenshotter(page, SCREENSHOT_DIR);
      if (STAGE === 'save') await save(page, shot);
      else if (STAGE === 'return') await comeBack(page, shot);
      else fail(`STAGE is ${STAGE}: save or return`);
      await context.close();
    },
    { dir: SCREENSHOT_DIR, failureShot: `visitor-${STAGE}-failure.png` },
  );
}

run(main, { totalTimeout: 5 * 60_000 });
