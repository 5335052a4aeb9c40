import { test, expect } from '@playwright/test';
import { StatusServer, percentile } from '../tests/server';

const PAGES = 20;
const CHANGES = 20;

test(`change-to-DOM latency with ${PAGES} pages open`, async ({ browser }) => {
  const server = await StatusServer.start();
  try {
    // One browser context per page: Chromium allows 6 HTTP/1.1 connections per origin within
    // a context, and every open page holds one for its stream.
    const pages = [];
    for (let i = 0; i < PAGES; i++) {
      const page = await (await browser.newContext()).newPage();
      await page.goto(server.base + '/');
      pages.push(page);
    }
    for (const page of pages) {
      await expect(page.locator('#system-status .stream-state')).toHaveAttribute('data-stream', 'live', { timeout: 20_000 });
      await page.evaluate(() => {
        const el = document.getElementById('system-status')!;
        (window as any).__seen = {} as Record<string, number>;
        new MutationObserver(() => {
          const v = el.getAttribute('data-version')!;
          if (!(v in (window as any).__seen)) (window as any).__seen[v] = Date.now();
        }).observe(el, { attributes: true, attributeFilter: ['data-version'] });
      });
    }
    const samples: number[] = [];
    const acks: number[] = [];
    for (let c = 0; c < CHANGES; c++) {
      const sent = Date.now();
      const snap = await server.setOverride(c % 2 ? 'partial_outage' : 'major_outage', `bench change ${c}`);
      acks.push(Date.now() - sent);
      for (const page of pages) {
        await expect(page.locator('#system-status')).toHaveAttribute('data-version', String(snap.version), { timeout: 5_000 });
        samples.push((await page.evaluate((v) => (window as any).__seen[v], String(snap.version))) - sent);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    samples.sort((a, b) => a - b);
    acks.sort((a, b) => a - b);
    const result = {
      browser: {
        pages: PAGES, changes: CHANGES, samples: samples.length,
        p50_ms: percentile(samples, 50), p99_ms: percentile(samples, 99), max_ms: samples[samples.length - 1],
        api_ack_p50_ms: percentile(acks, 50), api_ack_max_ms: acks[acks.length - 1],
      },
    };
    console.log(JSON.stringify(result));
    expect(samples.length).toBe(PAGES * CHANGES);
  } finally {
    await server.stop();
  }
});
