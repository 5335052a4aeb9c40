import { test, expect } from '@playwright/test';
import { StatusServer } from '../tests/server';

const TABS = 10;

// Streams on the server for one browser with ten tabs of the status page (target 1: the tabs
// share one stream). Printed as one JSON line for bench/report.py.
test(`streams for one browser with ${TABS} tabs`, async ({ browser }) => {
  const server = await StatusServer.start();
  try {
    const context = await browser.newContext();
    const pages = [];
    for (let i = 0; i < TABS; i++) {
      const page = await context.newPage();
      await page.goto(server.base + '/', { waitUntil: 'load' });
      pages.push(page);
    }
    let allLive = true;
    for (const page of pages) {
      try {
        await expect(page.locator('#system-status .stream-state')).toHaveAttribute('data-stream', 'live', { timeout: 20_000 });
      } catch {
        allLive = false;
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
    const metrics = await (await fetch(`${server.base}/metrics`)).text();
    const streams = Number(/^statuscast_sse_streams (\d+)/m.exec(metrics)![1]);
    console.log(JSON.stringify({ tabs: { tabs: TABS, streams, all_live: allLive } }));
    await context.close();
  } finally {
    await server.stop();
  }
});
