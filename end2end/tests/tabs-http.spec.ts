import { test, expect, Page, ConsoleMessage } from '@playwright/test';
import { StatusServer } from './server';
import { CHROMIUM_ARGS, CHROMIUM_PATH, partial, streamState } from './browser';

// Over plain HTTP to a host other than localhost the page is not a secure context, so the
// browser has no Web Locks: the tabs elect their leader over the BroadcastChannel itself
// (src/ui/live/tabs.rs). Chromium resolves the name `status.test` to the test server's
// loopback address, so the pages really are http://status.test:<port>/.

const HOST = 'status.test';
test.use({
  launchOptions: {
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP ${HOST} 127.0.0.1`],
  },
});

test('without Web Locks (plain HTTP) ten tabs still share one stream and keep it when the leader closes', async ({ browser }) => {
  const server = await StatusServer.start();
  const context = await browser.newContext();
  const pages: Page[] = [];
  const asked = new Map<Page, number>();
  const problems: string[] = [];
  const url = `http://${HOST}:${server.port}/`;
  try {
    for (let i = 0; i < 10; i++) {
      const page = await context.newPage();
      asked.set(page, 0);
      page.on('request', (r) => {
        if (r.url().includes('/connect_to_sse')) asked.set(page, asked.get(page)! + 1);
      });
      page.on('console', (m: ConsoleMessage) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`tab ${i}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`tab ${i}: pageerror: ${e.message}`));
      pages.push(page);
      // Not 'networkidle': it never settles while a stream is open.
      await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 10_000 });
    }
    // Really the case this is for: no secure context, no Web Locks, a BroadcastChannel.
    expect(await pages[0].evaluate(() => [window.isSecureContext, 'locks' in navigator, typeof BroadcastChannel]))
      .toEqual([false, false, 'function']);

    for (const page of pages) await expect(streamState(page)).toHaveAttribute('data-stream', 'live', { timeout: 15_000 });
    await expect.poll(() => server.openStreams(), { timeout: 5_000 }).toBe(1);
    const change = await server.setOverride('major_outage', 'Over plain HTTP');
    for (const page of pages) {
      await expect(partial(page)).toHaveAttribute('data-version', String(change.version), { timeout: 2_000 });
    }

    // The leading tab (the first: the oldest wins) closes; another takes over.
    const leaders = pages.filter((p) => asked.get(p)! > 0);
    expect(leaders.length).toBe(1);
    const before = new Map(pages.map((p) => [p, asked.get(p)!]));
    await leaders[0].close();
    const rest = pages.filter((p) => p !== leaders[0]);
    const next = await server.setOverride('partial_outage', 'After the leader left');
    for (const page of rest) {
      await expect(partial(page)).toHaveAttribute('data-version', String(next.version), { timeout: 5_000 });
      await expect(streamState(page)).toHaveAttribute('data-stream', 'live', { timeout: 5_000 });
    }
    await expect.poll(() => server.openStreams(), { timeout: 5_000 }).toBe(1);
    const took = rest.filter((p) => asked.get(p)! > before.get(p)!);
    expect(took.length).toBe(1);
    console.log(`plain HTTP: 10 tabs, 1 stream; after the leader closed, 1 stream again`);
    expect(problems).toEqual([]);
  } finally {
    await context.close();
    await server.stop();
  }
});
