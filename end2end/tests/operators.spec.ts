import { test, expect, Page, ConsoleMessage } from '@playwright/test';
import { StatusServer } from './server';

const PASSWORD = 'e2e password for operators';

function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    // The refused form is answered 422 on purpose; Chromium logs that status.
    if (/status of 422/.test(m.text())) return;
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return problems;
}

test.describe('operators', () => {
  let server: StatusServer;
  test.beforeAll(async () => {
    server = await StatusServer.start(['--admin-password', PASSWORD]);
  });
  test.afterAll(async () => {
    await server.stop();
  });

  test('an incident posted from the admin form appears live in a second browser', async ({ browser }) => {
    // The viewer: a separate browser context (its own cookies), live on the status page.
    const viewerContext = await browser.newContext();
    const viewer = await viewerContext.newPage();
    const viewerProblems = watchConsole(viewer);
    await viewer.goto(server.base + '/');
    await expect(viewer.locator('#system-status .stream-state')).toHaveAttribute('data-stream', 'live', { timeout: 15_000 });
    await viewer.evaluate(() => ((window as any).__notReloaded = true));
    await expect(viewer.locator('#system-status .status-notices li')).toHaveCount(0);

    // The operator logs in and opens an incident with hostile text.
    const operatorContext = await browser.newContext();
    const operator = await operatorContext.newPage();
    const operatorProblems = watchConsole(operator);
    await operator.goto(server.base + '/admin');
    await operator.fill('input[name="secret"]', PASSWORD);
    await operator.click('form.login button[type="submit"]');
    await expect(operator.locator('#open-incident')).toBeVisible();
    const cookies = await operatorContext.cookies();
    const session = cookies.find((c) => c.name === 'statuscast_session')!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Strict');

    // A refused form comes back with the field named and the text kept, and hydrates cleanly.
    await operator.fill('#open-incident input[name="title"]', '   ');
    await operator.fill('#open-incident textarea[name="message"]', 'kept <text>');
    await operator.click('#open-incident button[type="submit"]');
    await expect(operator.locator('.notice.error')).toHaveText('title: is required');
    await expect(operator.locator('#open-incident textarea[name="message"]')).toHaveValue('kept <text>');
    await expect(viewer.locator('#system-status .status-notices li')).toHaveCount(0);

    const title = 'Checkout <img src=x onerror=alert(1)> errors';
    await operator.fill('#open-incident input[name="title"]', title);
    await operator.selectOption('#open-incident select[name="impact"]', 'major');
    await operator.check('#open-incident input[name="components[]"][value="host.disk"]');
    await operator.fill('#open-incident textarea[name="message"]', 'We are looking into failed payments.\nMore in 15 min.');
    const posted = Date.now();
    await operator.click('#open-incident button[type="submit"]');
    await expect(operator.locator('.notice.done')).toContainText('Incident opened');

    // The viewer sees it without a reload, within a second, text shown as text.
    const notice = viewer.locator('#system-status .status-notices li');
    await expect(notice).toHaveCount(1, { timeout: 1_000 });
    console.log(`admin form submit → viewer's partial: ${Date.now() - posted} ms (includes the form round trip)`);
    await expect(notice.locator('a')).toHaveText(title);
    await expect(notice.locator('.notice-state')).toHaveText('Investigating');
    await expect(viewer.locator('#system-status')).toHaveAttribute('data-level', 'partial_outage');
    const card = viewer.locator('main article.incident.impact-major');
    await expect(card.locator('h2')).toHaveText(title);
    await expect(card.locator('.timeline li')).toHaveCount(1);
    await expect(card.locator('.update-message')).toHaveText('We are looking into failed payments.\nMore in 15 min.');

    // An update from the dashboard's incident form moves it along, live.
    const update = operator.locator('article.incident form');
    await update.locator('select[name="status"]').selectOption('identified');
    await update.locator('textarea[name="message"]').fill('A payment provider is rejecting requests.');
    await update.locator('button[type="submit"]').click();
    await expect(operator.locator('.notice.done')).toContainText('Update posted');
    await expect(notice.locator('.notice-state')).toHaveText('Identified', { timeout: 1_000 });
    await expect(card.locator('.timeline li')).toHaveCount(2);

    // A page loaded while the incident is active hydrates over the server-rendered cards
    // (no warnings), and without JavaScript shows the same.
    const late = await viewerContext.newPage();
    const lateProblems = watchConsole(late);
    await late.goto(server.base + '/');
    await expect(late.locator('#system-status .stream-state')).toHaveAttribute('data-stream', 'live', { timeout: 15_000 });
    await expect(late.locator('main article.incident .timeline li')).toHaveCount(2);
    await expect(late.locator('#system-status .status-notices li a')).toHaveText(title);
    expect(lateProblems).toEqual([]);
    await late.close();
    const noJs = await browser.newContext({ javaScriptEnabled: false });
    const staticPage = await noJs.newPage();
    await staticPage.goto(server.base + '/');
    await expect(staticPage.locator('main article.incident h2')).toHaveText(title);
    await expect(staticPage.locator('#system-status .notice-state')).toHaveText('Identified');
    await noJs.close();

    // Resolved: it leaves the partial and the status page, and is in the history page.
    await update.locator('select[name="status"]').selectOption('resolved');
    await update.locator('textarea[name="message"]').fill('Payments work again.');
    await update.locator('button[type="submit"]').click();
    await expect(notice).toHaveCount(0, { timeout: 1_000 });
    await expect(viewer.locator('#system-status')).toHaveAttribute('data-level', 'operational');
    expect(await viewer.evaluate(() => (window as any).__notReloaded)).toBe(true);
    await viewer.goto(server.base + '/history');
    await expect(viewer.locator('article.incident h2')).toHaveText(title);
    await expect(viewer.locator('article.incident .timeline li')).toHaveCount(3);

    expect(viewerProblems).toEqual([]);
    expect(operatorProblems).toEqual([]);
    await viewerContext.close();
    await operatorContext.close();
  });

  test('with JavaScript, admin actions answer in place: no reload, the refusal beside its field', async ({ browser }) => {
    const context = await browser.newContext();
    const operator = await context.newPage();
    const problems = watchConsole(operator);
    await operator.goto(server.base + '/admin');
    await operator.fill('input[name="secret"]', PASSWORD);
    await operator.click('form.login button[type="submit"]');
    await expect(operator.locator('#open-incident')).toBeVisible();
    await expect(operator.locator('#system-status .stream-state')).toHaveAttribute('data-stream', 'live', { timeout: 15_000 });
    await operator.evaluate(() => ((window as any).__notReloaded = true));

    // Refused: the error above the forms and beside the title, what was typed still there.
    await operator.fill('#open-incident input[name="title"]', ' ');
    await operator.fill('#open-incident textarea[name="message"]', 'typed before the refusal');
    await operator.click('#open-incident button[type="submit"]');
    await expect(operator.locator('.notice.error')).toHaveText('title: is required');
    await expect(operator.locator('#open-incident .field-error')).toHaveText('is required');
    await expect(operator.locator('#open-incident textarea[name="message"]')).toHaveValue('typed before the refusal');

    // Done: the notice, and the dashboard's list follows the live status.
    const started = Date.now();
    await operator.fill('#open-incident input[name="title"]', 'Opened without a reload');
    await operator.click('#open-incident button[type="submit"]');
    await expect(operator.locator('.notice.done')).toContainText('Incident opened');
    await expect(operator.locator('.notice.error')).toHaveCount(0);
    const card = operator.locator('article.incident', { hasText: 'Opened without a reload' });
    await expect(card.locator('form')).toBeVisible({ timeout: 2_000 });
    console.log(`admin action with JavaScript → card on the dashboard: ${Date.now() - started} ms`);

    // Resolved from its card, in place: it leaves the list.
    await card.locator('select[name="status"]').selectOption('resolved');
    await card.locator('textarea[name="message"]').fill('Fixed.');
    await card.locator('button[type="submit"]').click();
    await expect(operator.locator('.notice.done')).toContainText('Update posted');
    await expect(card).toHaveCount(0, { timeout: 2_000 });
    expect(await operator.evaluate(() => (window as any).__notReloaded)).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });

  test('public pages load the public bundle only; the admin area loads its own', async ({ browser }) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = watchConsole(page);
    const wasm: string[] = [];
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (path.endsWith('.wasm')) wasm.push(path);
    });
    for (const path of ['/', '/history', '/no-such-page']) {
      await page.goto(server.base + path);
      await expect(page.locator('#system-status .stream-state')).toHaveAttribute('data-stream', 'live', { timeout: 15_000 });
    }
    expect([...new Set(wasm)]).toEqual(['/pkg/statuscast.wasm']);
    wasm.length = 0;
    await page.goto(server.base + '/admin');
    await expect(page.locator('#system-status .stream-state')).toHaveAttribute('data-stream', 'live', { timeout: 15_000 });
    expect(wasm).toEqual(['/pkg/statuscast_admin.wasm']);
    expect(problems.filter((p) => !/status of 404/.test(p))).toEqual([]);
    await context.close();
  });

  test('without JavaScript, the admin area works with plain form posts', async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const operator = await context.newPage();
    await operator.goto(server.base + '/admin');
    await operator.fill('input[name="secret"]', PASSWORD);
    await operator.click('form.login button[type="submit"]');
    await expect(operator.locator('#open-incident')).toBeVisible();
    await operator.fill('#open-incident input[name="title"]', 'Posted without JavaScript');
    await operator.fill('#open-incident textarea[name="message"]', 'A plain form post.');
    await operator.click('#open-incident button[type="submit"]');
    await expect(operator.locator('.notice.done')).toContainText('Incident opened');
    const card = operator.locator('article.incident', { hasText: 'Posted without JavaScript' });
    await expect(card).toHaveCount(1);
    await card.locator('select[name="status"]').selectOption('resolved');
    await card.locator('textarea[name="message"]').fill('Done.');
    await card.locator('button[type="submit"]').click();
    await expect(operator.locator('.notice.done')).toContainText('Update posted');
    await expect(card).toHaveCount(0);
    await context.close();
  });

  test('the uptime bars render with a tooltip per day', async ({ page }) => {
    const problems = watchConsole(page);
    // The history is rendered two seconds after start, then every minute.
    await expect
      .poll(async () => {
        const html = await (await fetch(server.base + '/')).text();
        return html.includes('uptime-row') && !html.includes('no data yet');
      }, { timeout: 5_000 })
      .toBe(true);
    await page.goto(server.base + '/');
    await expect(page.locator('#system-status .stream-state')).toHaveAttribute('data-stream', 'live', { timeout: 15_000 });
    const row = page.locator('.uptime-row[data-history="host.disk"]');
    await expect(row.locator('svg.uptime-bars rect')).toHaveCount(90);
    const box = await row.locator('svg.uptime-bars').boundingBox();
    expect(box!.width).toBeGreaterThan(200);
    const today = row.locator('svg.uptime-bars rect').last();
    await expect(today).toHaveClass(/level-operational/);
    await expect(today.locator('title')).toContainText('% of');
    await expect(row.locator('svg.uptime-bars rect').first()).toHaveClass(/level-unknown/);
    await expect(row.locator('.uptime-pct')).toContainText('% uptime');
    await page.screenshot({ path: 'test-results/status-page.png', fullPage: true });
    expect(problems).toEqual([]);
  });
});
