// Browser test of the web platform in Debian's Chromium (headless, driven by
// playwright-core; no browser download). Started by crates/rewater-cli/tests/web.rs with a
// running `rewater serve` and these environment variables:
//   REWATER_URL, REWATER_ADMIN, REWATER_OPERATOR (name:password each),
//   REWATER_NORTH_ALERT (an open alert at a north site), REWATER_SCREENSHOTS (a directory),
//   REWATER_CHROMIUM (the browser binary), REWATER_MODEL_TAR (a tar of a model with its CSV
//   files, to upload), REWATER_NODE_MODULES (where the web crate's build
//   installed playwright-core: under its OUT_DIR, not in the source tree).
// Exits non-zero with a message on the first failed check.
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const { chromium } = createRequire(join(process.env.REWATER_NODE_MODULES, "..", "package.json"))("playwright-core");

const url = process.env.REWATER_URL;
const [adminName, adminPassword] = process.env.REWATER_ADMIN.split(":");
const [opName, opPassword] = process.env.REWATER_OPERATOR.split(":");
const northAlert = process.env.REWATER_NORTH_ALERT;
const shots = process.env.REWATER_SCREENSHOTS;
mkdirSync(shots, { recursive: true });

function check(ok, what) {
  if (!ok) throw new Error("check failed: " + what);
  console.log("ok - " + what);
}

const browser = await chromium.launch({
  executablePath: process.env.REWATER_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let failed = false;
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const outside = [];
  page.on("request", (r) => { if (!r.url().startsWith(url)) outside.push(r.url()); });
  page.on("pageerror", (e) => { console.log("page error: " + e.message); failed = true; });
  page.setDefaultTimeout(15000);

  // Let chart animations finish before a screenshot.
  const settle = () => page.waitForTimeout(700);

  async function login(name, password) {
    await page.goto(url + "/#/overview");
    await page.fill("#login-name", name);
    await page.fill("#login-password", password);
    const t0 = Date.now();
    await page.click("#login-submit");
    await page.waitForSelector("#map canvas");
    await page.waitForSelector("#site-table tr:nth-child(2)");
    return Date.now() - t0;
  }

  // --- a wrong password is refused, then the administrator logs in
  await page.goto(url + "/");
  await page.fill("#login-name", adminName);
  await page.fill("#login-password", "not the password");
  await page.click("#login-submit");
  await page.waitForFunction(() => document.getElementById("login-error").textContent.length > 0);
  check((await page.textContent("#login-error")).includes("密码"), "a wrong password is refused, in Chinese");
  const loginMs = await login(adminName, adminPassword);
  console.log(`overview usable ${loginMs} ms after pressing log in`);

  // --- overview: map and indicators, Chinese labels by default
  check((await page.textContent("#nav")).includes("总览"), "Chinese labels by default");
  const reuse = await page.textContent('[data-indicator="utilisation_rate"] .v');
  check(/\d+(\.\d)? %/.test(reuse), `reuse rate indicator shows a percentage (${reuse})`);
  check((await page.textContent('[data-indicator="sites"] .v')).trim() === "6", "six monitoring sites counted");
  const mapSeries = await page.evaluate(() => echarts.getInstanceByDom(document.getElementById("map")).getOption().series.length);
  check(mapSeries >= 4, `map draws links, node kinds and sites (${mapSeries} series)`);
  await settle();
  await page.screenshot({ path: `${shots}/overview.png` });

  // --- site page: chart with the limit drawn
  await page.click('a[data-site="plant-north-outlet"]');
  await page.waitForFunction(() => { const el = document.getElementById("site-chart"); return el && el.dataset.points && Number(el.dataset.points) > 0; });
  const limit = await page.getAttribute("#site-chart", "data-limit");
  check(limit === "30", `COD limit of DB11/890 class B (30 mg/L) drawn on the chart (${limit})`);
  const markLine = await page.evaluate(() => echarts.getInstanceByDom(document.getElementById("site-chart")).getOption().series[0].markLine.data[0].yAxis);
  check(markLine === 30, "the limit is a mark line at 30");
  check((await page.textContent("#latest")).includes("超标"), "the latest COD is shown as exceeding");
  const shown = await page.textContent("#latest td.time");
  check(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} \(\+08:00\)$/.test(shown), `times in one format, in the server's zone (${shown})`);
  await page.waitForSelector("#compliance-table tr:nth-child(2)");
  const comp = await page.textContent("#compliance-table");
  check(comp.includes("DB11/890-2012:new_B") && comp.includes("%"), "compliance summary per factor");
  await settle();
  await page.screenshot({ path: `${shots}/site.png`, fullPage: true });

  // --- site configuration: the administrator changes the standard; it is audited
  await page.fill("#site-edit-standard", "DB11/890-2012:new_A");
  await page.click("#site-save");
  await page.waitForFunction(() => document.getElementById("site-edit-result").textContent.length > 0);
  check((await page.getAttribute("#site-edit-result", "class")) === "good", "site standard changed from the page");
  await page.fill("#site-edit-standard", "NO-SUCH-STANDARD:X");
  await page.click("#site-save");
  await page.waitForFunction(() => document.getElementById("site-edit-result").className === "error");
  check((await page.textContent("#site-edit-result")).includes("NO-SUCH-STANDARD"), "an unknown standard is refused with its name");
  await page.fill("#site-edit-standard", "DB11/890-2012:new_B");
  await page.click("#site-save");
  await page.waitForFunction(() => document.getElementById("site-edit-result").className === "good");

  // --- users: the administrator makes a viewer from the page
  await page.click('a[data-page="users"]');
  await page.waitForSelector("#user-form");
  await page.fill("#user-name", "guest");
  await page.fill("#user-password", "guest-password-1");
  await page.selectOption("#user-role", "viewer");
  await page.click("#user-form button");
  await page.waitForFunction(() => document.getElementById("users") && document.getElementById("users").textContent.includes("guest"));
  check(true, "an account created from the users page");

  // --- API token for the viewer: created, listed by public id, used, revoked from the page
  await page.selectOption("#token-account", "guest");
  await page.fill("#token-label", "wall display");
  await page.fill("#token-days", "30");
  await page.click("#token-form button");
  await page.waitForSelector("#token-secret");
  const secret = (await page.textContent("#token-secret")).trim();
  await page.waitForSelector("#credential-table tr[data-credential]");
  const publicId = await page.getAttribute("#credential-table tr[data-credential]", "data-credential");
  check(secret.startsWith(publicId) === false && publicId.length === 16, `token listed by its public id ${publicId}, not its secret`);
  const withToken = () => page.evaluate(async (s) => (await fetch("/api/sites", { headers: { authorization: "Bearer " + s } })).status, secret);
  check((await withToken()) === 200, "the new token reads the API");
  await settle();
  await page.screenshot({ path: `${shots}/users.png` });
  await page.click(`#credential-table tr[data-credential="${publicId}"] button.revoke`);
  await page.waitForSelector(`#credential-table tr[data-credential="${publicId}"]`, { state: "detached" });
  check((await withToken()) === 401, "a revoked token is refused at once");

  // --- devices: register a data logger (password generated, shown once), then disable it
  await page.click('a[data-page="devices"]');
  await page.waitForSelector("#device-form");
  check((await page.textContent("#devices")).includes("RWDEMO0000000001"), "the demo devices are listed");
  check(!(await page.textContent("#devices")).includes("123456"), "device passwords are never shown in the list");
  await page.fill("#device-mn", "RWWEB0000000009");
  await page.selectOption("#device-site", "plant-north-outlet");
  await page.fill("#device-peers", "10.0.0.0/8");
  await page.click("#device-submit");
  await page.waitForSelector("#device-password-once");
  const devicePw = (await page.textContent("#device-password-once")).trim();
  check(devicePw.length >= 16, `a generated device password is shown once (${devicePw.length} characters)`);
  await settle();
  await page.screenshot({ path: `${shots}/devices.png` });
  await page.click('tr[data-device="RWWEB0000000009"] button.toggle');
  await page.waitForFunction(() => { const c = document.querySelector('tr[data-device="RWWEB0000000009"] .device-state'); return c && c.classList.contains("bad"); });
  check((await page.textContent('tr[data-device="RWWEB0000000009"] .device-state')).includes("已停用"), "the device is disabled from the page");
  check(!(await page.content()).includes(devicePw), "the password is gone once the page is redrawn");

  // --- alerts: acknowledge with a comment, then find it in the audit log
  await page.goto(url + "/#/alerts");
  const row = page.locator(`tr[data-alert="${northAlert}"]`);
  await row.locator(".comment").fill("checked the sampler");
  await row.locator("button.ack").click();
  await page.waitForSelector(`tr[data-alert="${northAlert}"]`, { state: "detached" });
  await page.selectOption("#alert-state", "acknowledged");
  await page.waitForSelector(`tr[data-alert="${northAlert}"] .alert-state`);
  check((await page.textContent(`tr[data-alert="${northAlert}"] .alert-state`)).includes("已确认"), "the alert is acknowledged");
  check((await page.textContent("#alert-count")).includes("共"), "the alert list says how many match");
  check(!(await page.textContent("#alert-list")).match(/\b(exceedance|warning|violation|downstream_risk)\b/), "alert kinds and severities are shown in Chinese");
  await settle();
  await page.screenshot({ path: `${shots}/alerts.png` });
  // --- bulk: close the selected alerts with one comment
  await page.check(`tr[data-alert="${northAlert}"] .pick`);
  await page.fill("#bulk-comment", "sampler replaced");
  await page.click("#bulk-close");
  await page.waitForSelector(`tr[data-alert="${northAlert}"]`, { state: "detached" });
  await page.selectOption("#alert-state", "closed");
  await page.waitForSelector(`tr[data-alert="${northAlert}"] .alert-state`);
  check((await page.textContent(`tr[data-alert="${northAlert}"] .alert-state`)).includes("已关闭"), "bulk close closed the selected alert");
  await page.selectOption("#alert-state", "open");
  await page.click('a[data-page="audit"]');
  await page.waitForSelector("#audit");
  const audit = await page.textContent("#audit");
  check(audit.includes("alert.acknowledged") && audit.includes("checked the sampler") && audit.includes(adminName), "the acknowledgement is in the audit log with who and the comment");
  check(audit.includes("site.update") && audit.includes("DB11/890-2012:new_A") && audit.includes("user.create") && audit.includes("guest"), "site change and new account are in the audit log");
  check(audit.includes("device.create") && audit.includes("device.disable") && audit.includes("credential.revoke"), "device changes and the token revocation are in the audit log");
  await settle();
  await page.screenshot({ path: `${shots}/audit.png` });

  // --- scenarios: run two models, see results and compare them
  const runModel = async (name) => {
    await page.goto(url + "/#/scenarios");
    await page.waitForSelector("#model-select");
    await page.selectOption("#model-select", name);
    await page.click("#run");
    await page.waitForSelector("#run-results", { timeout: 60000 });
  };
  await runModel("beijing-district");
  const util = await page.textContent('#run-summary td[data-key="utilisation_rate"]');
  check(/\d+(\.\d)? %/.test(util), `scenario result shows the reuse rate (${util})`);
  check(await page.evaluate(() => echarts.getInstanceByDom(document.getElementById("run-flows")).getOption().series.length === 4), "flows and storage chart drawn");
  await settle();
  await page.screenshot({ path: `${shots}/scenario.png`, fullPage: true });
  // Upload the Beijing model with its CSV files as a tar, then run it.
  await page.goto(url + "/#/scenarios");
  await page.waitForSelector("#upload");
  await page.setInputFiles("#upload", process.env.REWATER_MODEL_TAR);
  await page.waitForSelector('#model-select option[value="beijing-upload"]', { state: "attached" });
  check(true, "a model with its CSV files uploaded as a tar from the page");
  await runModel("beijing-upload");
  check(/\d+(\.\d)? %/.test(await page.textContent('#run-summary td[data-key="utilisation_rate"]')), "the uploaded model runs");
  await runModel("wanzhou-river-city");
  await page.goto(url + "/#/scenarios");
  await page.waitForSelector("#cmp-b option:nth-child(3)", { state: "attached" });
  await page.selectOption("#cmp-a", { index: 0 });
  await page.selectOption("#cmp-b", { index: 2 });
  await page.click("#compare-go");
  await page.waitForSelector("#compare-table");
  const cmp = await page.textContent("#compare-table");
  check(cmp.includes("beijing-district") && cmp.includes("wanzhou-river-city"), "two runs compared side by side");
  await settle();
  await page.screenshot({ path: `${shots}/compare.png`, fullPage: true });

  // --- standards browser
  await page.click('a[data-page="standards"]');
  await page.waitForSelector("#limits tr:nth-child(2)");
  check((await page.locator("#limits tr").count()) > 5, "standard limits listed with source and confidence");
  await settle();
  await page.screenshot({ path: `${shots}/standards.png` });

  // --- the English switch
  await page.click("#lang");
  await page.waitForFunction(() => document.getElementById("nav").textContent.includes("Overview"));
  const nav = await page.textContent("#nav");
  check(nav.includes("Standards") && !nav.includes("总览"), "English switch changes the labels");
  await page.click('a[data-page="overview"]');
  await page.waitForSelector("#map canvas");
  check((await page.textContent('[data-indicator="utilisation_rate"] .k')) === "Reuse rate", "indicator labels in English");
  await settle();
  await page.screenshot({ path: `${shots}/overview-en.png` });
  await page.click("#lang");
  await page.click("#logout");
  await page.waitForSelector("#login-form");

  // --- a district operator sees only its district, in the page and through the API
  await login(opName, opPassword);
  const sites = await page.textContent("#site-table");
  check(sites.includes("南部污水厂出水口") && !sites.includes("北部再生水厂出水口"), "operator's overview lists only its district's sites (by their Chinese names)");
  await page.goto(url + "/#/site/plant-north-outlet");
  await page.waitForSelector("#page-error");
  check((await page.textContent("#page-error")).includes("无权限"), "operator cannot open another district's site page");
  const api = await page.evaluate(async (alertId) => {
    const me = await (await fetch("/api/me")).json();
    const get = (await fetch("/api/sites/plant-north-outlet/series?factor=cod")).status;
    const change = (await fetch(`/api/alerts/${alertId}/state`, { method: "POST", headers: { "content-type": "application/json", "x-csrf-token": me.csrf }, body: JSON.stringify({ state: "closed", comment: "not mine" }) })).status;
    const put = (await fetch("/api/sites/plant-north-outlet", { method: "PUT", headers: { "content-type": "application/json", "x-csrf-token": me.csrf }, body: JSON.stringify({ name: "taken over" }) })).status;
    const noCsrf = (await fetch("/api/sites/plant-south-outlet", { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "x" }) })).status;
    const own = (await fetch("/api/sites/plant-south-outlet", { method: "PUT", headers: { "content-type": "application/json", "x-csrf-token": me.csrf }, body: JSON.stringify({ name: "South plant outlet (checked)" }) })).status;
    return { get, change, put, noCsrf, own };
  }, northAlert);
  check(api.get === 403, `API: another district's series is forbidden (${api.get})`);
  check(api.change === 403, `API: another district's alert cannot be changed (${api.change})`);
  check(api.put === 403, `API: another district's site cannot be changed (${api.put})`);
  check(api.noCsrf === 403, `API: a change without the CSRF token is refused (${api.noCsrf})`);
  check(api.own === 200, `API: the operator may change its own site (${api.own})`);

  // --- the operator changes its own password: older sessions end, this page goes on
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await otherPage.goto(url + "/");
  const otherMe = await otherPage.evaluate(async ([n, p]) => (await fetch("/api/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: n, password: p }) })).status, [opName, opPassword]);
  check(otherMe === 200, "a second session of the operator (another browser)");
  await page.goto(url + "/#/account");
  await page.waitForSelector("#own-password-form");
  check((await page.locator("#own-credentials tr[data-credential]").count()) >= 2, "the operator sees its own sessions");
  await page.fill("#own-current", opPassword);
  await page.fill("#own-new", "south-password-2");
  await page.click("#own-password-save");
  await page.waitForFunction(() => document.getElementById("own-password-result").className === "good");
  const ended = await otherPage.evaluate(async () => (await fetch("/api/me")).status);
  check(ended === 401, `the other session ended with the password change (${ended})`);
  const still = await page.evaluate(async () => { const me = await (await fetch("/api/me")).json(); return (await fetch("/api/sites/plant-south-outlet", { method: "PUT", headers: { "content-type": "application/json", "x-csrf-token": me.csrf }, body: JSON.stringify({ name: "South plant outlet" }) })).status; });
  check(still === 200, `this page goes on with its new session (${still})`);
  await page.reload();
  await page.waitForSelector("#own-credentials");
  const live = await page.locator("#own-credentials tr[data-credential]").count();
  check(live === 1, `only the new session is left in the operator's list (${live})`);
  await other.close();
  await settle();
  await page.screenshot({ path: `${shots}/account.png` });
  check(outside.length === 0, `nothing fetched from outside the server (${outside.join(", ")})`);
  check(!failed, "no script errors in the pages");
} catch (e) {
  console.error(e && e.stack ? e.stack : String(e));
  failed = true;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
