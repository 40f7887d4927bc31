// Browser test of the task register and report pages in Debian's Chromium (headless, driven
// by playwright-core). Started by crates/rewater-cli/tests/reports_browser.rs with a running
// `rewater serve --demo` and: REWATER_URL, REWATER_ADMIN, REWATER_OPERATOR (name:password),
// REWATER_EVIDENCE (a PDF file to attach), REWATER_DOWNLOADS (a directory),
// REWATER_CHROMIUM, REWATER_NODE_MODULES. Exits non-zero on the first failed check.
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const { chromium } = createRequire(join(process.env.REWATER_NODE_MODULES, "..", "package.json"))("playwright-core");

const url = process.env.REWATER_URL;
const [adminName, adminPassword] = process.env.REWATER_ADMIN.split(":");
const [opName, opPassword] = process.env.REWATER_OPERATOR.split(":");
const downloads = process.env.REWATER_DOWNLOADS;
mkdirSync(downloads, { recursive: true });

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
  async function session(name, password) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    const page = await context.newPage();
    page.on("pageerror", (e) => { console.log("page error: " + e.message); failed = true; });
    page.setDefaultTimeout(30000);
    await page.goto(url + "/#/tasks");
    await page.fill("#login-name", name);
    await page.fill("#login-password", password);
    await page.click("#login-submit");
    return { context, page };
  }

  // --- the operator: the register, filtered by department and status, and a progress update
  const op = await session(opName, opPassword);
  let page = op.page;
  await page.waitForSelector("#task-table tr:nth-child(2)");
  check((await page.textContent("#nav")).includes("任务台账") && (await page.textContent("#nav")).includes("报告"), "task and report pages in the navigation, in Chinese");
  const all = await page.locator("#task-table tr[data-task]").count();
  check(all === 95, `48 + 22 + 25 tasks listed (${all})`);
  // Each filter change re-renders the page; the table says which filter it shows.
  await page.selectOption("#task-department", "agriculture");
  await page.waitForSelector('#task-table[data-filter="|agriculture|"]');
  await page.selectOption("#task-register", "beijing-14fyp");
  await page.waitForSelector('#task-table[data-filter="beijing-14fyp|agriculture|"]');
  const agri = await page.locator("#task-table tr[data-task]").count();
  check(agri === 8, `the agriculture bureau's 8 measures of seed 000 (${agri})`);
  await page.click('tr[data-task="beijing-14fyp/5"] a');
  await page.waitForSelector("#progress-form");
  await page.fill("#progress-percent", "100");
  await page.fill("#progress-done", "2025-11-30");
  await page.fill("#progress-note", "900 个村庄完成");
  await page.setInputFiles("#progress-files", process.env.REWATER_EVIDENCE);
  await page.click("#progress-submit");
  await page.waitForFunction(() => document.getElementById("progress-result") && document.getElementById("progress-result").textContent.length > 0);
  check((await page.textContent("#task-detail-status")) === "已完成", "the measure is done after the update");
  const [evidence] = await Promise.all([page.waitForEvent("download"), page.click("a.evidence")]);
  const evPath = join(downloads, "evidence.pdf");
  await evidence.saveAs(evPath);
  check(readFileSync(evPath).subarray(0, 5).toString() === "%PDF-", "the evidence downloads as it was uploaded");
  await page.goto(url + "/#/tasks");
  await page.waitForSelector("#task-status");
  await page.selectOption("#task-status", "done");
  await page.waitForSelector('#task-table[data-filter$="|done"]');
  const done = await page.locator("#task-table tr[data-task]").count();
  check(done === 1, `filtering by status done shows the one measure (${done})`);
  // The operator may make only the north scorecard.
  await page.goto(url + "/#/reports");
  await page.waitForSelector("#report-kind");
  const kinds = await page.$$eval("#report-kind option", (os) => os.map((o) => o.value));
  check(kinds.length === 1 && kinds[0] === "district", `an operator is offered the district scorecard only (${kinds})`);
  await op.context.close();

  // --- the administrator: generate the pilot annual report with its PDF and download both
  const admin = await session(adminName, adminPassword);
  page = admin.page;
  await page.waitForSelector("#task-table");
  await page.goto(url + "/#/reports");
  await page.waitForSelector("#report-kind");
  await page.selectOption("#report-kind", "pilot-annual");
  await page.selectOption("#report-model", "beijing-district");
  await page.click("#report-submit");
  await page.waitForSelector("a.report-download", { timeout: 60000 });
  const links = await page.$$eval("a.report-download", (as) => as.map((a) => a.getAttribute("download")));
  check(links.includes("pilot-annual.zh.html") && links.includes("pilot-annual.zh.pdf"), `HTML and PDF offered (${links})`);
  const [pdf] = await Promise.all([page.waitForEvent("download"), page.click('a.report-download[download="pilot-annual.zh.pdf"]')]);
  const pdfPath = join(downloads, "pilot-annual.zh.pdf");
  await pdf.saveAs(pdfPath);
  check(readFileSync(pdfPath).subarray(0, 5).toString() === "%PDF-" && statSync(pdfPath).size > 10000, "the PDF report downloads");
  const [html] = await Promise.all([page.waitForEvent("download"), page.click('a.report-download[download="pilot-annual.zh.html"]')]);
  const htmlPath = join(downloads, "pilot-annual.zh.html");
  await html.saveAs(htmlPath);
  check(readFileSync(htmlPath, "utf8").includes("区域再生水循环利用试点工作年度报告"), "the HTML report downloads, in Chinese");
  await admin.context.close();
} catch (e) {
  console.log("FAILED: " + e.message);
  failed = true;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
