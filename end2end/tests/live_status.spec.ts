import { test, expect, Page, ConsoleMessage } from '@playwright/test';
import { StatusServer, percentile } from './server';

// Any console error or warning (hydration warnings included) fails a test, except the
// connection-refused lines Chromium prints while the server is deliberately down.
function watchConsole(page: Page, allowRefused: () => boolean): string[] {
  const problems: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    const text = m.text();
    if (allowRefused() && /ERR_CONNECTION_REFUSED|connect_to_sse/.test(text)) return;
    problems.push(`${m.type()}: ${text}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog opened: ${d.message()}`);
    d.dismiss();
  });
  return problems;
}

const partial = (page: Page) => page.locator('#system-status');

async function waitLive(page: Page) {
  await expect(partial(page).locator('.stream-state')).toHaveAttribute('data-stream', 'live', { timeout: 15_000 });
}

test.describe('system-status partial', () => {
  let server: StatusServer;
  test.beforeAll(async () => {
    server = await StatusServer.start();
  });
  test.afterAll(async () => {
    await server.stop();
  });

  test('is in the server-rendered HTML with JavaScript disabled', async ({ browser }) => {
    await server.setOverride('degraded_performance', 'Search is slow');
    const { version } = await server.status();
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(server.base + '/');
    await expect(partial(page)).toHaveAttribute('data-version', String(version));
    await expect(partial(page)).toHaveAttribute('data-level', 'degraded_performance');
    await expect(partial(page).locator('.status-level')).toHaveText('Degraded performance');
    await expect(partial(page).locator('.status-message')).toHaveText('Search is slow');
    await expect(partial(page).locator('.stream-state')).toHaveAttribute('data-stream', 'static');
    await expect(page.locator('[data-component="host.disk"]')).toBeVisible();
    await context.close();
  });

  test('hydrates, goes live, and shows each change within a second without reload', async ({ page }) => {
    const problems = watchConsole(page, () => false);
    await page.goto(server.base + '/');
    await waitLive(page);
    await page.evaluate(() => ((window as any).__notReloaded = true));

    // Record, in the page, when data-version changes.
    await page.evaluate(() => {
      const el = document.getElementById('system-status')!;
      (window as any).__seen = {} as Record<string, number>;
      new MutationObserver(() => {
        const v = el.getAttribute('data-version')!;
        if (!(v in (window as any).__seen)) (window as any).__seen[v] = Date.now();
      }).observe(el, { attributes: true, attributeFilter: ['data-version'] });
    });

    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const level = i % 2 === 0 ? 'major_outage' : 'partial_outage';
      const sent = Date.now();
      const snap = await server.setOverride(level, `change ${i} sent at ${sent}`);
      await expect(partial(page)).toHaveAttribute('data-version', String(snap.version), { timeout: 1_000 });
      await expect(partial(page).locator('.status-message')).toHaveText(`change ${i} sent at ${sent}`);
      await expect(partial(page)).toHaveAttribute('data-level', level);
      const shown = await page.evaluate((v) => (window as any).__seen[v], String(snap.version));
      latencies.push(shown - sent);
    }
    latencies.sort((a, b) => a - b);
    console.log(
      `change-to-DOM latency over ${latencies.length} changes: p50 ${percentile(latencies, 50)} ms, ` +
        `p99 ${percentile(latencies, 99)} ms, max ${latencies[latencies.length - 1]} ms`,
    );
    expect(latencies[latencies.length - 1]).toBeLessThan(1_000);
    expect(await page.evaluate(() => (window as any).__notReloaded)).toBe(true);
    await expect(page).toHaveTitle(/Partial outage · statuscast/);
    expect(problems).toEqual([]);
  });

  test('shows hostile text as text', async ({ page }) => {
    const problems = watchConsole(page, () => false);
    await page.goto(server.base + '/');
    await waitLive(page);
    const hostile = `<img src=x onerror="alert('x')"> </span><b>bold</b> & "quotes"`;
    await server.setOverride('major_outage', hostile);
    await expect(partial(page).locator('.status-message')).toHaveText(hostile);
    await expect(partial(page).locator('.status-message b')).toHaveCount(0);
    // And in a fresh server render.
    await page.reload();
    await waitLive(page);
    await expect(partial(page).locator('.status-message')).toHaveText(hostile);
    await expect(page.locator('img')).toHaveCount(0);
    expect(problems).toEqual([]);
  });

  test('ticks "updated N s ago" on the server clock', async ({ page }) => {
    const problems = watchConsole(page, () => false);
    await server.setOverride('operational', 'All good');
    await page.goto(server.base + '/');
    await waitLive(page);
    await expect(partial(page).locator('.status-updated')).toHaveText(/updated (just now|\d+ s ago)/);
    await expect(partial(page).locator('.status-updated')).toHaveText(/updated [2-9] s ago/, { timeout: 6_000 });
    expect(problems).toEqual([]);
  });

  test('shows offline when the server refuses the stream', async ({ page }) => {
    const problems = watchConsole(page, () => true);
    await page.route('**/connect_to_sse*', (route) =>
      route.fulfill({ status: 503, contentType: 'text/plain', body: 'unavailable' }),
    );
    await page.goto(server.base + '/');
    await expect(partial(page).locator('.stream-state')).toHaveAttribute('data-stream', 'offline', { timeout: 10_000 });
    await expect(partial(page).locator('.stream-state')).toContainText('will not retry');
    expect(problems.filter((p) => !/503/.test(p))).toEqual([]);
  });
});

test('a server restart shows reconnecting, then live again with the current status', async ({ page }) => {
  const server = await StatusServer.start();
  let down = false;
  const problems = watchConsole(page, () => down);
  try {
    await server.setOverride('partial_outage', 'Before the restart');
    await page.goto(server.base + '/');
    await waitLive(page);
    const before = Number(await partial(page).getAttribute('data-version'));

    down = true;
    await server.stop();
    await expect(partial(page).locator('.stream-state')).toHaveAttribute('data-stream', 'reconnecting', { timeout: 5_000 });
    await expect(partial(page).locator('.stream-state')).toContainText('reconnecting');

    await server.startAgain();
    const current = await server.setOverride('major_outage', 'After the restart');
    await waitLive(page);
    down = false;
    expect(current.version).toBeGreaterThan(before);
    await expect(partial(page)).toHaveAttribute('data-version', String(current.version), { timeout: 5_000 });
    await expect(partial(page).locator('.status-message')).toHaveText('After the restart');
    expect(problems).toEqual([]);
  } finally {
    await server.stop();
  }
});
