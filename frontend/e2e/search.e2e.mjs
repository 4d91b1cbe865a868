#!/usr/bin/env node
/**
 * End-to-end check of the FaceExplore site in a real (headless) Chromium.
 *
 *   BASE_URL=http://127.0.0.1:8000 BBT_DIR=/path/to/bbt SCREENSHOT_DIR=../media npm run e2e
 *
 * BASE_URL        the site (backend serving the built frontend, or the Vite dev server)
 * BBT_DIR         the bbt dataset: people/<name>/<name>N.png and group/bbtN.jpg
 * SCREENSHOT_DIR  where screenshots go (default: ./e2e-output)
 * CHROMIUM        the browser binary (default: /usr/bin/chromium)
 * ACCESS_CODE     the event's access code, when the site asks for one (faceexplore access-code)
 *
 * Exits non-zero, saying which step failed, on any failure or any console error in the page.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkAccessibility, fail, log, openAsVisitor, run, screenshotter, step, STEP_TIMEOUT, watchConsole, withBrowser } from './harness.mjs';

const BASE_URL = process.env.BASE_URL || 'http://127.0.0.1:8000';
const BBT_DIR = process.env.BBT_DIR || '';
const SCREENSHOT_DIR = path.resolve(process.env.SCREENSHOT_DIR || 'e2e-output');
const RESULT_TIMEOUT = 60_000; // a search (face detection + matching) may take a while on a CPU
const TOTAL_TIMEOUT = 5 * 60_000;

/** File names in a zip, read from its central directory (no dependency needed). */
export function zipEntryNames(buf) {
  const EOCD = 0x06054b50;
  const CDH = 0x02014b50;
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail('the download is not a valid zip (no end of central directory)');
  const count = buf.readUInt16LE(eocd + 10);
  let off = buf.readUInt32LE(eocd + 16);
  const names = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(off) !== CDH) fail('the zip central directory is damaged');
    const nameLen = buf.readUInt16LE(off + 28);
    const extraLen = buf.readUInt16LE(off + 30);
    const commentLen = buf.readUInt16LE(off + 32);
    names.push(buf.subarray(off + 46, off + 46 + nameLen).toString('utf8'));
    off += 46 + nameLen + extraLen + commentLen;
  }
  return names;
}

async function main() {
  if (!BBT_DIR) fail('set BBT_DIR to the bbt dataset (with people/ and group/)');
  const amy = path.join(BBT_DIR, 'people/amy/amy1.png');
  const stuart = path.join(BBT_DIR, 'people/stuart/stuart1.png');
  for (const f of [amy, stuart]) await stat(f).catch(() => fail(`missing sample file ${f}`));
  await mkdir(SCREENSHOT_DIR, { recursive: true });

  await withBrowser(async (browser) => {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    page.setDefaultNavigationTimeout(STEP_TIMEOUT);
    // (No 401 is expected: a visitor's page asks nothing the organiser's login guards.)
    watchConsole(page, { withLocation: true });

    const shot = screenshotter(page, SCREENSHOT_DIR);
    const fileInput = () => page.locator('input[type="file"]').first();
    const clearSamples = async () => {
      const clear = page.getByRole('button', { name: 'Clear', exact: true });
      if (await clear.count()) await clear.click();
      await page.getByRole('button', { name: /choose photos/i }).waitFor({ state: 'visible' });
    };
    /** Wait for the search to finish: results, "not in the gallery", or an error. */
    const waitForAnswer = async () => {
      await page
        .locator('[data-testid="result-count"], [data-testid="not-found"], [role="alert"], section[aria-labelledby="candidates-title"]')
        .first()
        .waitFor({ state: 'visible', timeout: RESULT_TIMEOUT });
      const alert = page.locator('[role="alert"]:not([data-testid="not-found"])');
      if (await alert.count()) fail(`the search answered with an error: ${(await alert.first().innerText()).trim()}`);
    };
    // (href*=: with a private gallery the address carries a signed token after the path)
    const bbt4 = 'a.fe-gallery-item[href*="group/bbt4.jpg"]';

    if (process.env.ACCESS_CODE) {
      await step('without the code the page asks for it', async () => {
        await page.goto(BASE_URL, { waitUntil: 'domcontentloaded' });
        await page.getByRole('textbox', { name: /access code/i }).waitFor();
        if (await page.getByLabel(/upload sample photos/i).count()) fail('the search form is shown without the code');
        await shot('00-access-code.png');
      });
    }

    await step("open the site from the poster's link and accept the notice", async () => {
      await openAsVisitor(page, BASE_URL);
      const h1 = page.getByRole('heading', { level: 1 });
      await h1.waitFor();
      const text = await h1.innerText();
      if (!/find every photo of a person/i.test(text)) fail(`unexpected heading: ${text}`);
      await page.getByLabel(/upload sample photos/i).waitFor({ state: 'attached' });
      await shot('01-home.png');
      await checkAccessibility(page, 'the search page');
    });

    await step('search for amy (found, bbt4.jpg among the results)', async () => {
      await fileInput().setInputFiles(amy);
      await waitForAnswer();
      if (await page.locator('[data-testid="not-found"]').count()) fail('amy was reported as not in the gallery');
      await page.locator(bbt4).first().waitFor({ state: 'attached', timeout: RESULT_TIMEOUT });
      const count = await page.getByTestId('result-count').innerText();
      const conf = await page.getByTestId('result-summary').innerText();
      log(`     ${count}; ${conf}`);
      await page.locator(`${bbt4} img[data-loaded="true"]`).first().waitFor({ timeout: STEP_TIMEOUT }).catch(() => {});
      await shot('02-search-amy.png');
      await checkAccessibility(page, 'the results');
    });

    await step('open a result in lightGallery (download button points at the full photo)', async () => {
      await page.locator(bbt4).first().click();
      await page.locator('.lg-container.lg-show .lg-outer').waitFor({ state: 'visible' });
      const href = await page.locator('.lg-container.lg-show #lg-download-1, .lg-container.lg-show .lg-download').first().getAttribute('href');
      const target = href ? new URL(href, BASE_URL).pathname : '';
      if (!target.startsWith('/gallery/') || !target.endsWith('group/bbt4.jpg')) fail(`lightGallery download link is ${href}`);
      await page.waitForTimeout(800);
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, '03-lightgallery.png') });
      await page.keyboard.press('Escape');
      await page.locator('.lg-container.lg-show').waitFor({ state: 'detached' });
    });

    await step('phone layout', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.waitForTimeout(300);
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, '04-search-amy-phone.png'), fullPage: false });
      await page.setViewportSize({ width: 1280, height: 900 });
    });

    await step('search for stuart (not in the gallery)', async () => {
      await clearSamples();
      await fileInput().setInputFiles(stuart);
      await waitForAnswer();
      // The gallery may be unsure and ask "Is one of these you?" first (e2e/candidates.e2e.mjs).
      const none = page.getByRole('button', { name: 'None of these' });
      if (await none.count()) await none.click();
      const nf = page.locator('[data-testid="not-found"]');
      if (!(await nf.count())) fail('stuart was found, but he is not in the gallery');
      const text = await nf.innerText();
      if (!/not .*in the gallery|don't seem to be in the gallery/i.test(text)) fail(`the page does not say "not in the gallery": ${text}`);
      await shot('05-search-stuart-not-found.png');
      await checkAccessibility(page, '"not in the gallery"');
    });

    await step('download all photos of amy as one zip', async () => {
      await clearSamples();
      await fileInput().setInputFiles(amy);
      await waitForAnswer();
      await page.locator(bbt4).first().waitFor({ state: 'attached', timeout: RESULT_TIMEOUT });
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: RESULT_TIMEOUT }),
        page.getByRole('button', { name: /download all/i }).click(),
      ]);
      const name = download.suggestedFilename();
      if (name !== 'faceexplore-photos.zip') fail(`the zip is named ${name}`);
      const file = path.join(os.tmpdir(), `faceexplore-e2e-${process.pid}.zip`);
      await download.saveAs(file);
      const buf = await readFile(file);
      if (buf.subarray(0, 2).toString('latin1') !== 'PK') fail('the download does not start with PK (not a zip)');
      const names = zipEntryNames(buf);
      log(`     zip holds ${names.length} files: ${names.join(', ')}`);
      if (!names.some((n) => n.endsWith('bbt4.jpg'))) fail('the zip does not contain bbt4.jpg');
    });

    await step('a visitor sees no People tab (the people pages are the organiser\'s), only the Organiser button', async () => {
      // people_page = "organiser" (the default): the organiser's pages are e2e/organiser.e2e.mjs
      await page.getByRole('tab', { name: 'Search' }).waitFor();
      if (await page.getByRole('tab', { name: /people/i }).count()) fail('a visitor is shown the People tab');
      await page.getByRole('button', { name: 'Organiser', exact: true }).waitFor();
      await shot('06-no-people-tab.png');
    });
  }, { dir: SCREENSHOT_DIR, failureShot: 'failure.png' });
}

run(main, { totalTimeout: TOTAL_TIMEOUT });
