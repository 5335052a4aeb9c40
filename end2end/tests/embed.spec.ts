import { test, expect } from '@playwright/test';
import { createServer, Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import { StatusServer } from './server';

// A site on another origin (another port) that embeds the widget, with CSS that would break
// anything it reached.
function hostSite(statusBase: string): Promise<{ base: string; close: () => void }> {
  const html = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Shop</title>
<style>
  * { color: rgb(255, 0, 0) !important; font-size: 40px !important; }
  a, span { display: none !important; }
  .dot { background: rgb(0, 255, 0); width: 5px; height: 5px; display: block !important; }
</style></head><body>
<h1>Our shop</h1>
<span class="dot" id="host-dot"></span>
<div data-statuscast id="widget"><a href="${statusBase}/">System status</a></div>
<iframe id="frame" src="${statusBase}/embed" width="400" height="60"></iframe>
<script src="${statusBase}/embed.js" async></script>
</body></html>`;
  const site: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  return new Promise((ok) =>
    site.listen(0, '127.0.0.1', () => {
      const port = (site.address() as { port: number }).port;
      ok({ base: `http://localhost:${port}`, close: () => site.close() });
    }),
  );
}

test('a site on another origin shows the live status, and neither CSS reaches the other', async ({ page }) => {
  const server = await StatusServer.start();
  const site = await hostSite(server.base);
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(site.base + '/');
    const words = page.locator('#widget .words'); // Playwright's locators pierce open shadow roots
    await expect(words).toHaveText('All systems operational');
    // The host's CSS does not reach into the widget...
    const inside = await words.evaluate((el) => {
      const s = getComputedStyle(el);
      return { color: s.color, size: s.fontSize, display: s.display };
    });
    expect(inside.color).not.toBe('rgb(255, 0, 0)');
    expect(inside.size).toBe('14px');
    expect(inside.display).not.toBe('none');
    // ...and the widget's does not leak out (the host's own .dot keeps its colour).
    expect(await page.locator('#host-dot').evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(0, 255, 0)');

    const started = Date.now();
    await server.setOverride('major_outage', 'Checkout <b>is</b> down');
    await expect(words).toHaveText('Checkout <b>is</b> down', { timeout: 1000 });
    const took = Date.now() - started;
    console.log(`widget turned ${took} ms after the operator's change`);
    expect(await page.locator('#widget a[part=link]').getAttribute('data-level')).toBe('major_outage');
    expect(await page.locator('#widget a[part=link]').getAttribute('href')).toBe(server.base + '/');
    // The iframe page turns too.
    const framed = page.frameLocator('#frame').locator('.words');
    await expect(framed).toHaveText('Checkout <b>is</b> down', { timeout: 2000 });
    expect(errors).toEqual([]);
    // The script stays small: at most 3 KiB gzip.
    const js = await (await fetch(server.base + '/embed.js')).arrayBuffer();
    const gzipped = gzipSync(Buffer.from(js), { level: 9 }).length;
    console.log(`embed.js: ${js.byteLength} bytes, ${gzipped} gzip`);
    expect(gzipped).toBeLessThanOrEqual(3 * 1024);
  } finally {
    site.close();
    await server.stop();
  }
});

test('without scripts the embed page is the status as a link', async ({ browser }) => {
  const server = await StatusServer.start();
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  try {
    await server.setOverride('partial_outage', 'Search is slow');
    const res = await page.goto(server.base + '/embed');
    expect(res!.headers()['content-security-policy']).toContain('frame-ancestors *');
    await expect(page.locator('[data-statuscast] a')).toHaveText('Search is slow');
  } finally {
    await context.close();
    await server.stop();
  }
});
