#!/usr/bin/env node
/**
 * End-to-end check of the organiser's pages in a real (headless) Chromium: a visitor meets the
 * login form on the People page; the organiser logs in (a wrong password first), renames a
 * person, merges two, moves a face to a new person, marks one as not a face and undoes that,
 * hides someone, undoes that, hides them, unhides them and hides them again, checks the phone
 * layout, opens History and undoes the 3rd most recent correction (the first of those last three:
 * the page asks first, naming the two later ones it takes back too, then marks all three undone),
 * hides that person once more, uploads a photo and finds it by search within 60 s (with
 * UPLOAD_PHOTO), and logs out (and meets the login form again).
 *
 *   BASE_URL=http://127.0.0.1:8010 ORGANISER_PASSWORD=... SCREENSHOT_DIR=/tmp/shots node e2e/organiser.e2e.mjs
 *
 * BASE_URL            the site, with people_page = "organiser" (the backend's default; the mock:
 *                     PEOPLE_PAGE=organiser) and at least three people with two or more faces
 * ORGANISER_PASSWORD  the organiser password (the mock's default: organiser-e2e)
 * SCREENSHOT_DIR      where screenshots go (default: ./e2e-output/organiser)
 * CHROMIUM            the browser binary (default: /usr/bin/chromium)
 * RENAME_PERSON       the id of the person to rename and move a face from (default: the first card)
 * MERGE_PEOPLE        "id,id": the two people to merge, into the first (default: the second and
 *                     third card); on a real gallery pick two never in one photo (the API refuses
 *                     to make one person of two faces of one photo)
 * HIDE_PERSON         the id of the person to hide (default: the last card of the first page)
 * UPLOAD_PHOTO        a photo to add from the People page, and UPLOAD_SAMPLE a photo of the same
 *                     person to search with: the upload must be among the results within 60 s
 *                     (the live watcher indexes it; the mock has none: skipped when unset)
 *
 * It changes the gallery's people (the rename, merge, move and hide stay): run it against a
 * throwaway copy. Exits non-zero, saying which step failed, on any failure or any console error
 * in the page other than the 401s the login steps expect.
 */
/* global document -- used only in page.waitForFunction callbacks, which run in the page */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { checkAccessibility, fail, log, openAsVisitor, run, screenshotter, step, STEP_TIMEOUT, watchConsole, withBrowser } from './harness.mjs';

const BASE_URL = process.env.BASE_URL || 'http://127.0.0.1:8010';
const PASSWORD = process.env.ORGANISER_PASSWORD ?? 'organiser-e2e';
const SCREENSHOT_DIR = path.resolve(process.env.SCREENSHOT_DIR || 'e2e-output/organiser');
const TOTAL_TIMEOUT = 6 * 60_000;
const UPLOAD_PHOTO = process.env.UPLOAD_PHOTO || '';
const UPLOAD_SAMPLE = process.env.UPLOAD_SAMPLE || '';
const SEARCHABLE_WITHIN = 60_000;
const NEW_NAME = 'Amy Farrah Fowler';
const RENAME_PERSON = process.env.RENAME_PERSON || '';
const MERGE_PEOPLE = (process.env.MERGE_PEOPLE || '').split(',').filter(Boolean);
const HIDE_PERSON = process.env.HIDE_PERSON || '';

async function main() {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await withBrowser(async (browser) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    // The browser logs every 401 it gets; the visitor's People page and the wrong password expect them.
    watchConsole(page, { ignore: (msg) => /status of 401/.test(msg.text()) });

    const shot = screenshotter(page, SCREENSHOT_DIR);
    const cards = page.getByTestId('person-card');
    /** The card of person `id`, or the nth card when no id is given. */
    const cardOf = (id, nth) =>
      id ? cards.filter({ has: page.locator(`a[href$="#/people/${id}"]`) }) : nth < 0 ? cards.last() : cards.nth(nth);
    const snackbar = page.getByTestId('correction-snackbar');
    /** Wait for a snackbar saying `text`, then close it so the next one is a new one. */
    const expectSnackbar = async (text) => {
      await snackbar.filter({ hasText: text }).waitFor();
      log(`     snackbar: ${(await snackbar.innerText()).replace(/\s+/g, ' ').trim()}`);
    };
    const closeSnackbar = async () => {
      await snackbar.getByRole('button', { name: 'Close' }).click();
      await snackbar.waitFor({ state: 'detached' });
    };
    const peopleTotal = async () => {
      const text = await page.getByText(/found by grouping similar faces/).innerText();
      return Number(/(\d+) (?:person|people)/.exec(text)?.[1]);
    };
    const facesOf = async () => Number(/(\d+) faces?/.exec(await page.getByText(/ · \d+ faces?/).first().innerText())?.[1]);

    await step('a visitor sees only the Organiser button, and the login form on People', async () => {
      await page.goto(`${BASE_URL}/#/people`, { waitUntil: 'domcontentloaded' });
      await page.getByTestId('login-required').waitFor();
      if (await cards.count()) fail('a visitor sees people');
      await page.getByRole('button', { name: 'Organiser', exact: true }).waitFor();
      await shot('organiser-01-visitor-people.png');
      await checkAccessibility(page, 'the login page');
      // The header's Organiser button opens the same form in a dialog.
      await page.getByRole('button', { name: 'Organiser', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: /organiser/i });
      await dialog.waitFor();
      await checkAccessibility(page, 'the login dialog');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
    });

    await step('a wrong password is refused with a message', async () => {
      const form = page.getByTestId('login-required');
      await form.getByLabel('Password').fill('not-the-password');
      await form.getByRole('button', { name: 'Log in' }).click();
      const alert = form.getByRole('alert');
      await alert.waitFor();
      log(`     ${(await alert.innerText()).trim()}`);
    });

    await step('log in', async () => {
      const form = page.getByTestId('login-required');
      await form.getByLabel('Password').fill(PASSWORD);
      await form.getByRole('button', { name: 'Log in' }).click();
      await page.getByText('Logged in as the organiser.').waitFor();
      if (!new URL(page.url()).hash.startsWith('#/people')) fail(`after logging in the page is ${page.url()}`);
      await page.getByRole('tab', { name: 'People', selected: true }).waitFor();
      await cards.first().waitFor();
      await page.getByRole('button', { name: 'Log out' }).waitFor();
      await page.getByLabel('Search names').waitFor();
      await page.waitForTimeout(500);
      await shot('organiser-02-organiser-people.png');
      await checkAccessibility(page, 'People');
    });

    let renamedId = '';
    await step(`rename the first person to "${NEW_NAME}" (Enter saves)`, async () => {
      const card = cardOf(RENAME_PERSON, 0);
      renamedId = (await card.getByRole('link').first().getAttribute('href'))?.split('/').pop() ?? '';
      await card.getByRole('button', { name: /^Rename / }).click();
      await card.getByRole('textbox').fill(NEW_NAME);
      await card.getByRole('textbox').press('Enter');
      await expectSnackbar(NEW_NAME);
      await page.getByTestId('person-card').filter({ hasText: NEW_NAME }).waitFor();
      await closeSnackbar();
      // The name search finds them.
      await page.getByLabel('Search names').fill('farrah');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="person-card"]').length === 1);
      await page.getByLabel('Search names').fill('');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="person-card"]').length > 1);
    });

    await step('merge two people', async () => {
      const before = await peopleTotal();
      await cardOf(MERGE_PEOPLE[0], 1).getByRole('checkbox').check();
      await cardOf(MERGE_PEOPLE[1], 2).getByRole('checkbox').check();
      await page.getByRole('toolbar', { name: 'Selected people' }).getByRole('button', { name: /merge/i }).click();
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      await shot('organiser-03-merge-dialog.png', false);
      await dialog.getByRole('button', { name: /^Merge into / }).click();
      await expectSnackbar('Merged 2 people');
      await page.getByText(new RegExp(`^${before - 1} people found`)).waitFor();
      log(`     ${before} people -> ${await peopleTotal()}`);
      await closeSnackbar();
    });

    await step('move a face of the renamed person to a new person', async () => {
      await page.goto(`${BASE_URL}/#/people/${renamedId}`);
      const grid = page.getByRole('region', { name: `Faces of ${NEW_NAME}` });
      await grid.getByTestId('face-tile').first().waitFor();
      const before = await facesOf();
      await grid.getByTestId('face-tile').first().click();
      await page.getByRole('button', { name: /move to/i }).click();
      const dialog = page.getByRole('dialog');
      const list = dialog.getByRole('list', { name: 'Move to' });
      // The first entry is "A new person"; the people follow once they are loaded.
      await list.getByRole('button').nth(1).waitFor();
      await shot('organiser-04-move-picker.png', false);
      await list.getByRole('button', { name: /a new person/i }).click();
      await expectSnackbar('Moved 1 face to');
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="face-tile"]').length === n, before - 1);
      log(`     ${before} faces -> ${await facesOf()}`);
      await shot('organiser-05-person-after-move.png');
      await checkAccessibility(page, 'the person page');
      await closeSnackbar();
    });

    await step('mark a face as not a face, then undo that', async () => {
      const before = await page.getByTestId('face-tile').count();
      await page.getByTestId('face-tile').first().click();
      await page.getByRole('button', { name: /not a face/i }).click();
      await expectSnackbar('marked as not a face');
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="face-tile"]').length === n, before - 1);
      await snackbar.getByRole('button', { name: 'Undo' }).click();
      await expectSnackbar('Undone');
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="face-tile"]').length === n, before);
      await closeSnackbar().catch(() => {});
    });

    /** Hide the person with the card's Hide button and wait until the card says so. */
    const hide = async (card) => {
      await card.getByRole('button', { name: /^Hide / }).click();
      await expectSnackbar('is hidden from visitors');
      await page.locator('[data-testid="person-card"][data-hidden="true"]').first().waitFor();
    };

    let hideCard = cards.last();
    await step('hide a person from visitors', async () => {
      await page.goto(`${BASE_URL}/#/people`);
      await cards.first().waitFor();
      hideCard = cardOf(HIDE_PERSON, -1);
      await hide(hideCard);
    });

    await step('undo the hide (the card is shown to visitors again), hide, unhide and hide again', async () => {
      await snackbar.getByRole('button', { name: 'Undo' }).click();
      await expectSnackbar('Undone');
      await hideCard.getByRole('button', { name: /^Hide / }).waitFor();
      if (await page.locator('[data-testid="person-card"][data-hidden="true"]').count()) fail('the person is still hidden after Undo');
      await closeSnackbar().catch(() => {});
      await hide(hideCard);
      await closeSnackbar();
      // Unhide with the card's own button, then hide once more: they stay hidden for what follows.
      await hideCard.getByRole('button', { name: /^Unhide / }).click();
      await expectSnackbar('is shown to visitors again');
      await hideCard.getByRole('button', { name: /^Hide / }).waitFor();
      await closeSnackbar();
      await hide(hideCard);
      await closeSnackbar();
      await shot('organiser-people.png');
      await hideCard.getByRole('link').first().click();
      await page.getByText('Hidden from visitors').waitFor();
      await page.getByTestId('face-tile').first().waitFor();
      await page.waitForTimeout(500);
      await shot('organiser-person.png');
    });

    await step('phone layout (390×844)', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.getByTestId('face-tile').first().click();
      await page.waitForTimeout(400);
      await shot('organiser-06-person-phone.png', false);
      await page.goto(`${BASE_URL}/#/people`);
      await cards.first().waitFor();
      await page.waitForTimeout(500);
      await shot('organiser-07-people-phone.png', false);
      await page.setViewportSize({ width: 1280, height: 900 });
    });

    await step('History: undo the 3rd most recent correction, and with it the later ones of that person', async () => {
      await page.getByRole('tab', { name: /history/i }).click();
      const rows = page.getByRole('list', { name: 'Corrections, newest first' }).getByRole('listitem');
      await rows.nth(2).waitFor();
      await checkAccessibility(page, 'History');
      const third = rows.nth(2);
      const id = ((await third.getAttribute('data-testid')) ?? '').replace('correction-', '');
      log(`     undoing #${id}: ${(await third.innerText()).replace(/\s+/g, ' ').trim()}`);
      await third.getByRole('button', { name: /^Undo: / }).click();
      const dialog = page.getByRole('dialog', { name: 'Undo this?' });
      const also = dialog.getByTestId('undo-also').getByRole('listitem');
      await also.first().waitFor();
      if ((await also.count()) !== 2) fail(`the undo of #${id} would take back ${await also.count()} more, not the 2 later ones`);
      await checkAccessibility(page, 'the undo dialog');
      await shot('organiser-09-history-undo-confirm.png', false);
      await dialog.getByRole('button', { name: 'Undo', exact: true }).click();
      const note = page.getByTestId('history-note');
      await note.filter({ hasText: 'It also took back' }).waitFor();
      log(`     ${(await note.innerText()).trim()}`);
      await page.getByTestId(`correction-${id}`).getByText('Undone', { exact: true }).waitFor();
      await rows.nth(0).getByText(`Undone with #${id}`).waitFor();
      await rows.nth(1).getByText(`Undone with #${id}`).waitFor();
      await shot('organiser-10-history.png');
    });

    await step('hide that person again (the undo showed them)', async () => {
      await page.goto(`${BASE_URL}/#/people`);
      await cards.first().waitFor();
      if (await page.locator('[data-testid="person-card"][data-hidden="true"]').count()) fail('someone is still hidden after the undo');
      await hide(cardOf(HIDE_PERSON, -1));
      await closeSnackbar();
    });

    if (UPLOAD_PHOTO) {
      await step('upload a photo from the People page; a search finds it within 60 s, no command run', async () => {
        await page.getByLabel('Choose photos to add to the gallery').setInputFiles(UPLOAD_PHOTO);
        const saved = page.locator('[data-testid="upload-item"][data-state="saved"]');
        await saved.waitFor();
        const where = /Saved as (.+)$/.exec((await saved.innerText()).trim())?.[1]?.trim();
        if (!where) fail(`the upload says ${await saved.innerText()}`);
        log(`     saved as ${where}`);
        const started = Date.now();
        await openAsVisitor(page, BASE_URL);
        for (let attempt = 1; ; attempt++) {
          const clear = page.getByRole('button', { name: 'Clear', exact: true });
          if (await clear.count()) await clear.click();
          await page.locator('input[type="file"]').first().setInputFiles(UPLOAD_SAMPLE);
          await page.locator('[data-testid="result-count"], [data-testid="not-found"]').first().waitFor({ timeout: SEARCHABLE_WITHIN });
          if (await page.locator(`img[alt="Photo ${where}"]`).count()) {
            log(`     found after ${((Date.now() - started) / 1000).toFixed(1)} s (search ${attempt})`);
            break;
          }
          if (Date.now() - started > SEARCHABLE_WITHIN) fail(`${where} was not found by a search within 60 s`);
          await page.waitForTimeout(3000);
        }
        await shot('organiser-11-upload-found.png');
        await page.goto(`${BASE_URL}/#/people`);
        await cards.first().waitFor();
      });
    }

    await step('log out', async () => {
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByRole('button', { name: 'Organiser', exact: true }).waitFor();
      await page.getByTestId('login-required').waitFor();
      if (await cards.count()) fail('people are still shown after logging out');
      await shot('organiser-08-logged-out.png');
    });
  }, { dir: SCREENSHOT_DIR, failureShot: 'organiser-failure.png' });
}

run(main, { totalTimeout: TOTAL_TIMEOUT });
