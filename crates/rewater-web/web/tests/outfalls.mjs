// Browser test of the outfall ledger pages (issue 16) in Debian's Chromium, headless, driven
// by playwright-core. Started by crates/rewater-cli/tests/outfalls.rs with a running
// `rewater serve` whose store holds examples/outfalls-qinghe, and:
//   REWATER_URL, REWATER_OPERATOR (name:password of the north operator), REWATER_SCREENSHOTS,
//   REWATER_CHROMIUM, REWATER_NODE_MODULES (where the web crate's build installed
//   playwright-core).
// Finds an outfall, opens its chain, traces from a failing section, records a
// rectification step. Exits non-zero with a message on the first failed check.
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const { chromium } = createRequire(join(process.env.REWATER_NODE_MODULES, "..", "package.json"))("playwright-core");

const url = process.env.REWATER_URL;
const [opName, opPassword] = process.env.REWATER_OPERATOR.split(":");
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
  page.on("pageerror", (e) => { console.log("page error: " + e.message); failed = true; });
  page.setDefaultTimeout(15000);

  // --- the north operator logs in and opens the ledger from the menu
  await page.goto(url + "/#/outfalls");
  await page.fill("#login-name", opName);
  await page.fill("#login-password", opPassword);
  await page.click("#login-submit");
  await page.waitForSelector("#outfall-table");
  check(await page.locator('#nav a[data-page="outfalls"]').count() === 1, "the ledger is in the menu");
  check(await page.locator("#outfall-table tr").count() === 3, "the operator sees the two outfalls of district north");
  check((await page.textContent("#outfall-total")).includes("2"), "the total says 2");

  // --- find an outfall by search
  await page.fill("#outfall-search", "一号");
  await page.click("#outfall-filter-go");
  await page.waitForFunction(() => document.querySelectorAll("#outfall-table tr").length === 2);
  check((await page.textContent("#outfall-table")).includes("工矿企业排污口"), "the class is shown by its HJ 1312 name");
  check(await page.locator("#outfall-map canvas").count() > 0, "the ledger page draws its outfalls on a map");
  check(await page.getAttribute("#outfall-map", "data-tiles") === "on", "the outfalls lie on the configured base map");
  check(await page.inputValue("#self-report-district") === "north", "the self-report form is set to the operator's district");
  const report = await page.evaluate(async () => { const r = await fetch("/api/outfall-report?district=north&year=2025&lang=zh&format=html"); return [r.status, await r.text()]; });
  check(report[0] === 200 && report[1].includes("north 2025 年度入河排污口监督管理情况自查报告") && report[1].includes("已排查"), "the district self-report downloads as HTML");
  const refused = await page.evaluate(async () => (await fetch("/api/outfall-report?district=south&year=2025")).status);
  check(refused === 403, "another district's self-report is refused");
  await page.screenshot({ path: join(shots, "outfalls-list.png") });

  // --- open it: the chain to its channel and discharger
  await page.click("#outfall-table .outfall-link");
  await page.waitForSelector("#outfall-chain");
  const chain = await page.textContent("#outfall-chain");
  check(chain.includes("P1") && chain.includes("甲公司") && chain.includes("DW001"), "the chain shows channel P1 and discharger 甲公司 with its outlets");
  const downstream = await page.textContent("#outfall-downstream");
  check(downstream.includes("S1") && downstream.includes("S2"), "both downstream sections are listed");
  const hours = await page.$$eval("#outfall-downstream tr td:nth-child(2)", (td) => td.map((x) => x.textContent));
  check(hours.join(",") === "1,5", "travel times 1 h to S1 and 5 h to S2 (" + hours + ")");
  check(downstream.includes("0.992") && downstream.includes("0.959"), "COD increments 0.992 and 0.959 mg/L");
  check((await page.textContent("#outfall-spills")).includes("无溢流记录"), "an outfall without an overflow outlet says it has no spills");
  await page.screenshot({ path: join(shots, "outfall-page.png") });

  // --- trace from the failing section S1 (observed 3.0 mg/L COD over 0.8 background)
  await page.click('#outfall-downstream a[href="#/trace/S1"]');
  await page.waitForSelector("#trace-form");
  check(await page.inputValue("#trace-section") === "S1", "the tracing view opens on section S1");
  await page.fill("#trace-observed", "3.0");
  await page.fill("#trace-background", "0.8");
  await page.click("#trace-go");
  await page.waitForSelector("#trace-table");
  check(await page.locator("#trace-map canvas").count() > 0, "the traced sources are drawn on a map");
  const first = await page.textContent("#trace-table tr:nth-child(2)");
  check(first.includes("1101080002110108B0002"), "the largest delivered load is ranked first (二号口)");
  const second = await page.textContent("#trace-table tr:nth-child(3)");
  check(second.includes("91110108MA01ABCD1E"), "the second source names its discharger through the chain");
  check((await page.textContent("#trace-summary")).includes("%"), "the unexplained share is shown");
  await page.screenshot({ path: join(shots, "outfall-trace.png") });

  // --- back to the outfall: open a rectification record and record a step
  await page.click("#trace-table tr:nth-child(3) .outfall-link");
  await page.waitForSelector("#rect-open");
  await page.fill("#rect-problem", "雨污混接");
  await page.selectOption("#rect-measure", "regulate");
  await page.fill("#rect-unit", "北区水务局");
  await page.fill("#rect-deadline", "2026-06-30");
  await page.click("#rect-open-go");
  await page.waitForSelector("#rect-list .rect");
  check((await page.textContent("#outfall-compliance-value")).length > 0, "the outfall's compliance is shown");
  await page.selectOption("#rect-list .rect-to", "done");
  await page.fill("#rect-list .rect-evidence", "after.jpg");
  await page.fill("#rect-list .rect-note", "已完成混接改造");
  await page.click("#rect-list .rect-go");
  await page.waitForFunction(() => document.querySelectorAll("#rect-list .rect-steps tr").length === 3);
  const steps = await page.textContent("#rect-list .rect-steps");
  check(steps.includes(opName) && steps.includes("after.jpg"), "the step is recorded with who and its evidence");
  check((await page.textContent("#outfall-versions")).includes("rectification"), "marking the outfall illegal is a new version with its reason");
  await page.screenshot({ path: join(shots, "outfall-rectification.png") });

  // --- another district's outfall is refused
  await page.goto(url + "/#/outfall/1101080003110105X0003");
  await page.waitForSelector("#page-error");
  check((await page.textContent("#page-error")).includes("north"), "a south outfall is not shown to the north operator");
} catch (e) {
  console.log(e.stack || String(e));
  failed = true;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
