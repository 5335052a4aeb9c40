// Starts a real statuscast server (the release binary) for a test, on a port of its own.
import { spawn, ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const TOKEN = 'e2e-token-0123456789abcdef';
const ROOT = resolve(__dirname, '..', '..');
const BIN = process.env.STATUSCAST_BIN || join(ROOT, 'target', 'release', 'statuscast');
const SITE_ROOT = process.env.LEPTOS_SITE_ROOT || join(ROOT, 'target', 'site');

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

export class StatusServer {
  proc: ChildProcess | null = null;
  constructor(public port: number, public dataDir: string, public extra: string[] = []) {}

  static async start(extra: string[] = []): Promise<StatusServer> {
    const s = new StatusServer(await freePort(), mkdtempSync(join(tmpdir(), 'statuscast-e2e-')), extra);
    await s.startAgain();
    return s;
  }

  /** https when started with a certificate (--tls-cert). */
  get base(): string {
    const scheme = this.extra.includes('--tls-cert') ? 'https' : 'http';
    return `${scheme}://127.0.0.1:${this.port}`;
  }

  /** (Re)starts the process on the same port and data directory; resolves once it listens. */
  async startAgain(): Promise<void> {
    const proc = spawn(
      BIN,
      ['serve', '--addr', `127.0.0.1:${this.port}`, '--data-dir', this.dataDir,
        '--leptos-config', join(ROOT, 'Leptos.toml'), '--sse-retry-ms', '300', '--sse-retry-jitter-ms', '300',
        // Host health that a busy machine cannot flip mid-test, sampled once.
        '--host-interval', '1h', '--load-degraded', '1000000', '--load-outage', '1000000',
        '--disk-degraded-pct', '0', '--disk-outage-pct', '0', '--memory-degraded-pct', '0', '--memory-outage-pct', '0',
        '--config', join(this.dataDir, 'no-config.toml'),
        ...this.extra],
      {
        env: { ...process.env, STATUSCAST_ADMIN_TOKEN: TOKEN, LEPTOS_SITE_ROOT: SITE_ROOT, STATUSCAST_LOG: 'warn' },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    this.proc = proc;
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error('statuscast did not start within 20 s')), 20_000);
      let out = '';
      proc.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('listening on ')) {
          clearTimeout(timer);
          ok();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`statuscast exited with ${code} before listening (binary: ${BIN})`));
      });
    });
  }

  /** SIGTERM, and wait for the exit. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((ok) => proc.once('exit', ok));
    proc.kill('SIGTERM');
    await exited;
    this.proc = null;
  }

  /** The server's open SSE streams, from /metrics. */
  async openStreams(): Promise<number> {
    const text = await (await fetch(`${this.base}/metrics`)).text();
    const m = /^statuscast_sse_streams (\d+)$/m.exec(text);
    if (!m) throw new Error('no statuscast_sse_streams in /metrics');
    return Number(m[1]);
  }

  async status(): Promise<any> {
    const res = await fetch(`${this.base}/api/v1/status`);
    return res.json();
  }

  async setOverride(level: string, message: string): Promise<any> {
    const res = await fetch(`${this.base}/api/v1/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ level, message }),
    });
    if (res.status !== 200) throw new Error(`override failed: ${res.status} ${await res.text()}`);
    return res.json();
  }
}

export function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}
