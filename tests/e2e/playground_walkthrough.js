// Drives the Microsoft 365 Agents Playground in headless Chromium as an admin would, through three
// cases, and prints what was on screen at each stage as JSON, with a screenshot of each stage:
//  1. C6 with the diagnostics: start, the UPN, the console output of the diagnostics pasted in one
//     message, "What I read" confirmed with "who needs the mail" on the same card, the plan and the
//     first command; 'resume' at a step; every step to "Recovery finished: you confirmed each step".
//  2. A4 by the questions: "How do I check?", the answers, "Change an answer" on the plan card,
//     a Done refused for a missing ExchangeGuid, Remove-Mailbox by the recorded ExchangeGuid.
//  3. A9 with the diagnostics, to the step that waits for the mailbox to reconnect: the reminder
//     of the sync wait before it, "Not yet — remind me", the reminder's Continue bringing the step
//     back as the last card, then an escalation.
// Usage: node tests/e2e/playground_walkthrough.js <playground url> <artifact dir> <input.json>
// input.json: {"upn", "guid", "legacyDn", "objectId": what A4's admin records; "adObjectGuid": the AD
// object A9 restores; "pastes": {"C6", "A9": the console text of the diagnostics}}
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const [url, artifacts, inputFile] = process.argv.slice(2);
const { upn, guid, legacyDn, objectId, adObjectGuid, pastes } = JSON.parse(fs.readFileSync(inputFile, 'utf8'));
const TIMEOUT = 20000;
const NOT_YET = 'Not yet — remind me in 30 minutes';
const COUNTED = ['Done', 'It failed', 'I have recorded them', 'Done: Yes', 'Done: No, still not', NOT_YET, 'Continue',
                 'Change an answer'];

(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run',
           '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  page.setDefaultTimeout(TIMEOUT);
  const stages = [];
  const started = Date.now();

  const buttons = (title) => page.getByRole('button', { name: title, exact: true });
  const cards = () => page.locator('.ac-adaptiveCard');

  // How many buttons of each kind are on screen, and which of them are on the last card in the
  // chat (where the live card must be).
  async function buttonCounts() {
    const onScreen = {};
    const onLastCard = {};
    const last = cards().last();
    for (const title of COUNTED) {
      onScreen[title] = await buttons(title).count();
      onLastCard[title] = await last.getByRole('button', { name: title, exact: true }).count();
    }
    return { onScreen, onLastCard };
  }

  async function stage(name) {
    const file = path.join(artifacts, `${String(stages.length + 1).padStart(2, '0')}-${name}.png`);
    if (await cards().count()) {  // what the admin looks at: the bottom of the chat
      await cards().last().evaluate((element) => element.scrollIntoView({ block: 'end' }));
    }
    await page.screenshot({ path: file, fullPage: true });
    const text = await page.evaluate(() => document.body.innerText);
    const lastCard = (await cards().count()) ? await cards().last().innerText() : '';
    const { onScreen, onLastCard } = await buttonCounts();
    stages.push({ name, screenshot: file, text, lastCard, buttons: onScreen, lastCardButtons: onLastCard,
                  seconds: (Date.now() - started) / 1000 });
  }

  async function say(words) {
    const box = page.locator('[data-lexical-editor="true"]');
    await box.click();
    await page.keyboard.type(words);
    await page.keyboard.press('Enter');
  }

  // What an admin does with the console output: paste it (a paste event, as Ctrl+V makes), then send.
  async function paste(text) {
    const box = page.locator('[data-lexical-editor="true"]');
    await box.click();
    await box.evaluate((element, pasted) => {
      const clipboard = new DataTransfer();
      clipboard.setData('text/plain', pasted);
      element.dispatchEvent(new ClipboardEvent('paste', { clipboardData: clipboard, bubbles: true, cancelable: true }));
    }, text);
    await page.keyboard.press('Enter');
  }

  const count = (text) => page.evaluate((t) => document.body.innerText.split(t).length - 1, text);

  async function waitForText(text, n = 1) {
    await page.waitForFunction(([t, k]) => document.body.innerText.split(t).length - 1 >= k, [text, n]);
  }

  // Wait for one more occurrence of `text` than there is now, after `action`.
  async function expectNew(text, action) {
    const before = await count(text);
    await action();
    await waitForText(text, before + 1);
  }

  async function press(title) {
    await buttons(title).last().click();
  }

  async function lastCardSays(text) {
    await page.waitForFunction((t) => {
      const all = document.querySelectorAll('.ac-adaptiveCard');
      return all.length > 0 && all[all.length - 1].innerText.includes(t);
    }, text);
  }

  async function newCase(user, command) {
    await expectNew("Which user's mailbox are we recovering?", () => say(command));
    await page.getByPlaceholder('user@contoso.com').last().fill(user);
    await expectNew('Let me read the state for you', () => press('Next'));
  }

  // Done on the live step card, then wait for the next step (or what ends the case).
  async function done(title, next) {
    await expectNew(next, () => press(title));
  }

  try {
    await page.goto(url);
    await waitForText('Start a recovery');
    await stage('welcome');

    // --- 1. C6 with the diagnostics -------------------------------------------------------------
    await newCase(upn, 'start');
    await stage('diagnostics-offered');
    await expectNew('What I read', () => paste(pastes.C6));
    await lastCardSays('Confirm');
    await stage('what-i-read');
    await page.getByRole('radio', { name: 'The user, who is coming back', exact: true }).last().check();
    await expectNew('Your recovery plan', () => press('Confirm'));
    await lastCardSays('Step 1 of');
    await stage('c6-plan-and-first-step');
    await done('Done', 'Step 2 of');
    await done('Done', 'Step 3 of');
    await lastCardSays('Restore-MgDirectoryDeletedItem');
    await stage('c6-restore-command');
    // 'resume' asks again: the step card comes anew at the bottom, the old one keeps no buttons.
    await expectNew('Shown again below: answer there.', () => say('resume'));
    await lastCardSays('Step 3 of');
    await stage('c6-resumed');
    await done('Done', 'Step 4 of');
    await done('Done', 'Step 5 of');
    await done('Done', 'Step 6 of');
    await done('Done', 'Recovery finished: you confirmed each step');
    await stage('c6-complete');

    // --- 2. A4 by the questions -----------------------------------------------------------------
    await newCase(upn, 'start');
    await expectNew('Question 1 of', () => press("I'd rather answer the questions"));
    await expectNew('Get-ADUser -Filter', () => press('How do I check?'));
    await stage('first-question-with-check');
    await expectNew('Question 2 of', () => press('Deleted'));
    await expectNew('Question 3 of', () => press('Hard-deleted'));
    await stage('answered-cards');
    await expectNew("Who needs this mailbox's content?", () => press('Present'));
    await expectNew('Is this an Exchange hybrid deployment', () => press('The user, who is coming back'));
    await expectNew('Your recovery plan', () => press('No'));
    await lastCardSays('Step 1 of');
    await stage('a4-plan');
    await expectNew('Change which answer?', () => press('Change an answer'));
    await stage('change-answer-picker');
    await expectNew("Who needs this mailbox's content?", () => press("Change: Who needs this mailbox's content?"));
    await lastCardSays('Someone else');
    const changed = await count('The plan changed');
    await press('Someone else (a leaver\'s mail, for HR or a manager)');
    // The sub-question of the scenario may be asked again after the changed answer: the same answer.
    await page.waitForFunction(([n]) => document.body.innerText.split('The plan changed').length - 1 > n
      || [...document.querySelectorAll('.ac-adaptiveCard')].pop().innerText.includes('Is this an Exchange hybrid'), [changed]);
    if ((await count('The plan changed')) === changed) {
      await expectNew('The plan changed', () => press('No'));
    }
    await lastCardSays('Step 1 of');
    await stage('plan-changed');
    await done('Done', 'Step 2 of');
    await done('Done', 'Step 3 of');
    await expectNew('Not done yet', () => press('Done'));  // nothing pasted yet: refused, asked again
    await stage('a4-done-refused');
    await page.getByLabel('ExchangeGuid of the soft-deleted mailbox').last().fill(guid);
    await page.getByLabel('Primary SMTP address of the mailbox').last().fill('obrien@contoso.com');
    await page.getByLabel('LegacyExchangeDN of the soft-deleted mailbox').last().fill(legacyDn);
    await page.getByLabel('Object id of the Entra user').last().fill(objectId);
    await done('Done', 'Step 4 of');
    await done('Done: No, that user is gone', 'I have recorded them');
    await expectNew('Remove-Mailbox -Identity', () => press('I have recorded them'));
    await stage('a4-remove-mailbox');
    // Reminders: the test sets WAIT_SCALE, so the 60-minute wait of step 3 (the hold) is over in
    // seconds and the bot comes back into the chat on its own.
    await waitForText('The 60-minute wait for');
    await stage('reminder-arrived');

    // --- 3. A9 with the diagnostics: a wait, 'Not yet', the reminder's Continue ------------------
    await newCase(upn, 'start new');  // A4 is still open: a new case, A4 put aside
    await expectNew('What I read', () => paste(pastes.A9));
    await lastCardSays('Confirm');
    await page.getByRole('radio', { name: 'The user, who is coming back', exact: true }).last().check();
    await expectNew('Your recovery plan', () => press('Confirm'));
    await lastCardSays('Step 1 of');
    await done('Done', 'Step 2 of');
    await done('Done', 'Step 3 of');
    await done('Done', 'Step 4 of');
    await done('Done', 'Step 5 of');
    await done('Done: Yes, it is listed', 'Step 6 of');
    await page.getByLabel('ObjectGUID of the deleted AD user to restore').last().fill(adObjectGuid);
    await done('Done', 'Step 7 of');
    await lastCardSays('Run a delta directory synchronization');
    await done('Done', 'Step 8 of');
    await lastCardSays('Wait for the mailbox to reconnect');
    await stage('wait-step');
    // The sync's own wait (30 minutes, scaled) is over while the reconnect wait still runs.
    await waitForText('The 30-minute wait for');
    await stage('sync-wait-over');
    await expectNew('I will remind you about', () => press(NOT_YET));
    await waitForText('You asked me to come back to this case now.');
    await stage('not-yet-reminder');
    await expectNew('Shown again below: answer there.', () => press('Continue'));
    await lastCardSays('Wait for the mailbox to reconnect');
    await stage('wait-step-after-continue');
    await expectNew('What went wrong?', () => say('escalate'));
    await page.getByLabel('What went wrong?').last().fill('The mailbox did not reconnect after the sync.');
    await expectNew('is ready for support', () => press('Send to support'));
    await stage('escalated');
  } catch (error) {
    await stage('failure').catch(() => {});
    process.stdout.write(JSON.stringify({ error: String(error), stages }));
    await browser.close();
    process.exit(1);
  }
  process.stdout.write(JSON.stringify({ stages }));
  await browser.close();
})();
