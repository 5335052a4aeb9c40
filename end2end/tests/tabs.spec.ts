import { test, expect, Browser, BrowserContext, Page, ConsoleMessage } from '@playwright/test';
import { StatusServer } from './server';
import { partial, streamState } from './browser';

// The tabs of one browser share one stream: the tab holding a Web Lock opens the EventSource
// and passes what it hears to the others on a BroadcastChannel (src/ui/live/tabs.rs).


/** Tabs of one context, each noting its console problems and the streams it asked for. */
class Tabs {
  pages: Page[] = [];
  problems: string[] = [];
  asked = new Map<Page, string[]>();
  constructor(public context: BrowserContext, private allowed: RegExp | null = null) {}

  static async open(browser: Browser, allowed: RegExp | null = null, init?: () => void): Promise<Tabs> {
    const context = await browser.newContext();
    if (init) await context.addInitScript(init);
    return new Tabs(context, allowed);
  }

  async add(url: string): Promise<Page> {
    const page = await this.context.newPage();
    const asked: string[] = [];
    this.asked.set(page, asked);
    page.on('request', (r) => {
      if (r.url().includes('/connect_to_sse')) asked.push(r.url());
    });
    page.on('console', (m: ConsoleMessage) => {
      if (m.type() !== 'error' && m.type() !== 'warning') return;
      if (this.allowed && this.allowed.test(m.text())) return;
      this.problems.push(`tab ${this.pages.indexOf(page)}: ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => this.problems.push(`tab ${this.pages.indexOf(page)}: pageerror: ${e.message}`));
    this.pages.push(page);
    // Not 'networkidle': it never settles while a stream is open.
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 10_000 });
    return page;
  }

  /** The tabs that asked for a stream since `since` (an index into each tab's requests). */
  streaming(pages = this.pages, since = new Map<Page, number>()): Page[] {
    return pages.filter((p) => this.asked.get(p)!.length > (since.get(p) ?? 0));
  }

  async allShow(pages: Page[], stream: string, timeout = 15_000) {
    for (const page of pages) await expect(streamState(page)).toHaveAttribute('data-stream', stream, { timeout });
  }

  async allAt(pages: Page[], version: number, message: string, timeout = 2_000) {
    for (const page of pages) {
      await expect(partial(page)).toHaveAttribute('data-version', String(version), { timeout });
      await expect(partial(page).locator('.status-message')).toHaveText(message);
    }
  }
}

test('ten tabs load, share one stream, and keep it when the leading tab closes', async ({ browser }) => {
  const server = await StatusServer.start();
  const tabs = await Tabs.open(browser);
  try {
    for (let i = 0; i < 10; i++) await tabs.add(server.base + '/');
    await tabs.allShow(tabs.pages, 'live');
    await expect.poll(() => server.openStreams(), { timeout: 5_000 }).toBe(1);
    const leaders = tabs.streaming();
    expect(leaders.length).toBe(1);

    // A change reaches every tab.
    const first = await server.setOverride('major_outage', 'Seen in every tab');
    await tabs.allAt(tabs.pages, first.version, 'Seen in every tab');
    expect(await server.openStreams()).toBe(1);

    // The leading tab closes; a change made at once still reaches every other tab, through
    // the tab that takes over, which resumes from the newest version it had seen.
    const leader = leaders[0];
    const before = new Map(tabs.pages.map((p) => [p, tabs.asked.get(p)!.length]));
    await leader.close();
    const rest = tabs.pages.filter((p) => p !== leader);
    const second = await server.setOverride('partial_outage', 'After the leading tab closed');
    await tabs.allAt(rest, second.version, 'After the leading tab closed', 5_000);
    await tabs.allShow(rest, 'live', 5_000);
    const next = tabs.streaming(rest, before);
    expect(next.length).toBe(1);
    const resumedFrom = Number(new URL(tabs.asked.get(next[0])![before.get(next[0])!]).searchParams.get('lastEventId'));
    expect(resumedFrom).toBeGreaterThanOrEqual(first.version);
    await expect.poll(() => server.openStreams(), { timeout: 5_000 }).toBe(1);

    // And the new leader passes on what follows.
    const third = await server.setOverride('operational', 'Back to normal');
    await tabs.allAt(rest, third.version, 'Back to normal');
    expect(await server.openStreams()).toBe(1);
    console.log(`10 tabs, 1 stream; the next leader resumed from version ${resumedFrom} (first change ${first.version})`);
    expect(tabs.problems).toEqual([]);
  } finally {
    await tabs.context.close();
    await server.stop();
  }
});

test('a tab opened later is current and live at once', async ({ browser }) => {
  const server = await StatusServer.start();
  const tabs = await Tabs.open(browser);
  try {
    await tabs.add(server.base + '/');
    await tabs.allShow(tabs.pages, 'live');
    const change = await server.setOverride('degraded_performance', 'Slow searches');
    await tabs.allAt(tabs.pages, change.version, 'Slow searches');
    const late = await tabs.add(server.base + '/');
    await tabs.allShow([late], 'live', 2_000);
    await tabs.allAt([late], change.version, 'Slow searches');
    expect(tabs.streaming([late]).length).toBe(0);
    expect(await server.openStreams()).toBe(1);
    expect(tabs.problems).toEqual([]);
  } finally {
    await tabs.context.close();
    await server.stop();
  }
});

test('every tab shows reconnecting while the server restarts, then live and current', async ({ browser }) => {
  const server = await StatusServer.start();
  // Chromium reports the refused reconnects while the server is down, and sometimes the
  // stream the stopping server cut (ERR_INCOMPLETE_CHUNKED_ENCODING: no final chunk).
  const tabs = await Tabs.open(browser, /ERR_CONNECTION_REFUSED|ERR_INCOMPLETE_CHUNKED_ENCODING|connect_to_sse/);
  try {
    for (let i = 0; i < 3; i++) await tabs.add(server.base + '/');
    await tabs.allShow(tabs.pages, 'live');
    await server.stop();
    await tabs.allShow(tabs.pages, 'reconnecting', 5_000);
    await server.startAgain();
    const after = await server.setOverride('major_outage', 'After the restart');
    await tabs.allShow(tabs.pages, 'live');
    await tabs.allAt(tabs.pages, after.version, 'After the restart', 5_000);
    await expect.poll(() => server.openStreams(), { timeout: 5_000 }).toBe(1);
    expect(tabs.problems).toEqual([]);
  } finally {
    await tabs.context.close();
    await server.stop();
  }
});

test('every tab shows offline when the server refuses the stream; a reload tries again', async ({ browser }) => {
  const server = await StatusServer.start();
  const tabs = await Tabs.open(browser, /503|connect_to_sse/);
  try {
    await tabs.context.route('**/connect_to_sse*', (route) =>
      route.fulfill({ status: 503, contentType: 'text/plain', body: 'unavailable' }),
    );
    for (let i = 0; i < 2; i++) await tabs.add(server.base + '/');
    await tabs.allShow(tabs.pages, 'offline', 10_000);
    await expect(streamState(tabs.pages[1])).toContainText('will not retry');

    await tabs.context.unroute('**/connect_to_sse*');
    await tabs.pages[1].reload({ waitUntil: 'domcontentloaded' });
    await tabs.allShow(tabs.pages, 'live');
    const change = await server.setOverride('partial_outage', 'Streaming again');
    await tabs.allAt(tabs.pages, change.version, 'Streaming again');
    expect(await server.openStreams()).toBe(1);
    expect(tabs.problems).toEqual([]);
  } finally {
    await tabs.context.close();
    await server.stop();
  }
});

test('without BroadcastChannel each tab follows its own stream', async ({ browser }) => {
  const server = await StatusServer.start();
  const tabs = await Tabs.open(browser, null, () => {
    Object.defineProperty(window, 'BroadcastChannel', { value: undefined, configurable: true });
  });
  try {
    for (let i = 0; i < 3; i++) await tabs.add(server.base + '/');
    await tabs.allShow(tabs.pages, 'live');
    await expect.poll(() => server.openStreams(), { timeout: 5_000 }).toBe(3);
    const change = await server.setOverride('major_outage', 'Each on its own');
    await tabs.allAt(tabs.pages, change.version, 'Each on its own');
    expect(tabs.problems).toEqual([]);
  } finally {
    await tabs.context.close();
    await server.stop();
  }
});
