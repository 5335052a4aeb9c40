import { test, expect } from '@playwright/test';
import { createServer, Server } from 'node:http';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatusServer } from './server';

// A real HTTP service whose answer the test flips; statuscast checks it every 200 ms.
test('a check that flips changes the page live', async ({ page }) => {
  let status = 200;
  const service: Server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(status === 200 ? 'ok' : 'broken');
  });
  await new Promise<void>((ok) => service.listen(0, '127.0.0.1', ok));
  const port = (service.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), 'statuscast-checks-'));
  const config = join(dir, 'statuscast.toml');
  writeFileSync(
    config,
    `[[component]]
id = "shop"
name = "Shop"
group = "Web"

[[component.check]]
kind = "http"
url = "http://127.0.0.1:${port}/"
interval = "200ms"
timeout = "150ms"
body_contains = "ok"
`,
  );
  const server = await StatusServer.start(['--config', config, '--detail-refresh', '200ms']);
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
  });
  try {
    await page.goto(server.base + '/');
    await expect(page.locator('#system-status .stream-state')).toHaveAttribute('data-stream', 'live', { timeout: 15_000 });
    const row = page.locator('[data-component="shop"]');
    await expect(row).toHaveAttribute('data-level', 'operational');
    await expect(row.locator('.component-reason')).toContainText('HTTP 200 in');
    await page.evaluate(() => ((window as any).__notReloaded = true));

    status = 503;
    await expect(row).toHaveAttribute('data-level', 'major_outage', { timeout: 3_000 });
    await expect(row.locator('.component-reason')).toContainText('HTTP 503 in');
    await expect(page.locator('#system-status')).toHaveAttribute('data-level', 'major_outage');
    await expect(page.locator('#system-status .status-message')).toHaveText('Major outage: Shop');

    status = 200;
    await expect(row).toHaveAttribute('data-level', 'operational', { timeout: 3_000 });
    await expect(page.locator('#system-status .status-message')).toHaveText('All systems operational');
    expect(await page.evaluate(() => (window as any).__notReloaded)).toBe(true);
    expect(errors).toEqual([]);
  } finally {
    await server.stop();
    service.close();
  }
});
