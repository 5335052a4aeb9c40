import { test, expect } from '@playwright/test';
import { StatusServer, percentile } from '../tests/server';

const PAGES = 20;
const CHANGES = 20;

// Change → DOM with many pages open. Each page also holds a plain JavaScript EventSource (no
// wasm, no rendering) as a control: its arrival time shows how much of the delay is the
// browser delivering the event at all, with this many renderer processes on this machine.
test(`change-to-DOM latency with ${PAGES} pages open`, async ({ browser }) => {
  const server = await StatusServer.start();
  try {
    // One browser context per page: Chromium allows 6 HTTP/1.1 connections per origin within
    // a context, and every open page holds two here (the app's stream and the control).
    const pages = [];
    for (let i = 0; i < PAGES; i++) {
      const page = await (await browser.newContext()).newPage();
      await page.goto(server.base + '/');
      pages.push(page);
    }
    for (const page of pages) {
      await expect(page.locator('#system-status .stream-state')).toHaveAttribute('data-stream', 'live', { timeout: 20_000 });
      await page.evaluate(() => {
        const w = window as any;
        w.__dom = {} as Record<string, number>;
        w.__control = {} as Record<string, number>;
        const el = document.getElementById('system-status')!;
        new MutationObserver(() => {
          const v = el.getAttribute('data-version')!;
          if (!(v in w.__dom)) w.__dom[v] = Date.now();
        }).observe(el, { attributes: true, attributeFilter: ['data-version'] });
        const control = new EventSource('/connect_to_sse?control=1');
        control.addEventListener('status', (e: MessageEvent) => {
          const v = String(JSON.parse(e.data).version);
          if (!(v in w.__control)) w.__control[v] = Date.now();
        });
      });
    }
    await new Promise((r) => setTimeout(r, 1000));
    const dom: number[] = [];
    const control: number[] = [];
    const acks: number[] = [];
    for (let c = 0; c < CHANGES; c++) {
      const sent = Date.now();
      const snap = await server.setOverride(c % 2 ? 'partial_outage' : 'major_outage', `bench change ${c}`);
      acks.push(Date.now() - sent);
      for (const page of pages) {
        await expect(page.locator('#system-status')).toHaveAttribute('data-version', String(snap.version), { timeout: 5_000 });
        const [shown, arrived] = await page.evaluate(
          (v) => [(window as any).__dom[v], (window as any).__control[v]],
          String(snap.version),
        );
        dom.push(shown - sent);
        if (arrived) control.push(arrived - sent);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    for (const a of [dom, control, acks]) a.sort((x, y) => x - y);
    const result = {
      browser: {
        pages: PAGES, changes: CHANGES, samples: dom.length,
        p50_ms: percentile(dom, 50), p99_ms: percentile(dom, 99), max_ms: dom[dom.length - 1],
        control_p50_ms: percentile(control, 50), control_p99_ms: percentile(control, 99),
        control_max_ms: control[control.length - 1],
        api_ack_p50_ms: percentile(acks, 50), api_ack_max_ms: acks[acks.length - 1],
      },
    };
    console.log(JSON.stringify(result));
    expect(dom.length).toBe(PAGES * CHANGES);
  } finally {
    await server.stop();
  }
});
