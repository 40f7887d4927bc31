// Public disclosure page (再生水水质信息公开, issue 13): no login, no cookie, read-only. For
// each supply point an administrator marked public: the latest value of each factor against
// its standard, and this month's compliance rate of the daily means (GET /api/public). No
// operator data (devices, alerts, accounts) is sent or shown.
"use strict";

const L = {
  zh: { brand: "再生水水质信息公开", language: "English", factor: "因子", value: "最新值", unit: "单位", limit: "限值", verdict: "评价", time: "时间",
    meets: "达标", exceeds: "超标", standard: "执行标准", district: "所在区", month_rate: "本月达标率", days: "评价天数", generated: "数据生成时间",
    none: "暂无公开点位", off: "本服务器未开放信息公开页面", note: "达标率 = 本月各因子日均值达标的天数 ÷ 评价天数；日均值为有效（正常）监测数据的算术平均。" },
  en: { brand: "Reclaimed-water quality disclosure", language: "中文", factor: "Factor", value: "Latest", unit: "Unit", limit: "Limit", verdict: "Verdict", time: "Time",
    meets: "meets", exceeds: "exceeds", standard: "Standard", district: "District", month_rate: "Compliance this month", days: "days judged", generated: "Generated",
    none: "No public supply points", off: "This server does not publish the disclosure page", note: "Compliance = days whose daily mean of a factor meets its limit ÷ days judged, this month; daily means are arithmetic means of valid (normal) data." },
};
let lang = localStorage.getItem("rw_lang") || "zh";
const t = (k) => L[lang][k] || k;
const esc = (s) => String(s === undefined || s === null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const num = (x) => (x === null || x === undefined ? "–" : Number(x).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", { maximumFractionDigits: 3 }));
function fmtTime(rfc) {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(rfc || "");
  return m ? `${m[1]} ${m[2]} (${m[3] === "Z" ? "+00:00" : m[3]})` : String(rfc || "–");
}

async function show() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("brand");
  document.getElementById("brand").textContent = t("brand");
  document.getElementById("lang").textContent = t("language");
  const main = document.getElementById("main");
  const r = await fetch("/api/public", { credentials: "omit" });
  if (!r.ok) { main.innerHTML = `<div class="panel" id="public-off">${esc(r.status === 404 ? t("off") : r.statusText)}</div>`; return; }
  const body = await r.json();
  const zh = lang === "zh";
  main.innerHTML = (body.sites.length ? body.sites.map((s) => `<div class="panel public-site" data-site="${esc(s.id)}"><h2>${esc(zh ? s.name_zh : s.name_en)}</h2>
      <div class="muted">${esc(t("district"))}: ${esc(zh ? s.district_zh : s.district_en)} · ${esc(t("standard"))}: ${esc(s.standard || "–")}</div>
      <p class="month-rate">${esc(t("month_rate"))} (${esc(s.month)}): <strong>${s.compliance_rate === null ? "–" : num(100 * s.compliance_rate) + " %"}</strong> <span class="muted">${s.days_judged} ${esc(t("days"))}</span></p>
      <table><tr><th>${esc(t("factor"))}</th><th>${esc(t("value"))}</th><th>${esc(t("unit"))}</th><th>${esc(t("limit"))}</th><th>${esc(t("verdict"))}</th><th>${esc(t("time"))}</th></tr>
      ${s.values.map((v) => `<tr><td>${esc(zh ? v.name_zh : v.name_en)} <span class="code">${esc(v.factor)}</span></td><td>${num(v.value)}</td><td>${esc(v.unit)}</td><td>${esc(v.limit || "–")}</td>
        <td class="${v.meets === false ? "bad" : v.meets ? "good" : ""}">${v.meets === null ? "–" : esc(v.meets ? t("meets") : t("exceeds"))}</td><td class="time">${esc(fmtTime(v.time))}</td></tr>`).join("")}</table></div>`).join("")
    : `<div class="panel">${esc(t("none"))}</div>`) + `<p class="muted">${esc(t("note"))} ${esc(t("generated"))}: ${esc(fmtTime(body.generated_at))}</p>`;
  document.body.dataset.loaded = "1";
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("rw_lang", lang); show(); });
  show();
});
