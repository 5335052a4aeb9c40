import { test, expect } from '@playwright/test';
import { StatusServer } from './server';

// Badges as a browser draws them: the size the SVG says, each text inside its own box.
test('badges render at their size with their text inside their boxes', async ({ page }) => {
  const server = await StatusServer.start();
  try {
    for (const path of ['/badge.svg', '/badge.svg?label=Payments%20API%20(EU)&style=flat-square', '/badge/host.memory.svg', '/badge/host.disk/uptime/90d.svg']) {
      await page.goto(server.base + path);
      const drawn = await page.evaluate(() => {
        const svg = document.documentElement as unknown as SVGSVGElement;
        const box = svg.getBoundingClientRect();
        const texts = Array.from(svg.querySelectorAll('text')).map((t) => ({
          text: t.textContent,
          box: { x: t.getBBox().x, width: t.getBBox().width },
          allowed: Number(t.getAttribute('textLength')),
          x: Number(t.getAttribute('x')),
        }));
        const rects = Array.from(svg.querySelectorAll('g[clip-path] rect')).map((r) => ({
          x: Number(r.getAttribute('x') ?? 0),
          width: Number(r.getAttribute('width')),
        }));
        return { width: box.width, height: box.height, attr: Number(svg.getAttribute('width')), texts, rects };
      });
      expect(drawn.height, path).toBe(20);
      expect(drawn.width, path).toBe(drawn.attr);
      expect(drawn.texts.length, path).toBe(2);
      drawn.texts.forEach((t, i) => {
        const rect = drawn.rects[i];
        // Drawn within its coloured box, whatever font the browser had.
        expect(t.box.x, `${path}: ${t.text}`).toBeGreaterThanOrEqual(rect.x);
        expect(t.box.x + t.box.width, `${path}: ${t.text}`).toBeLessThanOrEqual(rect.x + rect.width + 0.5);
        expect(t.box.width, `${path}: ${t.text}`).toBeLessThanOrEqual(t.allowed + 1);
      });
    }
    const label = await page.goto(server.base + '/badge.svg?label=Payments%20API%20(EU)');
    expect(label!.status()).toBe(200);
    await expect(page.locator('text').first()).toHaveText('Payments API (EU)');
    await expect(page.locator('text').nth(1)).toHaveText('Operational');
  } finally {
    await server.stop();
  }
});
