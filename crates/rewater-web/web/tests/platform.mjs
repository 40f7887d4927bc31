// Browser test of the web platform's everyday use (issue 13) in Debian's Chromium (headless,
// playwright-core). Started by crates/rewater-cli/tests/web_platform.rs after one simulated day
// of the README's simulator, with REWATER_URL, REWATER_ADMIN (name:password),
// REWATER_SCREENSHOTS, REWATER_CHROMIUM, REWATER_NODE_MODULES, REWATER_ALERTS_TOTAL,
// REWATER_FULL_DAY.
// Waits for conditions, never for fixed times; exits non-zero on the first failed check.
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const { chromium } = createRequire(join(process.env.REWATER_NODE_MODULES, "..", "package.json"))("playwright-core");
const url = process.env.REWATER_URL;
const [adminName, adminPassword] = process.env.REWATER_ADMIN.split(":");
const shots = process.env.REWATER_SCREENSHOTS;
const alertsTotal = Number(process.env.REWATER_ALERTS_TOTAL);
// The simulated day's first calendar day (YYYY-MM-DD) and its data validity by hand (the
// hours from the start's hour to midnight, of 24).
const fullDay = process.env.REWATER_FULL_DAY;
const validityWant = Number(process.env.REWATER_VALIDITY);
mkdirSync(shots, { recursive: true });

function check(ok, what) {
  if (!ok) throw new Error("check failed: " + what);
  console.log("ok - " + what);
}

// Latin words allowed on a Chinese page: units, standard ids and classes, protocol words,
// the product name, account names, the language switch.
const ALLOWED = /^(RWDEMO|rewater|mg|L|s|pH|NTU|CSV|XLSX|HTML|MN|HJ|GB|DB|GB\/T|English|admin|api|demo|new_A|new_B|IV|UNVERIFIED|CODCr|NH|TP|TN|N|km|m|d|PtCo|ornamental_lake|urban_greening|min|max|h|count|MPN|CFU|mS|cm|NTU|Hazen|degC)$/;

// Visible text of the main area outside code labels (.code), data names from the model
// (.data-name), inputs and the chart canvases.
async function visibleText(page) {
  return page.evaluate(() => {
    const out = [];
    const walk = (n) => {
      if (n.nodeType === Node.TEXT_NODE) { out.push(n.textContent); return; }
      if (n.nodeType !== Node.ELEMENT_NODE) return;
      const el = n;
      if (el.matches(".code, .data-name, script, style, option:not(:checked), [hidden]")) return;
      if (getComputedStyle(el).display === "none") return;
      el.childNodes.forEach(walk);
    };
    walk(document.getElementById("main"));
    walk(document.getElementById("nav"));
    return out.join(" ");
  });
}

async function checkChinese(page, what) {
  const text = await visibleText(page);
  const codes = text.match(/\bw\d{5}\b/g) || [];
  check(codes.length === 0, `${what}: no raw factor code outside the code labels (${codes.slice(0, 5).join(", ")})`);
  const words = (text.match(/[A-Za-z][A-Za-z_]{2,}/g) || []).filter((w) => !ALLOWED.test(w));
  // Standard ids (GB18918, DB11) and the model's own names are data, not labels.
  const english = words.filter((w) => !/^(GB|DB|HJ)\d*/.test(w));
  check(english.length === 0, `${what}: no untranslated English label (${[...new Set(english)].slice(0, 8).join(", ")})`);
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
  page.setDefaultTimeout(20000);
  // Charts drawn: no animation is pending once ECharts has rendered a frame.
  const chartsDrawn = () => page.waitForFunction(() => [...document.querySelectorAll("canvas")].length > 0);

  await page.goto(url + "/#/overview");
  // Charts without animation, so that screenshots show them finished.
  await page.evaluate(() => localStorage.setItem("rw_static", "1"));
  await page.fill("#login-name", adminName);
  await page.fill("#login-password", adminPassword);
  const t0 = Date.now();
  await page.click("#login-submit");
  await page.waitForSelector("#map canvas");
  await page.waitForSelector("#site-table tr:nth-child(2)");
  console.log(`overview usable ${Date.now() - t0} ms after pressing log in`);

  // --- overview: names, units, today's monitoring, map, process diagram, site table
  check((await page.textContent("#site-table")).includes("南部污水厂出水口"), "site names in Chinese from the labels");
  check((await page.textContent("#site-table")).includes("南区"), "district names in Chinese");
  check((await page.textContent("#site-table")).includes("化学需氧量") && (await page.textContent("#site-table")).includes("mg/L"), "latest values with factor names and units");
  check(/\d{4}-\d{2}-\d{2} \d{2}:\d{2} \(\+08:00\)/.test(await page.textContent("#site-table")), "last data time in the one format");
  check((await page.textContent('[data-indicator="today"] .k')) === "今日监测", "the today card is today's monitoring");
  await page.waitForFunction(() => Number(document.getElementById("process").dataset.links) > 3);
  const map = await page.evaluate(() => {
    const o = echarts.getInstanceByDom(document.getElementById("map")).getOption();
    return { symbols: [...new Set(o.series.filter((s) => s.type === "scatter").map((s) => s.symbol))].length, labelled: o.series.filter((s) => s.label && s.label.show).length, h: document.getElementById("map").clientHeight };
  });
  check(map.symbols >= 4 && map.labelled >= 3 && map.h >= 700, `map large (${map.h} px), labelled, node kinds by shape (${map.symbols})`);
  await checkChinese(page, "overview");

  // --- site page: a factor below its limit still has the limit drawn, inside the axis
  await page.goto(url + "/#/site/plant-south-outlet");
  await page.waitForFunction(() => { const el = document.getElementById("site-chart"); return el && Number(el.dataset.points) > 0; });
  const below = await page.evaluate(() => {
    const o = echarts.getInstanceByDom(document.getElementById("site-chart")).getOption();
    const values = o.series[0].data.map((p) => p[1]);
    return { limit: o.series[0].markLine.data[0].yAxis, top: Math.max(...values), axis: o.yAxis[0].max };
  });
  check(below.limit === 50 && below.top < 50 && below.axis >= 50, `COD 1A limit 50 drawn above values up to ${below.top.toFixed(1)}, axis to ${below.axis}`);
  await page.check('.factor-pick[value="w21003"]');
  await page.waitForFunction(() => document.getElementById("site-chart").dataset.factors === "w01018,w21003");
  const grids = await page.evaluate(() => echarts.getInstanceByDom(document.getElementById("site-chart")).getOption().grid.length);
  check(grids === 2 && (await page.getAttribute("#site-chart", "data-limits")) === "50;5", "two factors on one chart, each with its limit");
  await page.click('button[data-range="week"]');
  await page.waitForSelector("#validity-table tr:nth-child(3)");
  const validity = await page.textContent(`#validity-table tr[data-factor="w01018"][data-date="${fullDay}"] .validity`);
  const want = Number(100 * validityWant).toLocaleString("zh-CN", { maximumFractionDigits: 1 }) + " %";
  check(validity.trim() === want, `data validity of ${fullDay} as computed by hand (${validity} = ${want})`);
  await page.waitForFunction(() => document.getElementById("daily-chart").dataset.limit === "50");
  check(true, "daily means drawn against the limit");
  await checkChinese(page, "site page");

  // --- alerts: texts in Chinese, start, duration, peak, standard; paging; bulk acknowledge
  await page.goto(url + "/#/alerts");
  await page.waitForSelector("#alert-list table");
  await page.selectOption("#alert-state", "all");
  await page.waitForFunction((n) => document.getElementById("alert-count").textContent.includes(`共 ${n} 条`), alertsTotal);
  await page.selectOption("#alert-size", "10");
  await page.waitForFunction(() => document.getElementById("alert-count").textContent.startsWith("第 1–10 条"));
  const first = await page.$$eval("#alert-list tr[data-alert]", (r) => r.map((x) => x.dataset.alert));
  await page.click("#alert-next");
  await page.waitForFunction(() => document.getElementById("alert-count").textContent.startsWith("第 11–20 条"));
  const second = await page.$$eval("#alert-list tr[data-alert]", (r) => r.map((x) => x.dataset.alert));
  check(first.length === 10 && second.length === 10 && !second.some((x) => first.includes(x)), "paging: two pages of ten, no alert twice");
  const row = await page.textContent('#alert-list tr[data-kind="exceedance"]');
  check(/化学需氧量 45 mg\/L，超出 DB11\/890-2012:new_B ≤ 30 mg\/L/.test(row), `an exceedance in Chinese with value, unit and standard (${row.replace(/\s+/g, " ").slice(0, 160)})`);
  check(/\d+分/.test(await page.textContent('#alert-list tr[data-kind="exceedance"] .duration')) && (await page.textContent('#alert-list tr[data-kind="exceedance"] .peak')).includes("mg/L"), "duration and peak shown");
  await checkChinese(page, "alerts page");
  await page.check("#alert-all");
  await page.fill("#bulk-comment", "已通知水厂");
  await page.click("#bulk-ack");
  await page.waitForFunction(() => [...document.querySelectorAll("#alert-list .alert-state")].some((x) => x.textContent === "已确认"));
  await page.selectOption("#alert-state", "acknowledged");
  await page.waitForFunction(() => /共 (\d+) 条/.test(document.getElementById("alert-count").textContent) && Number(/共 (\d+) 条/.exec(document.getElementById("alert-count").textContent)[1]) >= 10);
  check(true, "bulk acknowledgement of a page of ten with one comment");
  await page.selectOption("#alert-state", "all");
  await page.waitForSelector("#alert-site");
  await page.selectOption("#alert-site", "river-section");
  await page.waitForFunction(() => document.getElementById("alert-count").textContent.includes("共 0 条"));
  check(true, "the serviced river section raised no alert (maintenance window)");
  await page.selectOption("#alert-site", "");
  await page.waitForSelector("#alert-list table");
  await page.goto(url + "/#/site/river-section");
  await page.waitForSelector("#maintenance-table tr[data-window]");
  check((await page.textContent("#maintenance-table")).includes("RWDEMO0000000006") && (await page.textContent("#maintenance-table")).includes("换膜"), "the window is listed on the site page with its reason");
  // A window added from the page (the next hour), then removed.
  await page.fill("#mw-from", "2030-01-01T08:00");
  await page.fill("#mw-to", "2030-01-01T10:00");
  await page.fill("#mw-reason", "校准");
  await page.click("#maintenance-form button");
  await page.waitForFunction(() => document.querySelectorAll("#maintenance-table tr[data-window]").length === 2);
  check((await page.textContent("#maintenance-table")).includes("2030-01-01 08:00 (+08:00)"), "a maintenance window added from the site page, in the server's zone");
  await page.click("#maintenance-table tr[data-window]:last-child .mw-remove");
  await page.waitForFunction(() => document.querySelectorAll("#maintenance-table tr[data-window]").length === 1);
  check(true, "and removed");

  // --- big screen
  await page.goto(url + "/#/screen");
  await page.waitForSelector("#screen[data-rendered] #screen-map canvas");
  check(await page.evaluate(() => document.body.classList.contains("bigscreen")), "big screen in its dark theme");
  check((await page.locator("#incidents li").count()) > 0, "open incidents listed on the big screen");
  check((await page.textContent(".screen-cards")).includes("再生水利用率"), "headline indicators on the big screen");
  await checkChinese(page, "big screen");

  // --- the standards and devices pages in Chinese
  for (const p of ["standards", "devices"]) {
    await page.goto(url + "/#/" + p);
    await page.waitForFunction((h) => document.body.dataset.ready === h, "#/" + p);
    await checkChinese(page, p + " page");
  }

  // --- screenshots of every page in both languages
  const pages = await page.$$eval("#nav a", (a) => a.map((x) => x.dataset.page));
  const extra = ["site/plant-south-outlet"];
  for (const lang of ["zh", "en"]) {
    if (lang === "en") { await page.click("#lang"); await page.waitForFunction(() => document.documentElement.lang === "en"); }
    for (const p of pages.concat(extra)) {
      await page.goto(url + "/#/" + p);
      await page.waitForFunction((h) => document.body.dataset.ready === h, "#/" + p);
      await page.waitForLoadState("networkidle");
      await page.screenshot({ path: `${shots}/${p.replace(/\//g, "-")}-${lang}.png`, fullPage: p !== "screen" });
    }
  }
  check((await page.textContent("#nav")).includes("Big screen"), "English labels after the switch");
  await page.goto(url + "/#/site/plant-south-outlet");
  await page.waitForSelector("#validity-table");
  check((await page.textContent("#site-name")) === "South plant outlet" && (await page.textContent("#latest")).includes("chemical oxygen demand"), "site and factor names in English");
  await page.click("#lang");

  // --- the public page: no cookie, no operator data
  const anon = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const pub = await anon.newPage();
  pub.on("pageerror", (e) => { console.log("public page error: " + e.message); failed = true; });
  await pub.goto(url + "/public");
  await pub.waitForSelector("body[data-loaded]");
  const ptext = await pub.textContent("main");
  check(ptext.includes("调蓄湖") && ptext.includes("绿化供水点") && ptext.includes("本月达标率"), "public supply points with their monthly compliance");
  check(!/RWDEMO|admin|告警|北部再生水厂出水口|数采仪/.test(ptext), "the public page shows no operator-only field");
  check((await anon.cookies()).length === 0, "the public page needs no cookie");
  await pub.screenshot({ path: `${shots}/public-zh.png`, fullPage: true });
  await pub.click("#lang");
  await pub.waitForFunction(() => document.documentElement.lang === "en" && document.body.dataset.loaded);
  await pub.waitForFunction(() => document.querySelector("main").textContent.includes("Compliance this month"));
  await pub.screenshot({ path: `${shots}/public-en.png`, fullPage: true });
  check(!failed, "no script errors in the pages");
} catch (e) {
  console.log(e.stack || String(e));
  failed = true;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
