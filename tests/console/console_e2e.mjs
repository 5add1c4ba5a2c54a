// The console in a real browser (Debian's chromium driven by playwright-core) against the real
// collector and agent that console_e2e_test.cpp started. Every step is what a person does on
// the page; where the acceptance is about the server refusing, the test reads the API's answer.
// Exits 0 when every step passed; prints the failing step and exits 1 otherwise.
//
// Environment (set by console_e2e_test.cpp):
//   XJ_URL            http://127.0.0.1:PORT of the collector
//   XJ_ADMIN, XJ_ADMIN_PASSWORD   the admin made with `xunjian-collector user create --admin`
//   XJ_SLEEPER_PID    the process the agent's proc:sleeper check watches (this script kills it)
//   XJ_HOST           the agent's host id
//   XJ_OUT            a directory for downloads and screenshots (not committed)
//   XJ_CHROMIUM       the browser (default /usr/bin/chromium)
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';

const require = createRequire(import.meta.url);
const { chromium } = require(process.env.XJ_PLAYWRIGHT || 'playwright-core');

const base = process.env.XJ_URL;
const host = process.env.XJ_HOST;
const out = process.env.XJ_OUT;
const adminUser = process.env.XJ_ADMIN;
const adminPassword = process.env.XJ_ADMIN_PASSWORD;
const passwords = { zhangsan: 'Operator-pass-2026', lisi: 'Viewer-pass-2026', wangwu: 'Lockout-pass-2026' };

let step = 'start';
const log = (s) => { step = s; console.log(`[console-e2e] ${s}`); };
function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

// Polls fn until it returns a truthy value or `ms` pass.
async function eventually(ms, what, fn) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`not within ${ms / 1000} s: ${what} (last: ${last})`);
}

// An API call from the page, the way app.js makes it: cookie plus the page's CSRF token.
async function apiFromPage(page, method, url, body) {
  return page.evaluate(async ([method, url, body]) => {
    const csrf = document.querySelector('meta[name="csrf-token"]').content;
    const res = await fetch(url, {
      method, credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.text() };
  }, [method, url, body]);
}

async function login(browser, user, password, next = '/console/') {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  await page.goto(base + next);
  check(page.url().includes('/console/login?next='), `an anonymous visit goes to the login page (got ${page.url()})`);
  await page.fill('input[name="user"]', user);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/console/login')), page.click('button[type="submit"]')]);
  check(new URL(page.url()).pathname === next, `after logging in ${user} lands on ${next} (got ${page.url()})`);
  return { context, page };
}

// No horizontal scrolling on a phone: the page is no wider than the screen.
async function fitsPhone(page, what) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390, `${what} fits a 390 px phone screen (scrollWidth ${width})`);
}

async function shots(page, name) {
  if (!out) return;
  for (const [label, width] of [['desktop', 1366], ['phone', 390]]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    await page.reload();
    if (width === 390) await fitsPhone(page, name);
    await page.screenshot({ path: path.join(out, `${name}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1366, height: 900 });
}

async function main() {
  const flags = [
    '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-default-apps', '--no-default-browser-check', '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
  ];
  if (process.getuid && process.getuid() === 0) flags.push('--no-sandbox');
  const browser = await chromium.launch({
    executablePath: process.env.XJ_CHROMIUM || '/usr/bin/chromium', headless: true, args: flags,
  });
  try {
    log('admin logs in and creates the operator zhangsan on the users page');
    const admin = await login(browser, adminUser, adminPassword);
    await admin.page.goto(base + '/console/users');
    await admin.page.waitForSelector(`#users-table tbody td:text-is("${adminUser}")`);
    const form = admin.page.locator('form[data-url="/api/v1/users"]');
    await form.locator('input[name="name"]').fill('zhangsan');
    await form.locator('select[name="role"]').selectOption('operator');
    await form.locator('input[name="password"]').fill(passwords.zhangsan);
    await Promise.all([admin.page.waitForEvent('load'), form.locator('button[type="submit"]').click()]);
    await admin.page.waitForSelector('#users-table tbody td:text-is("zhangsan")');
    for (const [name, role] of [['lisi', 'viewer'], ['wangwu', 'operator']]) {
      const r = await apiFromPage(admin.page, 'POST', '/api/v1/users', { name, role, password: passwords[name] });
      check(r.status === 200 || r.status === 201, `admin creates ${name}: ${r.status} ${r.body}`);
    }

    log('operator zhangsan logs in; the agent\'s watched process is killed');
    const op = await login(browser, 'zhangsan', passwords.zhangsan);
    await op.page.waitForSelector('.tile.st-ok');
    const killedAt = Date.now();
    process.kill(Number(process.env.XJ_SLEEPER_PID), 'SIGKILL');

    log('the overview shows the killed process as critical without reloading (its own refresh)');
    await op.page.waitForSelector('li:has(a:text-is("proc:sleeper")) .badge.st-critical', { timeout: 60_000 });
    console.log(`[console-e2e] critical on the overview ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
    const critTiles = await op.page.locator('.tile.st-critical .num').innerText();
    check(Number(critTiles) >= 1, `the critical tile counts the check (${critTiles})`);
    const incidentLink = await eventually(60_000, 'the alert opens an incident shown on the overview', async () => {
      const link = op.page.locator('a[href^="/console/incidents/"]').first();
      return (await link.count()) > 0 ? link.getAttribute('href') : null;
    });
    check(await op.page.locator('.countdown[data-deadline]').count() >= 1, 'the incident\'s deadlines count down');
    const countdown = await op.page.locator('.countdown[data-deadline]').first().innerText();
    check(/^剩余 (\d+ 天 )?(\d+ 小时 )?\d+ 分钟$/.test(countdown), `the countdown reads as time left, in Chinese (${countdown})`);
    await shots(op.page, 'overview');

    log('the host page shows the check and its metrics');
    await op.page.goto(base + '/console/hosts/' + encodeURIComponent(host));
    await op.page.waitForSelector('td a:text-is("proc:sleeper")');
    await shots(op.page, 'host');

    log('the incident is acknowledged and resolved from its page; the timeline names zhangsan');
    await op.page.goto(base + incidentLink);
    await op.page.fill('#ack-form input[name="text"]', '已到现场');
    await Promise.all([op.page.waitForEvent('load'), op.page.click('#ack-form button[type="submit"]')]);
    let timeline = await op.page.locator('#timeline').innerText();
    check(timeline.includes('zhangsan') && timeline.includes('已到现场'), `the ack is on the timeline with its author: ${timeline}`);
    await op.page.click('details:has(#resolve-form) summary');
    await op.page.fill('#resolve-form input[name="cause"]', '进程被杀');
    await op.page.fill('#resolve-form textarea[name="handling"]', '重新启动');
    await Promise.all([op.page.waitForEvent('load'), op.page.click('#resolve-form button[type="submit"]')]);
    const state = await op.page.locator('#incident-state').innerText();
    check(state === '已解决', `the incident shows as resolved (${state})`);
    timeline = await op.page.locator('#timeline').innerText();
    check((timeline.match(/zhangsan/g) || []).length >= 2, `ack and resolve both name zhangsan: ${timeline}`);
    await shots(op.page, 'incident');
    const report = await Promise.all([op.page.waitForEvent('download'), op.page.click('a[download$=".md"]')]);
    const reportText = fs.readFileSync(await report[0].path(), 'utf8');
    check(reportText.includes('进程被杀'), 'the downloaded fault report carries the cause');

    log('a silence is created on the alerts page and the alert shows as silenced');
    await op.page.goto(base + '/console/alerts');
    await op.page.waitForSelector('li[data-state="firing"]:has(a:text-is("' + host + ' / proc:sleeper"))');
    await op.page.fill('#silence-form textarea[name="matchers"]', `host=${host}\ncheck=proc:sleeper`);
    await op.page.fill('#silence-form input[name="duration"]', '1h');
    await op.page.fill('#silence-form input[name="comment"]', '浏览器测试静默');
    await Promise.all([op.page.waitForEvent('load'), op.page.click('#silence-form button[type="submit"]')]);
    await op.page.waitForSelector('li[data-state="silenced"]:has(a:text-is("' + host + ' / proc:sleeper"))');
    check((await op.page.locator('li[data-state="firing"]:has(a:text-is("' + host + ' / proc:sleeper"))').count()) === 0,
          'the silenced alert is no longer listed under firing');

    log('a weekly report is generated and downloaded');
    await op.page.goto(base + '/console/reports');
    await op.page.selectOption('#report-kind', 'weekly');
    await op.page.fill('#report-form input[name="formats"]', 'html,md');
    await Promise.all([op.page.waitForEvent('load', { timeout: 120_000 }), op.page.click('#report-form button[type="submit"]')]);
    const row = op.page.locator('#report-archive tbody tr:has(td:text-is("html"))').first();
    await row.waitFor();
    const sha = await row.locator('code.hash').innerText();
    check(/^[0-9a-f]{64}$/.test(sha), `the archive shows the SHA-256 (${sha})`);
    const dl = await Promise.all([op.page.waitForEvent('download'), row.locator('a[download]').click()]);
    const html = fs.readFileSync(await dl[0].path(), 'utf8');
    check(html.includes('<html') && html.includes('周'), 'the downloaded weekly report is the HTML report');

    log('a viewer sees no action buttons, and the server refuses the action anyway');
    const viewer = await login(browser, 'lisi', passwords.lisi, incidentLink);
    check((await viewer.page.locator('#note-form, #ack-form, #resolve-form').count()) === 0, 'no action forms for a viewer');
    const refused = await apiFromPage(viewer.page, 'POST', '/api/v1' + incidentLink.replace('/console', '') + '/note', { text: 'viewer try' });
    check(refused.status === 403, `the API refuses a viewer's note: ${refused.status} ${refused.body}`);
    const acked = await apiFromPage(viewer.page, 'POST', '/api/v1' + incidentLink.replace('/console', '') + '/ack', {});
    check(acked.status === 403, `the API refuses a viewer's ack: ${acked.status} ${acked.body}`);

    log('five wrong passwords lock wangwu; the sixth, right, one is refused');
    const lock = await browser.newContext();
    const lp = await lock.newPage();
    await lp.goto(base + '/console/login');
    for (let i = 1; i <= 6; ++i) {
      await lp.fill('input[name="user"]', 'wangwu');
      await lp.fill('input[name="password"]', i <= 5 ? `wrong-password-${i}` : passwords.wangwu);
      const [answer] = await Promise.all([
        lp.waitForResponse((r) => r.url().endsWith('/api/v1/session') && r.request().method() === 'POST'),
        lp.click('button[type="submit"]'),
      ]);
      check(answer.status() !== 200, `attempt ${i} is refused (${answer.status()})`);
      await lp.waitForSelector('.form-error:not([hidden])');
    }
    const message = await lp.locator('.form-error').innerText();
    check(message.length > 0, 'the login page shows the server\'s refusal');
    check(new URL(lp.url()).pathname === '/console/login', 'wangwu is still on the login page');
    console.log(`[console-e2e] after the lockout the page says: ${message}`);

    log('admin sees wangwu locked on the users page and unlocks them; then makes them a viewer');
    await admin.page.goto(base + '/console/users');
    const wRow = admin.page.locator('#users-table tbody tr:has(td:text-is("wangwu"))');
    await wRow.waitFor();
    check((await wRow.innerText()).includes('已锁定'), `the users page shows wangwu locked: ${await wRow.innerText()}`);
    await Promise.all([
      admin.page.waitForResponse((r) => r.url().endsWith('/api/v1/users/wangwu/unlock') && r.status() === 200),
      wRow.locator('button:text-is("解锁")').click(),
    ]);
    await eventually(10_000, 'the row no longer says locked', async () => !(await wRow.innerText()).includes('已锁定'));
    check((await wRow.locator('select option:checked').innerText()) === '运维', 'the role selector names roles in Chinese');
    await wRow.locator('select').selectOption('viewer');
    await Promise.all([
      admin.page.waitForResponse((r) => r.url().endsWith('/api/v1/users/wangwu/role') && r.status() === 200),
      wRow.locator('button:text-is("设置角色")').click(),
    ]);
    const users = JSON.parse((await apiFromPage(admin.page, 'GET', '/api/v1/users')).body).users;
    const wangwu = users.find((u) => (u.name || u.user) === 'wangwu');
    check(wangwu && wangwu.role === 'viewer' && !Number(wangwu.locked_until || 0), `wangwu is an unlocked viewer now: ${JSON.stringify(wangwu)}`);

    log('admin registers a licence on the licences page and renews it');
    await admin.page.goto(base + '/console/licences');
    const lform = admin.page.locator('form[data-url="/api/v1/licences"]');
    const inDays = (d) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10);
    await lform.locator('input[name="product"]').fill('达梦数据库 DM8 企业版');
    await lform.locator('input[name="holder"]').fill('某某市大数据中心');
    await lform.locator('input[name="expiry"]').fill(inDays(20));
    await Promise.all([admin.page.waitForEvent('load'), lform.locator('button[type="submit"]').click()]);
    const lrow = admin.page.locator('tr:has(td:text-is("达梦数据库 DM8 企业版"))');
    await lrow.waitFor();
    check((await lrow.getAttribute('class') || '').includes('urgent'), 'a licence 20 days from expiry is marked urgent');
    const daysBefore = Number(await lrow.locator('td b').first().innerText());
    check(daysBefore >= 19 && daysBefore <= 20, `it has 19-20 days left (${daysBefore})`);
    await lrow.locator('form input[name="expiry"]').fill(inDays(400));
    await Promise.all([admin.page.waitForEvent('load'), lrow.locator('form button[type="submit"]').click()]);
    const daysAfter = Number(await admin.page.locator('tr:has(td:text-is("达梦数据库 DM8 企业版")) td b').first().innerText());
    check(daysAfter >= 399 && daysAfter <= 400, `after renewal it has 399-400 days left (${daysAfter})`);
    await shots(admin.page, 'licences');

    log('admin writes a next-month plan note on the reports page');
    await admin.page.goto(base + '/console/reports');
    await admin.page.fill('#note-form input[name="text"]', '升级达梦数据库补丁');
    await Promise.all([admin.page.waitForEvent('load'), admin.page.click('#note-form button[type="submit"]')]);
    await admin.page.waitForSelector('li:has-text("升级达梦数据库补丁")');
    check((await admin.page.locator('li:has-text("升级达梦数据库补丁")').innerText()).includes(adminUser), 'the note names its author');
    check(!(await admin.page.locator('label[data-for-kind="monthly"]').isVisible()), 'the report form shows only the weekly fields for a weekly report');

    log('the audit page lists the console\'s actions under the person and verifies the chain');
    await admin.page.goto(base + '/console/audit');
    const auditText = await admin.page.locator('table').innerText();
    for (const action of ['user.unlock', 'user.role', 'licence']) {
      check(auditText.includes(action), `the audit page lists ${action}: ${auditText.slice(0, 600)}`);
    }
    check(auditText.includes(adminUser), `the audit page names ${adminUser}`);
    await admin.page.click('#verify-audit');
    await admin.page.waitForFunction(() => document.getElementById('verify-result').textContent.length > 0);
    const verdict = await admin.page.locator('#verify-result').innerText();
    check(verdict.startsWith('审计链完整'), `verifying the chain from the page says it is intact: ${verdict}`);

    log('logging out ends the session');
    await op.page.goto(base + '/console/');
    await Promise.all([op.page.waitForURL(/\/console\/login/), op.page.click('#logout')]);
    await op.page.goto(base + '/console/');
    check(op.page.url().includes('/console/login'), 'after logging out the console asks to log in again');
    console.log('[console-e2e] all steps passed');
  } finally {
    await browser.close();
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(`[console-e2e] FAILED at "${step}": ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
