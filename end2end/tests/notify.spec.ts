// Notifications end to end: a viewer subscribes from the status page (a real SMTP server,
// tools/smtp_sink.py, receives the mails), confirms by the link in the mail, an operator opens
// an incident from the admin area, and the mail and an operator's webhook arrive.
import { test, expect, Page, ConsoleMessage } from '@playwright/test';
import { spawn, ChildProcess } from 'node:child_process';
import { createServer, IncomingMessage } from 'node:http';
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { StatusServer, freePort } from './server';

const PASSWORD = 'e2e password for notifications';
const ROOT = resolve(__dirname, '..', '..');

function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return problems;
}

/** The SMTP sink: resolves its port once it listens. */
async function smtpSink(dir: string): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn('/usr/bin/python3', [join(ROOT, 'tools', 'smtp_sink.py'), '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('smtp_sink did not start')), 20_000);
    proc.stdout!.on('data', (chunk: Buffer) => {
      const m = /ready (\d+)/.exec(chunk.toString());
      if (m) {
        clearTimeout(timer);
        ok(Number(m[1]));
      }
    });
  });
  return { proc, port };
}

/** Mail n (1-based) as text: quoted-printable undone, so links read as sent. */
function mail(dir: string, n: number): string | null {
  const path = join(dir, `${n}.eml`);
  if (!existsSync(path)) return null;
  const raw = readFileSync(path, 'latin1');
  const qp = raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(qp, 'latin1').toString('utf8');
}

test('a viewer subscribes, confirms by mail, and hears of the incident an operator opens', async ({ browser }) => {
  const mails = mkdtempSync(join(tmpdir(), 'statuscast-mails-'));
  const smtp = await smtpSink(mails);
  const hooks: { headers: IncomingMessage['headers']; body: any }[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      hooks.push({ headers: req.headers, body: JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
  const hookPort = (receiver.address() as { port: number }).port;

  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'statuscast-e2e-'));
  const config = join(dataDir, 'statuscast.toml');
  writeFileSync(
    config,
    `
[page]
name = "Acme"
url = "http://127.0.0.1:${port}"

[subscriptions]
email = true
smtp = { host = "127.0.0.1", port = ${smtp.port}, tls = "none", from = "Acme Status <status@acme.test>" }

[[notify]]
name = "ops"
kind = "webhook"
url = "http://127.0.0.1:${hookPort}/hook"
secret = "e2e-secret"

[[component]]
id = "web"
name = "Website"

[[component.check]]
kind = "tcp"
address = "127.0.0.1:${hookPort}"
interval = "1s"
`,
  );
  const server = new StatusServer(port, dataDir, ['--config', config, '--admin-password', PASSWORD]);
  await server.startAgain();
  try {
    // The viewer subscribes from the status page (with JavaScript on: the form is plain HTML).
    const viewerContext = await browser.newContext();
    const viewer = await viewerContext.newPage();
    const viewerProblems = watchConsole(viewer);
    await viewer.goto(server.base + '/');
    await expect(viewer.locator('#system-status .stream-state')).toHaveAttribute('data-stream', 'live', { timeout: 15_000 });
    const form = viewer.locator('form.subscribe-form');
    await expect(form).toBeVisible();
    await form.locator('input[name="address"]').fill('viewer@example.com');
    await form.locator('summary').click();
    await form.locator('input[name="component"][value="web"]').check();
    await form.locator('button[type="submit"]').click();
    await expect(viewer.locator('h1')).toHaveText('Check your inbox');

    // The confirmation mail, and its link followed in the browser.
    await expect.poll(() => mail(mails, 1), { timeout: 15_000 }).not.toBeNull();
    const confirmation = mail(mails, 1)!;
    expect(confirmation).toContain('To: viewer@example.com');
    const confirmLink = /http:\/\/127\.0\.0\.1:\d+\/subscribe\/confirm\?token=[0-9a-f]+/.exec(confirmation)![0];
    await viewer.goto(confirmLink);
    await expect(viewer.locator('h1')).toHaveText('Subscription confirmed');

    // The operator opens an incident on the website from the admin area.
    const operatorContext = await browser.newContext();
    const operator = await operatorContext.newPage();
    const operatorProblems = watchConsole(operator);
    await operator.goto(server.base + '/admin');
    await operator.fill('input[name="secret"]', PASSWORD);
    await operator.click('form.login button[type="submit"]');
    await expect(operator.locator('#open-incident')).toBeVisible();
    const title = 'Checkout <b>errors</b>';
    await operator.fill('#open-incident input[name="title"]', title);
    await operator.selectOption('#open-incident select[name="impact"]', 'major');
    await operator.check('#open-incident input[name="components[]"][value="web"]');
    await operator.fill('#open-incident textarea[name="message"]', 'Looking into it.');
    const opened = Date.now();
    await operator.click('#open-incident button[type="submit"]');
    await expect(operator.locator('.notice.done')).toContainText('Incident opened');

    // The mail and the webhook arrive.
    await expect.poll(() => mail(mails, 2), { timeout: 15_000 }).not.toBeNull();
    console.log(`incident opened → mail at the SMTP server: ${Date.now() - opened} ms`);
    const incidentMail = mail(mails, 2)!;
    expect(incidentMail).toContain('Checkout <b>errors</b>'); // the text part
    expect(incidentMail).toContain('Checkout &lt;b&gt;errors&lt;/b&gt;'); // the HTML part, escaped
    expect(incidentMail).toContain('List-Unsubscribe:');
    await expect.poll(() => hooks.filter((h) => h.body.meta.event === 'incident.opened').length, { timeout: 15_000 }).toBe(1);
    const hook = hooks.find((h) => h.body.meta.event === 'incident.opened')!;
    expect(hook.body.incident.name).toBe(title);
    expect(hook.headers['x-statuscast-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);

    // The admin area lists the subscriber and the deliveries.
    await operator.goto(server.base + '/admin');
    await expect(operator.locator('table.subscribers tbody tr')).toHaveCount(1);
    await expect(operator.locator('table.subscribers tbody tr td').first()).toHaveText('viewer@example.com');
    await expect(operator.locator('table.deliveries tbody tr.delivery-sent').first()).toBeVisible();

    // The unsubscribe link in the mail, one click.
    const unsubscribe = /http:\/\/127\.0\.0\.1:\d+\/unsubscribe\?token=[0-9a-f]+/.exec(incidentMail)![0];
    await viewer.goto(unsubscribe);
    await expect(viewer.locator('h1')).toHaveText('Unsubscribed');
    await operator.goto(server.base + '/admin');
    await expect(operator.locator('table.subscribers tbody tr')).toHaveCount(0);

    expect(viewerProblems).toEqual([]);
    expect(operatorProblems).toEqual([]);
    await viewerContext.close();
    await operatorContext.close();
  } finally {
    await server.stop();
    smtp.proc.kill('SIGTERM');
    receiver.close();
  }
});
