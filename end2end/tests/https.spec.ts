import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatusServer } from './server';

// HTTPS with a certificate made here: the page hydrates and goes live over HTTP/2, and its
// stream shares the page's one connection.
test.describe('over HTTPS', () => {
  let server: StatusServer;
  test.beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'statuscast-tls-'));
    const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-addext', 'basicConstraints=critical,CA:FALSE', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    // The test's own requests (Node's fetch) trust the self-signed certificate; so does the
    // browser context below.
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    server = await StatusServer.start(['--tls-cert', cert, '--tls-key', key]);
  });
  test.afterAll(async () => {
    await server.stop();
    delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  });

  test('the page hydrates and goes live over HTTP/2', async ({ browser }) => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    expect(server.base.startsWith('https://')).toBe(true);
    const cdp = await context.newCDPSession(page);
    const streamProtocols: string[] = [];
    cdp.on('Network.responseReceived', (e: any) => {
      if (e.response.url.includes('/connect_to_sse')) streamProtocols.push(e.response.protocol);
    });
    await cdp.send('Network.enable');
    await page.goto(`${server.base}/`, { waitUntil: 'load' });
    const stream = page.locator('#system-status .stream-state');
    await expect(stream).toHaveAttribute('data-stream', 'live', { timeout: 15_000 });
    const protocol = await page.evaluate(
      () => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol);
    expect(protocol).toBe('h2');
    // A change arrives over the HTTP/2 stream.
    const changed = await server.setOverride('major_outage', 'Seen over HTTP/2');
    await expect(page.locator('#system-status')).toHaveAttribute('data-version', String(changed.version));
    await expect(page.locator('#system-status .status-message')).toHaveText('Seen over HTTP/2');
    // The stream itself went over h2 (as Chromium's network log says).
    await expect.poll(() => streamProtocols.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(streamProtocols.every((p) => p === 'h2')).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });
});
