// Three instances on one PostgreSQL behind Debian's nginx with deploy/nginx.conf: the instance
// serving a page's stream is killed; the page says so (reconnecting), then is live again from
// another instance with the current status, without a reload.
import { test, expect } from '@playwright/test';
import { execFileSync, spawn, ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { StatusServer, freePort, TOKEN } from './server';

const ROOT = resolve(__dirname, '..', '..');

/** A throwaway PostgreSQL cluster (the benchmarks' recipe, bench/pg.sh). */
class Postgres {
  constructor(public dir: string, public url: string) {}

  static async start(): Promise<Postgres> {
    const port = await freePort();
    const dir = execFileSync('bash', ['-c', `. bench/pg.sh && pg_start ${port} && pg_createdb e2e && echo "$PG_DIR"`], {
      cwd: ROOT,
    })
      .toString()
      .trim();
    return new Postgres(dir, `postgres://postgres@127.0.0.1:${port}/e2e`);
  }

  stop() {
    execFileSync('bash', ['-c', `. bench/pg.sh && PG_DIR='${this.dir}' pg_stop`], { cwd: ROOT });
  }
}

/** Debian's nginx with deploy/nginx.conf, its upstreams pointed at the instances. */
class Nginx {
  constructor(public proc: ChildProcess, public port: number) {}

  static async start(upstreams: number[]): Promise<Nginx> {
    const bin = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
    if (!bin) throw new Error('nginx is not installed (apt-get install nginx-light)');
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'statuscast-e2e-nginx-'));
    let site = readFileSync(join(ROOT, 'deploy', 'nginx.conf'), 'utf8')
      .replace('listen [::]:80;', '')
      .replace('listen 80;', `listen 127.0.0.1:${port};`);
    // Through placeholders: a port put in could contain the next one looked for.
    upstreams.forEach((_, i) => (site = site.replaceAll(`127.0.0.1:300${i + 1}`, `@upstream${i}@`)));
    upstreams.forEach((p, i) => (site = site.replaceAll(`@upstream${i}@`, `127.0.0.1:${p}`)));
    writeFileSync(join(dir, 'site.conf'), site);
    writeFileSync(
      join(dir, 'nginx.conf'),
      `worker_processes 1;\npid ${dir}/nginx.pid;\nevents {}\nhttp {\n access_log off;\n` +
        ` client_body_temp_path ${dir}/body;\n proxy_temp_path ${dir}/proxy;\n include ${dir}/site.conf;\n}\n`,
    );
    const proc = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'], {
      stdio: 'ignore',
      detached: true,
    });
    for (let i = 0; i < 100; i++) {
      try {
        await fetch(`http://127.0.0.1:${port}/healthz`);
        return new Nginx(proc, port);
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error('nginx did not listen');
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  stop() {
    try {
      process.kill(-this.proc.pid!, 'SIGTERM');
    } catch {}
  }
}

async function metric(server: StatusServer, name: string): Promise<number> {
  const text = await (await fetch(`${server.base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.split(' ')[1]) : NaN;
}

test('behind nginx, a page whose instance dies reconnects to another and is current, without a reload', async ({ page }) => {
  test.setTimeout(90_000);
  const pg = await Postgres.start();
  const servers: StatusServer[] = [];
  let nginx: Nginx | null = null;
  try {
    // A retry longer than the page's grace before it says "reconnecting" (400 ms).
    const flags = ['--database-url', pg.url, '--sse-retry-ms', '1500', '--sse-retry-jitter-ms', '0'];
    for (let i = 0; i < 3; i++) servers.push(await StatusServer.start(flags));
    nginx = await Nginx.start(servers.map((s) => s.port));
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));

    await page.goto(nginx.base + '/');
    const state = page.locator('#system-status .stream-state');
    await expect(state).toHaveAttribute('data-stream', 'live', { timeout: 15_000 });
    await page.evaluate(() => ((window as any).__notReloaded = true));

    // The instance holding the page's stream.
    let serving = -1;
    await expect
      .poll(async () => {
        const counts = await Promise.all(servers.map((s) => metric(s, 'statuscast_sse_streams')));
        serving = counts.findIndex((n) => n === 1);
        return counts.reduce((a, b) => a + b, 0);
      })
      .toBe(1);
    const survivor = servers[(serving + 1) % 3];
    servers[serving].proc!.kill('SIGKILL');

    // The page says it lost the stream...
    await expect(state).toHaveAttribute('data-stream', 'reconnecting', { timeout: 5_000 });
    // ...and while it is away the status changes (posted to a surviving instance).
    const res = await fetch(`${survivor.base}/api/v1/incidents`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'While the instance was down', impact: 'major', message: 'failing over' }),
    });
    expect([201, 202]).toContain(res.status);

    // Live again from another instance, with the current status: no reload.
    await expect(state).toHaveAttribute('data-stream', 'live', { timeout: 15_000 });
    await expect(page.locator('#system-status')).toContainText('While the instance was down', { timeout: 5_000 });
    await expect(page.locator('article.incident', { hasText: 'While the instance was down' })).toBeVisible();
    expect(await page.evaluate(() => (window as any).__notReloaded)).toBe(true);
    const counts = await Promise.all(servers.filter((_, i) => i !== serving).map((s) => metric(s, 'statuscast_sse_streams')));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1);
    expect(problems).toEqual([]);
  } finally {
    nginx?.stop();
    for (const s of servers) if (s.proc && s.proc.exitCode === null && s.proc.signalCode === null) await s.stop();
    pg.stop();
  }
});
