#!/usr/bin/env node
/**
 * End-to-end check of the organiser's review queue in a real (headless) Chromium: the organiser
 * logs in on the People page, follows its "questions worth answering" link to the Review page and
 * answers ANSWERS questions (default 10), by key (Y / N / S) and by tap in turn: "no" to "Same
 * person?", "yes" to "Is this face one of them?", skip to "Not a face?" (so the people change only
 * by the cannot-links of the "no"s). Each answer must bring a new question.
 *
 *   BASE_URL=http://127.0.0.1:8010 ORGANISER_PASSWORD=... SCREENSHOT_DIR=/tmp/shots node e2e/review.e2e.mjs
 *
 * It changes the gallery (the answers stay): run it against a throwaway copy. Exits non-zero,
 * saying which step failed, on any failure or any console error other than the visitor's 401s.
 */
/* global document -- used only in page.waitForFunction callbacks, which run in the page */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { checkAccessibility, fail, log, run, screenshotter, step, STEP_TIMEOUT, watchConsole, withBrowser } from './harness.mjs';

const BASE_URL = process.env.BASE_URL || 'http://127.0.0.1:8010';
const PASSWORD = process.env.ORGANISER_PASSWORD ?? 'organiser-e2e';
const SCREENSHOT_DIR = path.resolve(process.env.SCREENSHOT_DIR || 'e2e-output/review');
const ANSWERS = Number(process.env.ANSWERS || 10);
const TOTAL_TIMEOUT = 4 * 60_000;

const PLAN = {
  same_person: { key: 'n', button: /^No/ },
  face_belongs: { key: 'y', button: /^Yes/ },
  not_a_face: { key: 's', button: /^Skip/ },
};

async function main() {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await withBrowser(async (browser) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    watchConsole(page, { ignore: (msg) => /status of 401/.test(msg.text()) });
    const shot = screenshotter(page, SCREENSHOT_DIR);
    const question = page.getByTestId('review-question');

    await step('log in on the People page', async () => {
      await page.goto(`${BASE_URL}/#/people`, { waitUntil: 'domcontentloaded' });
      const form = page.getByTestId('login-required');
      await form.getByLabel('Password').fill(PASSWORD);
      await form.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('button', { name: 'Log out' }).waitFor();
    });

    await step('the People page says how many questions are worth answering, and links to the Review page', async () => {
      const link = page.getByTestId('review-link');
      await link.waitFor();
      log(`     ${(await link.innerText()).replace(/\s+/g, ' ').trim()}`);
      await link.getByRole('link', { name: 'Review' }).click();
      await question.waitFor();
      await page.getByTestId('review-face').first().waitFor();
      await page.waitForTimeout(400);
      await checkAccessibility(page, 'the review queue');
      await shot('review-01-first-question.png');
    });

    for (let i = 0; i < ANSWERS; i += 1) {
      const byKey = i % 2 === 0;
      await step(`answer question ${i + 1} of ${ANSWERS} (${byKey ? 'key' : 'tap'})`, async () => {
        await question.waitFor();
        const id = await question.getAttribute('data-question-id');
        const kind = await question.getAttribute('data-kind');
        const plan = PLAN[kind];
        if (!plan) fail(`unknown question kind ${kind}`);
        await page.getByTestId('review-face').first().waitFor();
        if (byKey) await page.keyboard.press(plan.key);
        else await question.getByRole('button', { name: plan.button }).click();
        await page.getByTestId('review-summary').filter({ hasText: `${i + 1} answered here` }).waitFor();
        await page.waitForFunction(
          (before) => {
            const el = document.querySelector('[data-testid="review-question"]');
            return !el || el.getAttribute('data-question-id') !== before;
          },
          id,
        );
        log(`     ${kind} ${id}: ${byKey ? plan.key : plan.button.source}`);
      });
    }

    await step('after the answers', async () => {
      await page.waitForTimeout(400);
      await shot('review-02-after-answers.png');
      const ended = await page.getByText('Nothing left to review.').count();
      if (!(await question.count()) && !ended) fail('neither a question nor the end of the queue');
    });
  }, { dir: SCREENSHOT_DIR, failureShot: 'review-failure.png' });
}

run(main, { totalTimeout: TOTAL_TIMEOUT });
