// Browser test of the money page's compensation ledger in Debian's Chromium (headless, driven
// by playwright-core). Started by crates/rewater-cli/tests/money_browser.rs with a running
// `rewater serve` and: REWATER_URL, REWATER_ADMIN, REWATER_OPERATOR (name:password; the
// operator's district is tongzhou), REWATER_CHROMIUM, REWATER_NODE_MODULES. Exits non-zero on
// the first failed check.
import { createRequire } from "node:module";
import { join } from "node:path";

const { chromium } = createRequire(join(process.env.REWATER_NODE_MODULES, "..", "package.json"))("playwright-core");

const url = process.env.REWATER_URL;
const [adminName, adminPassword] = process.env.REWATER_ADMIN.split(":");
const [opName, opPassword] = process.env.REWATER_OPERATOR.split(":");

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

// The rows of a table as text cells.
const rowsOf = (page, id) => page.$$eval(`#${id} tr`, (trs) => trs.slice(1).map((tr) => [...tr.children].map((td) => td.textContent)));

try {
  async function session(name, password) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    page.on("pageerror", (e) => { console.log("page error: " + e.message); failed = true; });
    page.setDefaultTimeout(30000);
    await page.goto(url + "/#/money");
    await page.fill("#login-name", name);
    await page.fill("#login-password", password);
    await page.click("#login-submit");
    return { context, page };
  }

  // --- the administrator: the example year under the 2014 rule, in Chinese then English
  const admin = await session(adminName, adminPassword);
  let page = admin.page;
  await page.waitForSelector("#money-form");
  check((await page.textContent("#nav")).includes("资金"), "the money page is in the navigation, in Chinese");
  check((await page.textContent("#money-tabs")).includes("水生态区域补偿"), "the compensation tab is first");
  const rules = await rowsOf(page, "money-rules");
  check(rules.some((r) => r[0].includes("bj-compensation-2014") && r[3] === "UNVERIFIED"), "the 2014 rule is listed as UNVERIFIED");
  await page.click("#money-example");
  await page.waitForFunction(() => document.getElementById("money-sections") && document.getElementById("money-sections").value.includes("S-SH"));
  await page.click("#money-submit");
  await page.waitForSelector("#money-compensation-settlement");
  check(await page.isVisible("#money-unverified"), "the result says it rests on unverified rules");
  const titles = await page.$$eval(".money-title", (hs) => hs.map((h) => h.textContent));
  check(titles.length === 3 && titles.every((x) => x.includes("[UNVERIFIED]")), `every table is marked UNVERIFIED (${titles})`);
  let settle = await rowsOf(page, "money-compensation-settlement");
  const fengtai = settle.find((r) => r[0] === "丰台区");
  // 凉水河 July NH3-N 2.6 mg/L: 劣V against IV = 2 × 300,000 + the unverified 300,000.
  check(fengtai && fengtai[1] === "900,000" && fengtai[3] === "-900,000", `丰台区 pays 900,000 (${fengtai})`);
  const tz = settle.find((r) => r[0] === "通州区");
  check(tz && tz[1] === "600,000" && tz[2] === "1,050,000", `通州区 pays 600,000 and receives 1,050,000 (${tz})`);
  const pool = settle.find((r) => r[0] === "市级");
  check(pool && pool[2] === "600,000", `the section leaving the city pays the municipal pool (${pool})`);
  const matrix = await rowsOf(page, "money-compensation-matrix");
  check(matrix.some((r) => r[0] === "2022-07" && r[1] === "丰台区" && r[2] === "通州区" && r[3] === "900,000"), "July's matrix: 丰台区 → 通州区 900,000");
  const detail = await rowsOf(page, "money-compensation-sections");
  check(detail.some((r) => r[1] === "S-WG" && r[0] === "2022-03" && r[8].includes("不劣于入境") && r[9] === "150,000"), "苇沟 in March: missed but no worse than its inflow, 150,000");
  // English: the same ledger in English words.
  await page.click("#lang");
  // The page is drawn again in English: wait for it rather than for the old form.
  await page.waitForFunction(() => (document.getElementById("money-tabs") || {}).textContent?.includes("Water-ecology compensation"), null, { timeout: 30000 }).catch(() => {});
  check((await page.textContent("#money-tabs")).includes("Water-ecology compensation"), "the tabs in English");
  check((await page.inputValue("#money-sections")).includes("S-SH"), "the inputs stay when the language changes");
  await page.click("#money-submit");
  await page.waitForSelector("#money-compensation-settlement");
  settle = await rowsOf(page, "money-compensation-settlement");
  check(settle.some((r) => r[0] === "Fengtai" && r[1] === "900,000") && settle.some((r) => r[0] === "municipal pool"), "the settlement in English");
  check((await page.textContent("#main")).includes("Annual settlement [UNVERIFIED]"), "the English title carries UNVERIFIED");
  // A bad table is refused with its row and field, shown on the page.
  await page.fill("#money-values", "section,month,factor,value\nS-SH,2022-13,cod,1\n");
  await page.click("#money-submit");
  await page.waitForFunction(() => document.getElementById("money-error").textContent.length > 0);
  check((await page.textContent("#money-error")).includes("row 2, field month"), "a bad month is refused naming row and field");
  // The 2022 rule carries no formula: refused. (The sections are emptied first, so that the
  // wait below sees the re-rendered page, not the old one.)
  await page.fill("#money-sections", "");
  await page.click("#money-example");
  await page.waitForFunction(() => document.getElementById("money-sections").value.includes("S-SH"));
  await page.selectOption("#money-rule", "bj-compensation-2022");
  await page.click("#money-submit");
  await page.waitForFunction(() => document.getElementById("money-error").textContent.length > 0);
  check((await page.textContent("#money-error")).includes("no formula"), "the 2022 rule is refused: its formula is not confirmed");
  // The other ledgers (their examples came with the one loaded above): an example resting on an unverified rule (the base-rate rule, the
  // example contract) is marked on every table; the funding example (inferred and verified
  // rules only) is not.
  for (const [tab, input, first, marked] of [
    ["subsidies", "money-facilities", "subsidies-facilities", true],
    ["fees", "money-months", "fees-months", true],
    ["funding", "money-projects", "funding-projects", false],
  ]) {
    await page.click(`#money-tabs a[data-tab="${tab}"]`);
    await page.waitForSelector(`#money-form[data-tab="${tab}"]`);
    // The example loaded above filled every ledger's inputs; they stay across tabs.
    check((await page.inputValue("#" + input)).length > 0, `the ${tab} example is in its form`);
    await page.click("#money-submit");
    await page.waitForSelector(`#money-${first}`);
    const heads = await page.$$eval(".money-title", (hs) => hs.map((h) => h.textContent));
    if (marked) {
      check(heads.length > 0 && heads.every((x) => x.includes("[UNVERIFIED]")) && (await page.isVisible("#money-unverified")), `the ${tab} tables are marked UNVERIFIED (${heads})`);
    } else {
      check(heads.length > 0 && heads.every((x) => !x.includes("UNVERIFIED")) && !(await page.$("#money-unverified")), `the ${tab} tables carry no UNVERIFIED mark (${heads})`);
    }
  }
  // The cost ledger: a bundled scenario's run, unit cost per plant and per supply route.
  await page.click('#money-tabs a[data-tab="cost"]');
  await page.waitForSelector('#money-form[data-tab="cost"] #money-scenario option', { state: "attached" });
  await page.click("#money-submit");
  await page.waitForSelector("#money-cost-plants", { timeout: 60000 });
  const plants = await rowsOf(page, "money-cost-plants");
  const routes = await rowsOf(page, "money-cost-routes");
  check(plants.length > 0 && routes.length > 0, `the cost ledger lists plants (${plants.length}) and supply routes (${routes.length})`);
  const costHeads = await page.$$eval(".money-title", (hs) => hs.map((h) => h.textContent));
  check(costHeads.some((x) => x.includes("[UNVERIFIED]")), `the cost tables resting on unverified figures are marked (${costHeads})`);
  await admin.context.close();

  // --- the operator of Tongzhou: only the months where Tongzhou pays or receives
  const op = await session(opName, opPassword);
  page = op.page;
  await page.waitForSelector("#money-form");
  await page.click("#money-example");
  await page.waitForFunction(() => document.getElementById("money-sections").value.includes("S-SH"));
  await page.click("#money-submit");
  await page.waitForSelector("#money-compensation-settlement");
  check((await page.textContent("#money-scope")).includes("tongzhou"), "the page says it shows one district");
  settle = await rowsOf(page, "money-compensation-settlement");
  check(settle.length === 1 && settle[0][0] === "通州区", `the operator's settlement is Tongzhou's only (${settle})`);
  const m2 = await rowsOf(page, "money-compensation-matrix");
  check(m2.length > 0 && m2.every((r) => r[1] === "通州区" || r[2] === "通州区"), "every matrix row involves Tongzhou");
  await op.context.close();
} catch (e) {
  console.log("FAILED: " + e.message);
  failed = true;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
