// Site page (点位, issue 13): the latest value of each factor against the site's standard; a
// time-range picker (day, week, month, custom) over several factors at once, each drawn with
// its limit (the axis always reaches the limit); daily means against the limit with the
// online and data-validity rates (有效数据率) of each day; compliance; exports (series, daily
// and monthly reports as CSV, XLSX, printable HTML); the site's alerts; the site form.
"use strict";

addLabels({
  zh: { range: "时间范围", range_day: "日", range_week: "周", range_month: "月", range_custom: "自定义", apply: "应用",
    daily_means: "日均值与限值", online_rate: "在线率", validity_rate: "有效数据率", date: "日期", daily_mean: "日均值",
    validity_rule: "在线率 = 有数据小时 ÷ 应有小时；有效数据率 = 有效（标记 N）小时 ÷ 应有小时（每日 24 小时）。参照 HJ 356-2019《水污染源在线监测系统（CODCr、NH3-N 等）数据有效性判别技术规范》的有效数据率（有效 ÷ 应有），条款未核实（UNVERIFIED）。",
    exports: "导出", export_series: "时间序列", export_daily: "日报", export_monthly: "月报", printable: "打印版",
    name_zh: "点位名称（中文）", name_en: "点位名称（英文）", public_point: "公开供水点", kind_of_site: "点位类型",
    maintenance: "运维时段", maintenance_note: "运维时段内该数采仪不产生告警（HJ 212 标记 M 的数据任何时候都不告警）", reason: "原因", add: "添加", remove: "删除", in_force: "生效中", device: "数采仪" },
  en: { range: "Period", range_day: "Day", range_week: "Week", range_month: "Month", range_custom: "Custom", apply: "Apply",
    daily_means: "Daily means against the limit", online_rate: "Online rate", validity_rate: "Data validity", date: "Date", daily_mean: "Daily mean",
    validity_rule: "Online rate = hours with data ÷ expected hours; data validity = valid (flag N) hours ÷ expected hours (24 a day). After the valid-÷-expected rate (有效数据率) of HJ 356-2019 (data validity of wastewater online monitoring); clause UNVERIFIED.",
    exports: "Export", export_series: "Series", export_daily: "Daily report", export_monthly: "Monthly report", printable: "printable",
    name_zh: "Site name (Chinese)", name_en: "Site name (English)", public_point: "Public supply point", kind_of_site: "Site kind",
    maintenance: "Maintenance windows", maintenance_note: "No alerts from the device during a window (data flagged M by HJ 212 never raise one)", reason: "Reason", add: "Add", remove: "Remove", in_force: "in force", device: "Device" },
});

const RANGES = { day: 86400, week: 7 * 86400, month: 30 * 86400 };

// Wall seconds as YYYY-MM-DD (charts and ranges run on the devices' wall clock).
const wallDate = (s) => fmtWall(s * 1000).slice(0, 10);

// A limit line's y values and the axis maximum that always includes them.
function axisMax(values, lines) {
  const top = Math.max(0, ...values.filter((v) => Number.isFinite(v)), ...lines) * 1.1;
  if (!(top > 0)) return 1;
  // A round number above: 1, 2, 2.5 or 5 times a power of ten.
  const p = 10 ** Math.floor(Math.log10(top)), m = top / p;
  return [1, 2, 2.5, 5, 10].find((x) => x >= m - 1e-9) * p;
}

async function sitePage(id) {
  await loadNames();
  const [info, latest] = await Promise.all([api("GET", `/api/sites/${encodeURIComponent(id)}`), api("GET", `/api/sites/${encodeURIComponent(id)}/latest`)]);
  const site = info.site;
  const label = names.sites[id] || {};
  const factors = latest.values.map((v) => v.reading.factor);
  const checkOf = (f) => { const v = latest.values.find((x) => x.reading.factor === f); return v && v.checks[0]; };
  const rows = latest.values.map((v) => {
    const c = v.checks[0], f = v.reading.factor;
    return `<tr data-factor="${esc(f)}"><td>${factorHtml(f)}</td><td>${fmt(v.reading.value, 3)}</td><td>${esc(factorUnit(f))}</td><td>${c ? esc(boundText(c.limit)) + " " + esc(c.unit || "") : "–"}</td>
      <td class="${c ? (c.meets ? "good" : "bad") : ""}">${c ? esc(c.meets ? t("meets") : t("exceeds")) : "–"}</td><td class="time">${esc(fmtTime(v.reading.time))}</td></tr>`;
  }).join("");
  const newest = Math.max(0, ...latest.values.map((v) => v.reading.data_time)) || Math.floor(Date.now() / 1000);
  const saved = JSON.parse(sessionStorage.getItem("rw_site_view") || "{}");
  const view = { range: saved.range || "day", factors: (saved.factors || []).filter((f) => factors.includes(f)) };
  if (!view.factors.length) view.factors = factors.includes("w01018") ? ["w01018"].concat(factors.includes("w21003") ? ["w21003"] : []) : factors.slice(0, 1);
  const exp = (kind, fmtName) => {
    const d = wallDate(newest);
    const q = kind === "daily" ? `kind=daily&date=${d}` : `kind=monthly&month=${d.slice(0, 7)}`;
    return `/api/exports/report?${q}&site=${encodeURIComponent(id)}&format=${fmtName}&lang=${state.lang}`;
  };
  main().innerHTML = `<div class="panel"><h2 id="site-name">${esc(siteName(site))}</h2><div class="muted">${esc(t("district"))}: ${esc(districtName(site.district))} · ${esc(t("kind_of_site"))}: ${esc(t("sk_" + site.kind))} · ${esc(t("standard"))}: ${esc(site.standard)}</div>
      <div class="row" id="exports">${esc(t("exports"))}:
        <a id="export-series" href="#">${esc(t("export_series"))} CSV</a>
        <a id="export-daily-csv" href="${exp("daily", "csv")}">${esc(t("export_daily"))} CSV</a> <a id="export-daily-xlsx" href="${exp("daily", "xlsx")}">XLSX</a> <a href="${exp("daily", "html")}" target="_blank">${esc(t("printable"))}</a>
        <a id="export-monthly-csv" href="${exp("monthly", "csv")}">${esc(t("export_monthly"))} CSV</a> <a id="export-monthly-xlsx" href="${exp("monthly", "xlsx")}">XLSX</a> <a id="export-monthly-html" href="${exp("monthly", "html")}" target="_blank">${esc(t("printable"))}</a></div></div>
    <div class="panel"><h3>${esc(t("latest"))}</h3><table id="latest"><tr><th>${esc(t("factor"))}</th><th>${esc(t("value"))}</th><th>${esc(t("unit"))}</th><th>${esc(t("limit"))}</th><th>${esc(t("state"))}</th><th>${esc(t("time"))}</th></tr>${rows}</table></div>
    <div class="panel"><div class="row"><h3>${esc(t("series"))}</h3>
      <span id="range-picker">${esc(t("range"))}: ${["day", "week", "month", "custom"].map((r) => `<button class="act range ${r === view.range ? "on" : ""}" data-range="${r}">${esc(t("range_" + r))}</button>`).join(" ")}</span>
      <span id="custom-range" ${view.range === "custom" ? "" : "hidden"}><input type="date" id="range-from" value="${esc(saved.from || wallDate(newest - 7 * 86400))}"> – <input type="date" id="range-to" value="${esc(saved.to || wallDate(newest))}"> <button class="act" id="range-apply">${esc(t("apply"))}</button></span></div>
      <div class="row" id="factor-picks">${factors.map((f) => `<label><input type="checkbox" class="factor-pick" value="${esc(f)}" ${view.factors.includes(f) ? "checked" : ""}> ${esc(factorWithUnit(f))}</label>`).join("")}</div>
      <div id="site-chart" class="chart tall"></div></div>
    <div class="panel"><h3>${esc(t("daily_means"))}</h3><div id="daily-chart" class="chart"></div><div id="daily-table"></div><p class="muted">${esc(t("validity_rule"))}</p></div>
    <div class="panel" id="maintenance-panel"><h3>${esc(t("maintenance"))}</h3><div id="maintenance-list"></div><p class="muted">${esc(t("maintenance_note"))}</p>
      ${canEdit(site) ? `<form id="maintenance-form" class="row"><label>${esc(t("device"))} <select id="mw-mn">${info.devices.map((mn) => `<option>${esc(mn)}</option>`).join("")}</select></label>
        <label>${esc(t("from"))} <input type="datetime-local" id="mw-from" required></label><label>${esc(t("to"))} <input type="datetime-local" id="mw-to" required></label>
        <label>${esc(t("reason"))} <input id="mw-reason" size="24"></label><button class="act" type="submit">${esc(t("add"))}</button><span class="error" id="mw-error"></span></form>` : ""}</div>
    <div class="cols"><div class="panel"><h3>${esc(t("compliance"))}</h3><div id="compliance">${esc(t("loading"))}</div></div>
    <div class="panel"><h3>${esc(t("alerts"))}</h3><div id="site-alerts"></div></div></div>
    ${canEdit(site) ? `<div class="panel"><h3>${esc(t("edit_site"))}</h3><form id="site-edit" class="row">
      <label>${esc(t("name_zh"))} <input id="site-edit-name-zh" value="${esc(label.name_zh || site.name)}"></label>
      <label>${esc(t("name_en"))} <input id="site-edit-name-en" value="${esc(label.name_en || site.name)}"></label>
      <label><input type="checkbox" id="site-edit-public" ${label.public ? "checked" : ""}> ${esc(t("public_point"))}</label>
      <label>${esc(t("standard"))} <input id="site-edit-standard" size="28" value="${esc(site.standard || "")}"></label>
      <label>${esc(t("longitude"))} <input id="site-edit-lon" size="8" value="${esc(site.location ? site.location[0] : "")}"></label>
      <label>${esc(t("latitude"))} <input id="site-edit-lat" size="8" value="${esc(site.location ? site.location[1] : "")}"></label>
      <button class="act" id="site-save" type="submit">${esc(t("save"))}</button><span id="site-edit-result"></span></form></div>` : ""}`;
  siteForm(id);
  siteMaintenance(id, canEdit(site));
  const c = chart(document.getElementById("site-chart"));
  const dc = chart(document.getElementById("daily-chart"));
  const period = () => {
    if (view.range === "custom") {
      const f = document.getElementById("range-from").value, to = document.getElementById("range-to").value;
      const a = Date.parse(f + "T00:00:00Z") / 1000, b = Date.parse(to + "T00:00:00Z") / 1000 + 86400;
      if (Number.isFinite(a) && Number.isFinite(b) && b > a) return [a, b];
    }
    const end = Math.floor(newest / 3600) * 3600 + 3600;
    return [end - (RANGES[view.range] || 86400), end];
  };
  const save = () => sessionStorage.setItem("rw_site_view", JSON.stringify({ range: view.range, factors: view.factors, from: document.getElementById("range-from").value, to: document.getElementById("range-to").value }));
  const draw = async () => {
    save();
    const [from, to] = period();
    document.getElementById("export-series").href = `/api/exports/series?site=${encodeURIComponent(id)}&factor=${view.factors[0] || ""}&from=${from}&to=${to}&format=csv&lang=${state.lang}`;
    const points = Math.min(1000, Math.max(100, Math.round((to - from) / 60)));
    const all = await Promise.all(view.factors.map((f) => api("GET", `/api/sites/${encodeURIComponent(id)}/series?factor=${encodeURIComponent(f)}&from=${from}&to=${to}&points=${points}`)));
    // The page may have been left while the series came.
    if (c.isDisposed()) return;
    drawSeries(c, view.factors, all, checkOf, [from, to]);
    await drawDaily(dc, id, view.factors[0], from, to);
  };
  document.querySelectorAll("#range-picker button").forEach((b) => b.addEventListener("click", () => {
    view.range = b.dataset.range;
    document.querySelectorAll("#range-picker button").forEach((x) => x.classList.toggle("on", x === b));
    document.getElementById("custom-range").hidden = view.range !== "custom";
    if (view.range !== "custom") draw();
  }));
  document.getElementById("range-apply").addEventListener("click", () => draw());
  document.querySelectorAll(".factor-pick").forEach((cb) => cb.addEventListener("change", () => {
    view.factors = [...document.querySelectorAll(".factor-pick:checked")].map((x) => x.value);
    if (!view.factors.length) { cb.checked = true; view.factors = [cb.value]; }
    draw();
  }));
  if (factors.length) await draw();
  siteCompliance(id, newest);
  const al = await api("GET", `/api/alerts?site=${encodeURIComponent(id)}&limit=20`);
  if (!document.getElementById("site-alerts")) return;
  document.getElementById("site-alerts").innerHTML = alertTable(al.alerts, false);
}

// Several factors, one grid each on a shared time axis, each with its limit drawn and an axis
// that always reaches the limit.
function drawSeries(c, factors, all, checkOf, range) {
  const n = factors.length, h = 100 / n;
  const limits = [];
  const option = {
    useUTC: true, animation: false,
    tooltip: { trigger: "axis", axisPointer: { label: { formatter: (p) => (p.axisDimension === "x" ? fmtWall(p.value) : fmt(p.value, 3)) } } },
    axisPointer: { link: [{ xAxisIndex: "all" }] },
    legend: { top: 0, data: factors.map(factorWithUnit) },
    grid: factors.map((f, i) => ({ left: 64, right: 72, top: `${i * h + 6}%`, height: `${h - 12}%` })),
    xAxis: factors.map((f, i) => ({ type: "time", gridIndex: i, min: range[0] * 1000, max: range[1] * 1000, axisLabel: { show: i === n - 1 } })),
    yAxis: [], series: [],
  };
  factors.forEach((f, i) => {
    const s = all[i], check = checkOf(f), lines = check ? boundLines(check.limit) : [];
    limits.push(lines.join(","));
    const data = s.points.map((p) => [p.t * 1000, p.mean]);
    option.yAxis.push({ type: "value", gridIndex: i, name: factorUnit(f), min: 0, max: axisMax(s.points.map((p) => p.max), lines) });
    option.series.push({ name: factorWithUnit(f), type: "line", xAxisIndex: i, yAxisIndex: i, showSymbol: s.points.length < 60, data,
      markLine: lines.length ? { symbol: "none", silent: true, lineStyle: { color: "#c0392b", type: "dashed", width: 1.5 }, label: { formatter: (p) => `${t("limit")} ${p.value}` }, data: lines.map((y) => ({ yAxis: y, name: t("limit") })) } : undefined });
  });
  c.setOption(option, true);
  const el = c.getDom();
  el.dataset.points = String(all.reduce((a, s) => a + s.points.length, 0));
  el.dataset.limit = limits[0] || "";
  el.dataset.limits = limits.join(";");
  el.dataset.factors = factors.join(",");
}

// Daily means of the first chosen factor against its limit, and each day's rates.
async function drawDaily(c, id, factor, from, to) {
  const day0 = wallDate(from), day1 = wallDate(Math.max(from + 86400, to - 1) + 1);
  const r = await api("GET", `/api/sites/${encodeURIComponent(id)}/daily?from=${day0}&to=${day1}`);
  if (c.isDisposed() || !document.getElementById("daily-table")) return;
  const days = r.days.filter((d) => d.factor === factor);
  const lim = days.map((d) => d.limit_value).find((v) => v !== null && v !== undefined);
  c.setOption({
    animation: false, tooltip: { trigger: "axis" }, legend: { data: [t("daily_mean"), t("validity_rate")] },
    xAxis: { type: "category", data: days.map((d) => d.date) },
    yAxis: [{ type: "value", name: factorUnit(factor), min: 0, max: axisMax(days.map((d) => d.mean), lim === undefined ? [] : [lim]) }, { type: "value", name: "%", min: 0, max: 100 }],
    series: [
      { name: t("daily_mean"), type: "bar", data: days.map((d) => ({ value: d.mean, itemStyle: { color: d.meets === false ? "#c0392b" : "#2e86c1" } })),
        markLine: lim === undefined ? undefined : { symbol: "none", silent: true, lineStyle: { color: "#c0392b", type: "dashed" }, label: { formatter: `${t("limit")} ${lim}` }, data: [{ yAxis: lim }] } },
      { name: t("validity_rate"), type: "line", yAxisIndex: 1, data: days.map((d) => d.validity_rate === null ? null : Math.round(d.validity_rate * 1000) / 10) },
    ],
  }, true);
  c.getDom().dataset.limit = lim === undefined ? "" : String(lim);
  document.getElementById("daily-table").innerHTML = `<table id="validity-table"><tr><th>${esc(t("date"))}</th><th>${esc(t("factor"))}</th><th>${esc(t("daily_mean"))}</th><th>${esc(t("limit"))}</th><th>${esc(t("state"))}</th><th>${esc(t("online_rate"))}</th><th>${esc(t("validity_rate"))}</th></tr>
    ${r.days.map((d) => `<tr data-date="${esc(d.date)}" data-factor="${esc(d.factor)}"><td>${esc(d.date)}</td><td>${esc(factorName(d.factor))}</td><td>${fmt(d.mean, 3)} ${esc(factorUnit(d.factor))}</td><td>${esc(d.limit || "–")}</td>
      <td class="${d.meets === false ? "bad" : d.meets ? "good" : ""}">${d.meets === null ? "–" : esc(d.meets ? t("meets") : t("exceeds"))}</td><td>${pct(d.online_rate)}</td><td class="validity">${pct(d.validity_rate)}</td></tr>`).join("")}</table>`;
}

function siteCompliance(id, newest) {
  const end = newest + 86400;
  api("GET", `/api/sites/${encodeURIComponent(id)}/compliance?from=${end - 31 * 86400}&to=${end}`).then((r) => {
    if (!document.getElementById("compliance")) return;
    document.getElementById("compliance").innerHTML = `<table id="compliance-table"><tr><th>${esc(t("standard"))}</th><th>${esc(t("factor"))}</th><th>${esc(t("limit"))}</th><th>${esc(t("days"))}</th><th>${esc(t("exceeds"))}</th><th>${esc(t("compliance_rate"))}</th></tr>${r.reports.map((rep) =>
      rep.factors.map((f) => `<tr><td>${esc(rep.standard)}:${esc(rep.class)}</td><td>${factorHtml(f.factor)}</td><td>${esc(boundText(f.limit))}</td><td>${f.days_with_data}</td><td class="${f.exceedance_days ? "bad" : ""}">${f.exceedance_days}</td><td>${pct(f.compliance_rate)}</td></tr>`).join("")).join("")}</table>`;
  }).catch((e) => { const el = document.getElementById("compliance"); if (el) el.textContent = e.message; });
}

function siteForm(id) {
  const form = document.getElementById("site-edit");
  if (!form) return;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const val = (k) => document.getElementById("site-edit-" + k).value.trim();
    const body = { name: val("name-en") || val("name-zh"), name_zh: val("name-zh"), name_en: val("name-en"), public: document.getElementById("site-edit-public").checked, standard: val("standard") };
    if (val("lon") && val("lat")) body.location = [Number(val("lon")), Number(val("lat"))];
    const out = document.getElementById("site-edit-result");
    try {
      await api("PUT", `/api/sites/${encodeURIComponent(id)}`, body);
      await loadNames(true);
      out.className = "good";
      out.textContent = t("saved");
      document.getElementById("site-name").textContent = siteName(id);
    } catch (e) { out.className = "error"; out.textContent = e.message; }
  });
}

// The site's maintenance windows (运维时段): listed, added and removed (administrators and the
// district's operator). Times in the server's zone, like every other time on the pages.
async function siteMaintenance(id, edit) {
  const list = document.getElementById("maintenance-list");
  if (!list) return;
  const offset = state.offset || "+08:00";
  const show = async () => {
    const w = (await api("GET", "/api/maintenance")).windows.filter((x) => x.site_id === id);
    if (!document.getElementById("maintenance-list")) return;
    list.innerHTML = `<table id="maintenance-table"><tr><th>${esc(t("device"))}</th><th>${esc(t("from"))}</th><th>${esc(t("to"))}</th><th>${esc(t("reason"))}</th><th>${esc(t("who"))}</th><th></th></tr>
      ${w.map((x) => `<tr data-window="${x.id}"><td><code>${esc(x.mn)}</code></td><td class="time">${esc(fmtTime(x.from))}</td><td class="time">${esc(fmtTime(x.to))}</td><td>${esc(x.reason)}</td><td>${esc(x.who)}${x.active ? ` <span class="good">${esc(t("in_force"))}</span>` : ""}</td>
        <td>${edit ? `<button class="act mw-remove">${esc(t("remove"))}</button>` : ""}</td></tr>`).join("")}</table>`;
    list.querySelectorAll(".mw-remove").forEach((b) => b.addEventListener("click", async () => {
      await api("DELETE", `/api/maintenance/${b.closest("tr").dataset.window}`);
      show();
    }));
  };
  await show();
  const form = document.getElementById("maintenance-form");
  if (!form) return;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = (k) => document.getElementById("mw-" + k).value;
    try {
      await api("POST", "/api/maintenance", { mn: v("mn"), from: localToRfc(v("from"), offset), to: localToRfc(v("to"), offset), reason: v("reason") });
      document.getElementById("mw-error").textContent = "";
      await show();
    } catch (e) { document.getElementById("mw-error").textContent = e.message; }
  });
}
