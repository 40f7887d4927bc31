// Browser test of the scorecard page (pages/scorecard.js) in Debian's Chromium, headless,
// driven by playwright-core. Started by crates/rewater-cli/tests/indicators.rs with a running
// `rewater serve --demo` and: REWATER_URL, REWATER_ADMIN, REWATER_OPERATOR (name:password),
// REWATER_SCREENSHOTS, REWATER_CHROMIUM, REWATER_NODE_MODULES. Exits non-zero on the first
// failed check.
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const { chromium } = createRequire(join(process.env.REWATER_NODE_MODULES, "..", "package.json"))("playwright-core");
const url = process.env.REWATER_URL;
const [adminName, adminPassword] = process.env.REWATER_ADMIN.split(":");
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
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let failed = false;
try {
  for (const [who, name, password] of [["admin", adminName, adminPassword], ["operator", opName, opPassword]]) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    page.on("pageerror", (e) => { console.log("page error: " + e.message); failed = true; });
    page.setDefaultTimeout(20000);
    await page.goto(url + "/#/overview");
    await page.fill("#login-name", name);
    await page.fill("#login-password", password);
    await page.click("#login-submit");
    await page.waitForSelector("#map canvas");
    await page.goto(url + "/#/scorecard/beijing-district");
    await page.waitForSelector("#sc-out table tbody tr");
    const text = await page.textContent("#sc-out");
    check(text.includes("再生水利用率"), `${who}: the scorecard is in Chinese`);
    check(text.includes("达标"), `${who}: statuses are shown`);
    check(await page.$("#sc-chart canvas") !== null, `${who}: a trajectory chart is drawn`);
    const districts = await page.$$eval("#sc-out tbody tr td:first-child", (tds) => [...new Set(tds.map((td) => td.textContent))]);
    if (who === "operator") check(districts.length === 1 && districts[0] === "south", `operator sees only south (${districts})`);
    else check(districts.includes("全域") && districts.includes("north"), `admin sees the whole region and the districts (${districts})`);
    // English.
    await page.click("#lang");
    await page.goto(url + "/#/scorecard/beijing-district");
    // The rows of the Chinese page may still be there while it re-renders: wait for the
    // English text itself (under load the re-render came after a bare row check).
    await page.waitForFunction(() => (document.querySelector("#sc-out")?.textContent || "").includes("utilisation"))
      .catch(() => {});
    await page.waitForSelector("#sc-out table tbody tr");
    const en = await page.textContent("#sc-out");
    check(en.includes("reclaimed-water utilisation rate") || en.includes("utilisation"), `${who}: the scorecard is in English`);
    // Another indicator's trajectory on click.
    await page.click("#sc-out tbody tr a[data-ind]");
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(shots, `scorecard-${who}.png`) });
    await context.close();
  }
} catch (e) {
  console.log(e.message);
  failed = true;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
