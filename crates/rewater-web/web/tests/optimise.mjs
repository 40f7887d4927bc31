// Browser test of the planning-optimisation page (#/optimise) in Debian's Chromium (headless,
// driven by playwright-core). Started by crates/rewater-cli/tests/optimise_browser.rs with a
// running `rewater serve` and: REWATER_URL, REWATER_ADMIN (name:password), REWATER_CHROMIUM,
// REWATER_NODE_MODULES, REWATER_SCREENSHOTS. The Lianyungang study is started with 150
// generations of 32; its scatter fills, the run finishes, the front and the targets are tabled, in
// Chinese and in English. Exits non-zero on the first failed check.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const { chromium } = createRequire(join(process.env.REWATER_NODE_MODULES, "..", "package.json"))("playwright-core");

const url = process.env.REWATER_URL;
const [adminName, adminPassword] = process.env.REWATER_ADMIN.split(":");
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
const rowsOf = (page, id) => page.$$eval(`#${id} tr`, (trs) => trs.slice(1).map((tr) => [...tr.children].map((td) => td.textContent)));

try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1100 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => { console.log("page error: " + e.message); failed = true; });
  page.setDefaultTimeout(120000);
  await page.goto(url + "/#/optimise");
  await page.evaluate(() => localStorage.setItem("rw_static", "1"));
  await page.fill("#login-name", adminName);
  await page.fill("#login-password", adminPassword);
  await page.click("#login-submit");
  await page.waitForSelector("#opt-form");
  check((await page.textContent("#nav")).includes("规划优化"), "the page is in the navigation, in Chinese");
  const options = await page.$$eval("#opt-study option", (os) => os.map((o) => [o.value, o.textContent]));
  check(options.some((o) => o[0] === "lianyungang-city" && o[1].includes("连云港")), `the Lianyungang study is offered (${options})`);
  await page.selectOption("#opt-study", "lianyungang-city");
  check((await page.inputValue("#opt-generations")) === "25", "the study's own generations are proposed");
  // Enough generations that the run outlasts a few polls (the engine copies repeated days).
  const generations = 150;
  await page.fill("#opt-generations", String(generations));
  await page.fill("#opt-population", "32");
  await page.click("#opt-start");
  // Points appear while the run goes on (the page polls every second), then it finishes.
  const seen = [];
  for (;;) {
    const status = await page.evaluate(() => { const s = document.getElementById("opt-status"); return s ? s.dataset.status : ""; });
    seen.push(Number((await page.getAttribute("#opt-chart", "data-points")) || 0));
    if (status === "done" || status === "failed") break;
    if (seen.length >= 600) throw new Error("the run did not end within 3 minutes");
    await page.waitForTimeout(300);
  }
  await page.waitForSelector('#opt-status[data-status="done"]');
  const pts = Number(await page.getAttribute("#opt-chart", "data-points"));
  const evals = Number(await page.textContent("#opt-evaluations"));
  const growing = seen.filter((n) => n > 0 && n < pts);
  check(growing.length > 0, `the scatter grows while the run goes on (seen ${[...new Set(seen)].join(", ")} of ${pts})`);
  check(pts === evals && pts <= 32 * (generations + 1), `every evaluated design is on the scatter (${pts} = ${evals})`);
  check((await page.textContent("#opt-generation")) === String(generations), `the run finished its ${generations} generations`);
  check((await page.textContent("#opt-status")) === "完成", "the status in Chinese");
  const front = await rowsOf(page, "opt-front");
  check(front.length > 0, `the cost–reuse front is tabled (${front.length} points)`);
  const costs = front.map((r) => Number(r[1].replace(/[^0-9.]/g, "")));
  check(costs.every((c, i) => i === 0 || c >= costs[i - 1]), "front points by increasing cost");
  const designs = front.map((r) => r[5]).join(" | ");
  check(/管道 .* 管径: DN\d+/.test(designs) && designs.includes("湿地") && !designs.includes("Pipe"), `the designs in Chinese names (${front[front.length - 1][5]})`);
  const targets = await rowsOf(page, "opt-targets");
  check(targets.length === 3 && targets[0][0].includes("15"), `the three reuse targets are tabled (${targets.map((r) => r[0])})`);
  await page.waitForTimeout(300);
  await page.screenshot({ path: `${shots}/optimise.png`, fullPage: true });
  // English: the same run (from the hash) with English labels.
  await page.click("#lang");
  await page.waitForSelector('#opt-status[data-status="done"]');
  check((await page.textContent("#main")).includes("Cost–reuse front"), "the labels in English");
  check((await page.textContent("#opt-status")) === "Done", "the status in English");
  const front2 = await rowsOf(page, "opt-front");
  check(front2.length === front.length, "the same front after the language change");
  const designs2 = front2.map((r) => r[5]).join(" | ");
  check(/Pipe .* diameter: DN\d+/.test(designs2) && designs2.includes("Wetland") && !designs2.includes("管道"), `the designs in English names (${front2[front2.length - 1][5]})`);
  await page.screenshot({ path: `${shots}/optimise-en.png`, fullPage: true });
  // A bad population is refused with the field named.
  await page.fill("#opt-population", "7");
  await page.click("#opt-start");
  await page.waitForFunction(() => document.getElementById("opt-error").textContent.length > 0);
  check((await page.textContent("#opt-error")).includes("population"), "an odd population is refused naming the field");
  await context.close();
} catch (e) {
  console.log("FAILED: " + e.message);
  failed = true;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
