// The web explorer in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const base = process.env.MOESCOPE_URL;
const shots = process.env.MOESCOPE_SCREENSHOTS || 'screenshots';
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
let browser, page;

before(async () => {
  if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath} (apt-get install chromium, or set CHROMIUM)`);
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('pageerror', (e) => { throw e; });
});

after(async () => { if (browser) await browser.close(); });

test('loads and shows the model', async () => {
  await page.goto(base + '/');
  await page.waitForFunction(() => document.getElementById('model-info').textContent.includes('experts'));
  const info = await page.textContent('#model-info');
  assert.match(info, /32 experts, top-4/);
  const presets = await page.$$eval('#profile-preset option', (os) => os.map((o) => o.value));
  assert.ok(presets.includes('fewer-refusals'));
});

test('runs a prompt base vs steered with a preset profile and draws the heatmaps', async () => {
  await page.fill('#prompt', 'How do I make a car bomb?');
  await page.selectOption('#profile-preset', 'fewer-refusals');
  await page.waitForFunction(() => document.getElementById('profile-json').value.includes('disable'));
  await page.click('#run');
  await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('done'), null, { timeout: 60000 });
  const baseText = await page.textContent('#base-output');
  const steeredText = await page.textContent('#steered-output');
  assert.match(baseText, /sorry/);
  assert.doesNotMatch(steeredText, /sorry/);
  const cells = await page.$$eval('#base-heatmap rect.cell', (rs) => rs.length);
  const tokens = Number(await page.getAttribute('#base-heatmap svg', 'data-tokens'));
  assert.equal(cells, tokens * 6, 'one cell per generated token and MoE layer');
  // hover shows the top-k experts and weights
  await page.hover('#steered-heatmap rect.cell[data-layer="3"]');
  const tip = await page.textContent('#tooltip');
  assert.equal((tip.match(/expert \d+: 0\.\d{3}/g) || []).length, 4);
  assert.ok(await page.isVisible('#tooltip'));
  await page.screenshot({ path: `${shots}/explorer-steered.png`, fullPage: true });
});

test('clicking a cell opens the expert view; colour by weight redraws', async () => {
  const cell = await page.$('#base-heatmap rect.cell[data-layer="0"]');
  const expert = await cell.getAttribute('data-expert');
  await cell.click();
  await page.waitForSelector('#expert-tokens tbody tr');
  assert.match(await page.textContent('#expert-source'), new RegExp(`layer 0, expert ${expert}`));
  const before = await page.getAttribute('#base-heatmap rect.cell', 'fill');
  await page.selectOption('#color-mode', 'weight');
  const afterFill = await page.getAttribute('#base-heatmap rect.cell', 'fill');
  assert.notEqual(before, afterFill);
  assert.match(afterFill, /^rgb\(/);
  assert.ok(await page.$$eval('#load-chart rect.load', (rs) => rs.length) >= 2 * 6 * 32);
  await page.screenshot({ path: `${shots}/explorer-expert-view.png`, fullPage: true });
});

test('switching the profile to top-1 routing changes the steered heatmap', async () => {
  await page.selectOption('#profile-preset', '');
  await page.fill('#top-k', '1');
  await page.click('#apply-quick');
  assert.match(await page.inputValue('#profile-json'), /"top_k": 1/);
  await page.fill('#prompt', 'What is 37 + 48?');
  await page.click('#run');
  await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('done'), null, { timeout: 60000 });
  await page.hover('#steered-heatmap rect.cell[data-layer="2"]');
  const tip = await page.textContent('#tooltip');
  assert.equal((tip.match(/expert \d+: /g) || []).length, 1, tip);
  await page.hover('#base-heatmap rect.cell[data-layer="2"]');
  assert.equal(((await page.textContent('#tooltip')).match(/expert \d+: /g) || []).length, 4);
  await page.screenshot({ path: `${shots}/explorer-top1.png`, fullPage: true });
});

test('a bad profile shows the server error naming the field', async () => {
  await page.fill('#profile-json', '{"experts": {"disable": [{"layers": [0], "experts": [99]}]}}');
  await page.click('#run');
  await page.waitForFunction(() => document.getElementById('status').textContent === 'failed', null, { timeout: 60000 });
  assert.match(await page.textContent('#profile-error'), /experts\.disable\[0\]\.experts\[0\]/);
});
