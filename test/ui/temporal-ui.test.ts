// What an operator sees in the Temporal Web UI, checked in a real browser: Debian's Chromium driven by
// playwright-core finds a finished campaign by its CampaignId search attribute, opens it, and reads its
// summary, its markdown progress table and its status. The page is saved as a screenshot: to
// docs/temporal-ui.png with UPDATE_SCREENSHOTS=1, otherwise to a temp file (tests leave docs/ alone).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CampaignClient } from '../../src/client/index.ts';
import { campaignWorkflowId } from '../../src/definitions.ts';
import { type CampaignStack, lineItem, startCampaignStack } from '../helpers/campaign-stack.ts';

const repoRoot = path.join(import.meta.dirname, '..', '..');
const screenshotPath =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? path.join(repoRoot, 'docs', 'temporal-ui.png')
    : path.join(tmpdir(), `temporal-ui-${process.pid}.png`);

/** Chromium from scripts/install-chromium.mjs, or why there is none. */
function chromiumPath(): { path: string } | { problem: string } {
  const script = path.join(repoRoot, 'scripts', 'install-chromium.mjs');
  const result = spawnSync(process.execPath, [script, '--quiet'], { encoding: 'utf8' });
  const found = result.stdout.trim().split('\n').pop();
  if (result.status === 0 && found) return { path: found };
  const problem = (result.stderr || result.stdout || `exit ${result.status}`).trim();
  // Exit 2 means this machine cannot get a Chromium (no root, no apt); anything else is a mistake to fix.
  if (result.status !== 2) throw new Error(`scripts/install-chromium.mjs failed:\n${problem}`);
  return { problem };
}

// These flags keep Chromium off the network it has no business on: background fetches to Google's
// hosts are refused on closed networks and slow every start.
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const fastOptions = {
  pollInitial: '300ms',
  pollMax: '1s',
  resubmitDelay: '100ms',
  correctionWindow: '1h',
  chunkSize: 5,
  maxConcurrentOrders: 2,
};

const browser = chromiumPath();

/** The visible text of the page and all its frames, once it matches `pattern`. */
async function waitForText(page: Page, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    const parts = await Promise.all(
      page.frames().map((frame) =>
        frame
          .locator('body')
          .innerText({ timeout: 2_000 })
          .catch(() => ''),
      ),
    );
    text = parts.join('\n');
    if (pattern.test(text)) return text;
    await page.waitForTimeout(250);
  }
  throw new Error(`the Temporal UI never showed ${pattern} within ${timeoutMs} ms; it showed:\n${text}`);
}

describe('the Temporal Web UI shows campaigns to operators', { timeout: 120_000 }, () => {
  if ('problem' in browser) {
    it('needs Chromium', (t) => {
      t.skip(`Chromium cannot be installed here, so the browser check did not run: ${browser.problem}`);
    });
    return;
  }

  let stack: CampaignStack;
  let context: BrowserContext | undefined;
  let profileDir: string | undefined;
  const campaignId = 'ui-check';

  before(async () => {
    stack = await startCampaignStack({ taskQueue: 'ui-test', ui: true });
    await stack.startWorker();
    const client = new CampaignClient({ client: stack.env.client, taskQueue: stack.taskQueue });
    const base = {
      customerIdentifier: 'sim-customer',
      accountIdentifier: 'sim-account-1',
      options: fastOptions,
    };
    // Eight delivered and two blocked recipients (given up) in two orders; a second campaign that the
    // search must leave out.
    const items = [
      ...Array.from({ length: 8 }, () => lineItem('ok')),
      ...Array.from({ length: 2 }, () => lineItem('blocked')),
    ];
    await client.startCampaign({ ...base, campaignId, campaign: 'Browser check' }, { items });
    await client.startCampaign(
      { ...base, campaignId: 'ui-other', campaign: 'Someone else' },
      { items: [lineItem('ok')] },
    );
    const [result] = await Promise.all([
      client.waitForCompletion(campaignId),
      client.waitForCompletion('ui-other'),
    ]);
    assert.equal(result.counts.delivered, 8);
    assert.equal(result.counts.givenUp, 2);

    profileDir = mkdtempSync(path.join(tmpdir(), 'tango-campaigns-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: browser.path,
      args: chromiumArgs,
      headless: true,
      viewport: { width: 1400, height: 720 },
    });
  });

  after(async () => {
    await context?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    await stack?.close();
  });

  it('finds the campaign by CampaignId and shows its summary, details table and status', async () => {
    const page: Page = await context!.newPage();
    const query = `CampaignId="${campaignId}"`;
    await page.goto(`${stack.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);

    // The filtered list: the campaign and its two orders, nothing of the other campaign.
    const campaignLink = page.getByRole('link', { name: campaignWorkflowId(campaignId), exact: true });
    await campaignLink.waitFor({ timeout: 20_000 });
    const orderLinks = page.locator('a[href*="/workflows/tango-order-"]');
    await orderLinks.first().waitFor({ timeout: 10_000 });
    const listText = await page.locator('body').innerText();
    assert.ok(!listText.includes('campaign-ui-other'), 'the CampaignId filter let another campaign through');
    // The list is filled in as results arrive; wait until both orders are there.
    const orderIds = async () =>
      new Set(
        (await orderLinks.evaluateAll((links) => links.map((link) => link.getAttribute('href') ?? ''))).map(
          (href) => /\/workflows\/(tango-order-[^/]+)/.exec(href)?.[1],
        ),
      );
    const deadline = Date.now() + 10_000;
    while ((await orderIds()).size < 2 && Date.now() < deadline) await page.waitForTimeout(250);
    assert.deepEqual([...(await orderIds())].sort(), ['tango-order-ui-check-0', 'tango-order-ui-check-1']);

    await campaignLink.click();
    await page.waitForURL(/\/workflows\/campaign-ui-check\//, { timeout: 20_000 });
    // The status badge (upper-cased by CSS, hence innerText); the result JSON says "completed".
    await waitForText(page, /\bCOMPLETED\s+campaign-ui-check\b/, 20_000);

    // Summary and current details live on the User Metadata tab; the UI renders their markdown in
    // sandboxed iframes, and the details come from a query the worker answers.
    await page.getByRole('tab', { name: 'User Metadata' }).click();
    const shown = await waitForText(page, /100% settled[\s\S]*given\s*up/i, 20_000);
    assert.match(shown, /Campaign ui-check: Browser check/, 'the static summary is not shown');
    assert.match(shown, /Campaign ui-check\s*: completed — 100% settled/, 'the details headline is missing');
    for (const column of [
      'delivered',
      'in\\s*flight',
      'awaiting\\s*correction',
      'awaiting\\s*funds',
      'given\\s*up',
    ])
      assert.match(shown, new RegExp(column, 'i'), `the details table has no "${column}" column`);
    // The table's data row: 10 items, 8 delivered, none scheduled, in flight or queued, 2 given up.
    assert.match(
      shown,
      /\b10\s+8\s+0\s+0\s+0\s+0\s+0\s+2\s+0\b/,
      'the details table does not show the counts',
    );
    assert.match(shown, /permanent 2/);
    await page.screenshot({ path: screenshotPath, fullPage: false });

    // An order: its static summary names the Tango order and its size.
    await page.goto(`${stack.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
    await orderLinks.first().click();
    await page.waitForURL(/\/workflows\/tango-order-/, { timeout: 20_000 });
    await page.getByRole('tab', { name: 'User Metadata' }).click();
    await waitForText(page, /Tango order ui-check-\d+: 5 items/, 20_000);
  });
});
