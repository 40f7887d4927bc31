// rewater web platform: a small single-page application over the HTTP API.
// Routes: #/overview, #/site/ID, #/alerts, #/scenarios, #/standards, #/devices, #/users,
// #/audit. Times are shown as the server sends them (RFC 3339 in its configured zone), in
// one format everywhere: "YYYY-MM-DD HH:MM (+08:00)"; never in the browser's own zone.
"use strict";

const state = { lang: localStorage.getItem("rw_lang") || "zh", me: null, charts: [] };

// Pages of a capability live in their own file under pages/ and register here, so that a new
// capability adds a file (and its labels) rather than editing this one:
//   registerPage({ id: "outfalls", nav: true, admin: false, render: async (arg) => { ... } });
//   addLabels({ zh: { outfalls: "排污口" }, en: { outfalls: "Outfalls" } });
// `render` receives the part of the hash after the page id (`#/outfalls/ID` → "ID").
const extraPages = [];
function registerPage(page) { extraPages.push(page); }
function addLabels(labels) {
  for (const lang of Object.keys(labels)) Object.assign(window.I18N[lang] = window.I18N[lang] || {}, labels[lang]);
}

function t(key) {
  const d = window.I18N[state.lang] || {};
  return d[key] !== undefined ? d[key] : key;
}

function esc(s) {
  return String(s === undefined || s === null ? "" : s).replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function fmt(x, digits) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  return Number(x).toLocaleString(state.lang === "zh" ? "zh-CN" : "en-GB", { maximumFractionDigits: digits === undefined ? 0 : digits });
}

// An RFC 3339 time from the API, as "YYYY-MM-DD HH:MM (+08:00)" (the server's zone).
function fmtTime(rfc) {
  if (!rfc) return "–";
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(rfc);
  return m ? `${m[1]} ${m[2]} (${m[3] === "Z" ? "+00:00" : m[3]})` : String(rfc);
}

// Wall-clock milliseconds (the devices' local time, counted as if UTC) as "YYYY-MM-DD HH:MM":
// charts run with useUTC so that the browser's zone never shifts them.
function fmtWall(ms) {
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

function pct(x) { return x === null || x === undefined ? "–" : fmt(100 * x, 1) + " %"; }

async function api(method, path, body) {
  const raw = body instanceof Uint8Array;
  const headers = { "content-type": raw ? "application/x-tar" : "application/json" };
  if (state.me && state.me.csrf && method !== "GET") headers["x-csrf-token"] = state.me.csrf;
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : raw ? body : JSON.stringify(body), credentials: "same-origin" });
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (!r.ok) {
    const err = new Error((data && data.error) || r.statusText);
    err.status = r.status;
    throw err;
  }
  return data;
}

const main = () => document.getElementById("main");

function clearCharts() {
  state.charts.forEach((c) => c.dispose());
  state.charts = [];
}

function chart(el) {
  const c = echarts.init(el);
  // Screenshots (tests set rw_static) are taken of finished charts: no animation.
  if (localStorage.getItem("rw_static")) {
    const set = c.setOption.bind(c);
    c.setOption = (o, ...rest) => set(Object.assign({ animation: false }, o), ...rest);
  }
  state.charts.push(c);
  return c;
}

function header() {
  document.getElementById("brand").textContent = t("brand");
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  const lang = document.getElementById("lang");
  lang.textContent = t("language");
  const out = document.getElementById("logout");
  out.textContent = t("logout");
  out.hidden = !state.me;
  const nav = document.getElementById("nav");
  if (!state.me) { nav.innerHTML = ""; document.getElementById("who").textContent = ""; return; }
  const isAdmin = state.me.role === "admin";
  const extra = extraPages.filter((p) => p.nav && (!p.admin || isAdmin)).map((p) => p.id);
  const pages = ["overview", "alerts", "scenarios", "standards", "devices"].concat(extra, isAdmin ? ["users", "audit"] : [], ["account"]);
  const current = (location.hash.split("/")[1] || "overview");
  nav.innerHTML = pages.map((p) => `<a href="#/${p}" data-page="${p}" class="${p === current ? "active" : ""}">${esc(t(p))}</a>`).join("");
  document.getElementById("who").textContent = `${state.me.name} · ${t(state.me.role)}${state.me.district ? " · " + districtName(state.me.district) : ""}`;
}

// ------------------------------------------------------------------ login

function loginPage(message) {
  main().innerHTML = `<form class="login" id="login-form">
    <h2>${esc(t("brand"))}</h2>
    <label>${esc(t("name"))} <input id="login-name" autocomplete="username" required></label>
    <label>${esc(t("password"))} <input id="login-password" type="password" autocomplete="current-password" required></label>
    <button class="act" id="login-submit" type="submit">${esc(t("login"))}</button>
    <div class="error" id="login-error">${esc(message || "")}</div></form>`;
  document.getElementById("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      state.me = await api("POST", "/api/login", { name: document.getElementById("login-name").value, password: document.getElementById("login-password").value });
      if (!location.hash || location.hash === "#/login") location.hash = "#/overview";
      route();
    } catch (e) {
      document.getElementById("login-error").textContent = t("wrong_login");
    }
  });
}

// The overview lives in pages/overview.js (overviewPage), the site page in pages/site.js
// (sitePage); names by language in names.js.

// ------------------------------------------------------------------ site

// A standard's bound ({type: max|min|range|qualitative}) as text and as the lines to draw.
function boundText(b) {
  if (!b) return "–";
  if (b.type === "max") return "≤ " + b.value;
  if (b.type === "min") return "≥ " + b.value;
  if (b.type === "range") return `${b.low}–${b.high}`;
  return b.requirement || "";
}
function boundLines(b) {
  if (!b) return [];
  if (b.type === "max" || b.type === "min") return [b.value];
  if (b.type === "range") return [b.low, b.high];
  return [];
}

function canEdit(site) {
  return state.me.role === "admin" || (state.me.role === "operator" && state.me.district === site.district);
}

// ------------------------------------------------------------------ alerts

// Alerts with when each started, how long it lasted, its peak and the standard, in the
// page's language (texts from the alerts' structured fields, names.js).
function alertTable(list, actions) {
  return `<table class="alerts"><tr>${actions ? `<th><input type="checkbox" id="alert-all" title="${esc(t("select_all"))}"></th>` : ""}<th>#</th><th>${esc(t("started"))}</th><th>${esc(t("duration"))}</th><th>${esc(t("site"))}</th><th>${esc(t("kind"))}</th><th>${esc(t("severity"))}</th><th>${esc(t("message"))}</th><th>${esc(t("peak"))}</th><th>${esc(t("standard"))}</th><th>${esc(t("state"))}</th>${actions ? `<th>${esc(t("comment"))}</th><th></th>` : ""}</tr>
    ${list.map((a) => `<tr data-alert="${a.id}" data-kind="${esc(a.kind)}">${actions ? `<td><input type="checkbox" class="pick" value="${a.id}"></td>` : ""}<td>${a.id}</td><td class="time">${esc(fmtTime(a.time))}</td>
      <td class="duration">${esc(fmtDuration(a.duration_s))}${a.recovered_at ? "" : " …"}</td><td>${esc(siteName(a.site_id))}</td><td>${esc(t("kind_" + a.kind))}</td><td>${esc(t("severity_" + a.severity))}</td>
      <td class="alert-text">${esc(alertText(a))}</td><td class="peak">${a.peak === null || a.peak === undefined ? "–" : esc(fmt(a.peak, 3) + " " + (a.factor ? factorUnit(a.factor) : ""))}</td>
      <td class="standard">${a.standard ? `${esc(a.bound || "")} <span class="code">${esc(a.standard)}</span>` : "–"}</td><td class="alert-state">${esc(t("alert_" + a.state))}</td>
      ${actions ? `<td><input class="comment" size="16"></td><td>${a.state === "open" ? `<button class="act ack">${esc(t("acknowledge"))}</button>` : ""}${a.state !== "closed" ? ` <button class="act close">${esc(t("close"))}</button>` : ""}</td>` : ""}</tr>`).join("")}</table>`;
}

const ALERT_KINDS = ["exceedance", "daily_exceedance", "offline", "stuck", "device_flag", "downstream_risk"];
const ALERT_SIZES = [10, 20, 50, 100];

// The alert list's filters, kept for the session: state, kind, severity, site, time range, page.
function alertFilter() {
  let f = {};
  try { f = JSON.parse(sessionStorage.getItem("rw_alert_filter") || "{}"); } catch (e) { f = {}; }
  const saved = sessionStorage.getItem("rw_alert_state");
  return { state: f.state || saved || "open", kind: f.kind || "", severity: f.severity || "", site: f.site || "", from: f.from || "", to: f.to || "", offset: f.offset || 0, size: ALERT_SIZES.includes(f.size) ? f.size : 50 };
}

function saveAlertFilter(f) {
  sessionStorage.setItem("rw_alert_filter", JSON.stringify(f));
  sessionStorage.setItem("rw_alert_state", f.state);
}

// A datetime-local value (the server's wall clock) as RFC 3339 with the server's offset.
function localToRfc(v, offset) { return v ? `${v}:00${offset}` : ""; }

async function alertsPage() {
  // A filter's reload may still be in flight when the user goes to another page: it must
  // not draw the alerts over that page.
  const here = location.hash;
  const f = alertFilter();
  const states = ["open", "acknowledged", "closed", "all"];
  const sites = (await api("GET", "/api/sites")).sites || [];
  // The server's zone offset, as its RFC 3339 times carry it (Asia/Shanghai until seen).
  const offset = state.offset || "+08:00";
  const q = new URLSearchParams({ limit: String(f.size), offset: String(f.offset) });
  if (f.state !== "all") q.set("state", f.state);
  for (const k of ["kind", "severity", "site"]) if (f[k]) q.set(k, f[k]);
  if (f.from) q.set("from", localToRfc(f.from, offset));
  if (f.to) q.set("to", localToRfc(f.to, offset));
  const list = await api("GET", `/api/alerts?${q}`);
  const seen = list.alerts.length && /([+-]\d{2}:\d{2}|Z)$/.exec(list.alerts[0].raised_at || "");
  if (seen) state.offset = seen[1] === "Z" ? "+00:00" : seen[1];
  const acts = state.me.role !== "viewer";
  const opt = (v, label, cur) => `<option value="${esc(v)}" ${v === cur ? "selected" : ""}>${esc(label)}</option>`;
  const last = Math.min(list.total, f.offset + list.alerts.length);
  if (location.hash !== here) return;
  main().innerHTML = `<div class="panel"><div class="row"><h3>${esc(t("alerts"))}</h3>
    <select id="alert-state">${states.map((s) => opt(s, t("alert_" + s), f.state)).join("")}</select>
    <select id="alert-kind">${opt("", t("all_kinds"), f.kind)}${ALERT_KINDS.map((k) => opt(k, t("kind_" + k), f.kind)).join("")}</select>
    <select id="alert-severity">${opt("", t("all_severities"), f.severity)}${["info", "warning", "violation"].map((k) => opt(k, t("severity_" + k), f.severity)).join("")}</select>
    <select id="alert-site">${opt("", t("all_sites"), f.site)}${sites.map((x) => opt(x.id, siteName(x), f.site)).join("")}</select>
    <label>${esc(t("from"))} <input type="datetime-local" id="alert-from" value="${esc(f.from)}"></label>
    <label>${esc(t("to"))} <input type="datetime-local" id="alert-to" value="${esc(f.to)}"></label></div>
    <div class="row" id="alert-paging"><span id="alert-count">${esc(t("shown_of").replace("{a}", list.total ? f.offset + 1 : 0).replace("{b}", last).replace("{n}", list.total))}</span>
      <button class="act" id="alert-prev" ${f.offset > 0 ? "" : "disabled"}>${esc(t("previous"))}</button>
      <button class="act" id="alert-next" ${last < list.total ? "" : "disabled"}>${esc(t("next"))}</button>
      <label>${esc(t("page_size"))} <select id="alert-size">${ALERT_SIZES.map((n) => opt(String(n), String(n), String(f.size))).join("")}</select></label>
      ${acts ? `<input id="bulk-comment" size="24" placeholder="${esc(t("comment"))}"> <button class="act" id="bulk-ack">${esc(t("acknowledge_selected"))}</button> <button class="act" id="bulk-close">${esc(t("close_selected"))}</button>` : ""}</div>
    <div id="alert-list">${alertTable(list.alerts, acts)}</div><div class="error" id="alert-error"></div></div>`;
  const refilter = (patch) => { saveAlertFilter(Object.assign(alertFilter(), patch)); alertsPage(); };
  document.getElementById("alert-state").addEventListener("change", (ev) => refilter({ state: ev.target.value, offset: 0 }));
  for (const [id, key] of [["alert-kind", "kind"], ["alert-severity", "severity"], ["alert-site", "site"], ["alert-from", "from"], ["alert-to", "to"]]) {
    document.getElementById(id).addEventListener("change", (ev) => refilter({ [key]: ev.target.value, offset: 0 }));
  }
  document.getElementById("alert-size").addEventListener("change", (ev) => refilter({ size: Number(ev.target.value), offset: 0 }));
  document.getElementById("alert-prev").addEventListener("click", () => refilter({ offset: Math.max(0, f.offset - f.size) }));
  document.getElementById("alert-next").addEventListener("click", () => refilter({ offset: f.offset + f.size }));
  const err = (e) => { document.getElementById("alert-error").textContent = e.message; };
  if (acts) {
    document.getElementById("alert-all").addEventListener("change", (ev) => document.querySelectorAll("#alert-list .pick").forEach((c) => { c.checked = ev.target.checked; }));
    const bulk = async (to) => {
      const ids = [...document.querySelectorAll("#alert-list .pick:checked")].map((c) => Number(c.value));
      if (!ids.length) return;
      try {
        const r = await api("POST", "/api/alerts/state", { ids, state: to, comment: document.getElementById("bulk-comment").value });
        await alertsPage();
        if (r.refused.length) err({ message: r.refused.map((x) => `#${x.id}: ${x.error}`).join("; ") });
      } catch (e) { err(e); }
    };
    document.getElementById("bulk-ack").addEventListener("click", () => bulk("acknowledged"));
    document.getElementById("bulk-close").addEventListener("click", () => bulk("closed"));
  }
  document.querySelectorAll("#alert-list button").forEach((b) => b.addEventListener("click", async () => {
    const tr = b.closest("tr");
    try {
      await api("POST", `/api/alerts/${tr.dataset.alert}/state`, { state: b.classList.contains("ack") ? "acknowledged" : "closed", comment: tr.querySelector(".comment").value });
      alertsPage();
    } catch (e) { err(e); }
  }));
}

// ------------------------------------------------------------------ scenarios

function summaryRows(s) {
  return [["treated", s.treated_m3], ["delivered", s.delivered_m3], ["demand", s.demand_m3], ["deficit", s.deficit_m3], ["discharged", s.discharged_total_m3], ["storage", s.storage_final_m3]]
    .map(([k, v]) => [k, fmt(v) + " " + t("m3")]).concat([["utilisation_rate", pct(s.utilisation_rate)], ["reliability", pct(s.supply_reliability)]]);
}

// A run with all of its daily results (fetched in pages of at most 5000 days).
async function fetchRun(id) {
  const r = (await api("GET", `/api/runs/${id}?limit=5000`)).run;
  while (r.daily && r.daily.dates.length < r.daily_total) {
    const next = (await api("GET", `/api/runs/${id}?part=daily&limit=5000&offset=${r.daily.dates.length}`)).run.daily;
    if (!next.dates.length) break;
    for (const k of ["dates", "treated_m3", "delivered_m3", "deficit_m3", "discharged_m3", "storage_m3"]) r.daily[k] = r.daily[k].concat(next[k]);
    for (const f of Object.keys(r.daily.quality_mg_per_l)) r.daily.quality_mg_per_l[f] = r.daily.quality_mg_per_l[f].concat(next.quality_mg_per_l[f] || []);
  }
  return r;
}

async function showRun(id, el) {
  const r = await fetchRun(id);
  if (r.status === "running") {
    el.innerHTML = `<div>${esc(t("running"))} <progress id="run-progress" max="${r.days || 1}" value="${r.day}"></progress> ${r.day}/${r.days}</div>`;
    setTimeout(() => { if (document.body.contains(el)) showRun(id, el); }, 300);
    return;
  }
  if (r.status === "failed") { el.innerHTML = `<div class="error">${esc(t("failed"))}: ${esc(r.error)}</div>`; return; }
  const s = r.summary, d = r.daily;
  el.innerHTML = `<div id="run-results" data-run="${r.id}"><h3>${esc(t("results"))}: ${esc(r.model)} (#${r.id})</h3>
    <table id="run-summary">${summaryRows(s).map(([k, v]) => `<tr><th>${esc(t(k))}</th><td data-key="${k}">${esc(v)}</td></tr>`).join("")}</table>
    <h4>${esc(t("deficit_by_category"))}</h4><table><tr><th>${esc(t("category"))}</th><th>${esc(t("demand"))}</th><th>${esc(t("delivered"))}</th><th>${esc(t("deficit"))}</th></tr>
    ${Object.entries(s.delivered_by_category).map(([k, v]) => `<tr><td>${esc(t("cat_" + k) === "cat_" + k ? k : t("cat_" + k))}</td><td>${fmt(v.demand_m3)}</td><td>${fmt(v.delivered_m3)}</td><td>${fmt(v.deficit_m3)}</td></tr>`).join("")}</table>
    <div class="cols"><div id="run-flows" class="chart"></div><div id="run-quality" class="chart"></div></div></div>`;
  const dates = d.dates;
  chart(document.getElementById("run-flows")).setOption({
    title: { text: t("flows") + " / " + t("storage"), textStyle: { fontSize: 13 } }, tooltip: { trigger: "axis" }, legend: { top: 24 },
    grid: { top: 60 }, xAxis: { type: "category", data: dates }, yAxis: [{ type: "value", name: t("m3") }, { type: "value", name: t("storage") }],
    series: [["treated", d.treated_m3], ["delivered", d.delivered_m3], ["deficit", d.deficit_m3]].map(([k, v]) => ({ name: t(k), type: "line", showSymbol: false, data: v }))
      .concat([{ name: t("storage"), type: "line", yAxisIndex: 1, showSymbol: false, areaStyle: { opacity: 0.15 }, data: d.storage_m3 }]),
  });
  chart(document.getElementById("run-quality")).setOption({
    title: { text: `${t("quality")} (${d.quality_node || ""}, mg/L)`, textStyle: { fontSize: 13 } }, tooltip: { trigger: "axis" }, legend: { top: 24, type: "scroll" },
    grid: { top: 60 }, xAxis: { type: "category", data: dates }, yAxis: { type: "value" },
    series: Object.entries(d.quality_mg_per_l).map(([f, v]) => ({ name: factorName(f), type: "line", showSymbol: false, data: v })),
  });
}

async function scenariosPage() {
  const sc = await api("GET", "/api/scenarios");
  const done = sc.runs.filter((r) => r.status === "done");
  const writer = state.me.role !== "viewer";
  main().innerHTML = `<div class="panel"><div class="row"><label>${esc(t("model"))} <select id="model-select">${sc.models.map((m) => `<option value="${esc(m.name)}">${esc(m.name)}</option>`).join("")}</select></label>
      ${writer ? `<button class="act" id="run">${esc(t("run"))}</button>` : ""}
      ${writer ? `<label>${esc(t("upload"))} <input type="file" id="upload" accept=".toml,.tar"></label>` : ""}<span class="error" id="scenario-error"></span></div>
      <table id="runs"><tr><th>#</th><th>${esc(t("model"))}</th><th>${esc(t("who"))}</th><th>${esc(t("time"))}</th><th>${esc(t("state"))}</th></tr>${sc.runs.map((r) => `<tr><td><a href="#/scenarios/${r.id}">${r.id}</a></td><td>${esc(r.model)}</td><td>${esc(r.who)}</td><td class="time">${esc(fmtTime(r.started_at))}</td><td>${esc(t(r.status))}</td></tr>`).join("")}</table></div>
    <div class="panel" id="run-view"></div>
    <div class="panel"><h3>${esc(t("compare"))}</h3><div class="row">${["a", "b"].map((k, i) => `<label>${esc(t("run_" + k))} <select id="cmp-${k}">${done.map((r, j) => `<option value="${r.id}" ${j === Math.min(i, done.length - 1) ? "selected" : ""}>#${r.id} ${esc(r.model)}</option>`).join("")}</select></label>`).join("")}
      <button class="act" id="compare-go">${esc(t("compare"))}</button></div><div id="compare"></div></div>`;
  const err = (e) => { document.getElementById("scenario-error").textContent = e.message; };
  if (writer) {
    document.getElementById("run").addEventListener("click", async () => {
      try {
        const r = await api("POST", "/api/runs", { model: document.getElementById("model-select").value });
        location.hash = "#/scenarios/" + r.id;
      } catch (e) { err(e); }
    });
    document.getElementById("upload").addEventListener("change", async (ev) => {
      const f = ev.target.files[0];
      if (!f) return;
      const name = f.name.replace(/\.(toml|tar)$/, "").replace(/[^A-Za-z0-9_-]/g, "_");
      try {
        // A model with its CSV files comes as a tar; a lone model file as text.
        if (f.name.endsWith(".tar")) await api("POST", `/api/scenarios/${encodeURIComponent(name)}/archive`, new Uint8Array(await f.arrayBuffer()));
        else await api("POST", "/api/scenarios", { name, toml: await f.text() });
        scenariosPage();
      } catch (e) { err(e); }
    });
  }
  document.getElementById("compare-go").addEventListener("click", async () => {
    const [a, b] = await Promise.all(["a", "b"].map((k) => api("GET", `/api/runs/${document.getElementById("cmp-" + k).value}?part=summary`)));
    const ra = summaryRows(a.run.summary), rb = summaryRows(b.run.summary);
    document.getElementById("compare").innerHTML = `<table id="compare-table"><tr><th>${esc(t("indicator"))}</th><th>#${a.run.id} ${esc(a.run.model)}</th><th>#${b.run.id} ${esc(b.run.model)}</th></tr>
      ${ra.map(([k, v], i) => `<tr><th>${esc(t(k))}</th><td>${esc(v)}</td><td>${esc(rb[i][1])}</td></tr>`).join("")}</table>`;
  });
  const runId = location.hash.split("/")[2];
  if (runId) showRun(runId, document.getElementById("run-view"));
}

// ------------------------------------------------------------------ standards and audit

async function standardsPage() {
  const list = (await api("GET", "/api/standards")).standards;
  const chosen = sessionStorage.getItem("rw_standard") || (list[0] && list[0].id);
  const s = list.find((x) => x.id === chosen) || list[0];
  main().innerHTML = `<div class="panel"><div class="row"><label>${esc(t("standard"))} <select id="standard-select">${list.map((x) => `<option value="${esc(x.id)}" ${x.id === s.id ? "selected" : ""}>${esc(x.id)} ${esc(state.lang === "zh" ? x.title_zh : x.title_en)}</option>`).join("")}</select></label></div>
    <p class="muted">${esc(t("source"))}: <span class="data-name">${esc((s.sources || []).join("; "))}</span> · ${esc(t("confidence"))}: ${esc(t("conf_" + s.confidence))}</p>
    <table id="limits"><tr><th>${esc(t("factor"))}</th><th>${esc(t("class"))}</th><th>${esc(t("limit"))}</th><th>${esc(t("unit"))}</th><th>${esc(t("confidence"))}</th><th>${esc(t("source"))}</th></tr>
    ${s.limits.map((l) => `<tr><td>${esc(state.lang === "zh" ? l.factor_name_zh : l.factor_name_en)} <span class="code">${esc(l.factor)}</span></td><td class="code">${esc(l.class)}</td><td>${esc(boundText(l.bound))}</td><td>${esc(l.unit || "")}</td><td>${esc(t("conf_" + l.confidence))}</td><td class="data-name">${esc(l.source || "")}</td></tr>`).join("")}</table></div>`;
  document.getElementById("standard-select").addEventListener("change", (ev) => { sessionStorage.setItem("rw_standard", ev.target.value); standardsPage(); });
}

async function usersPage() {
  const users = (await api("GET", "/api/users")).users;
  const roles = ["admin", "operator", "viewer"];
  const options = users.map((u) => `<option>${esc(u.name)}</option>`).join("");
  main().innerHTML = `<div class="panel"><h3>${esc(t("users"))}</h3><table id="users"><tr><th>${esc(t("name"))}</th><th>${esc(t("role"))}</th><th>${esc(t("district"))}</th><th>${esc(t("created"))}</th><th></th></tr>
    ${users.map((u) => `<tr><td>${esc(u.name)}</td><td>${esc(t(u.role))}</td><td>${esc(districtName(u.district || ""))}</td><td class="time">${esc(fmtTime(u.created_at))}</td><td>${u.disabled ? esc(t("disabled")) : ""}</td></tr>`).join("")}</table></div>
    <div class="panel"><h3>${esc(t("create"))}</h3><form id="user-form" class="row">
      <label>${esc(t("name"))} <input id="user-name" required></label>
      <label>${esc(t("password"))} <input id="user-password" type="password" minlength="10" autocomplete="new-password" required></label>
      <label>${esc(t("role"))} <select id="user-role">${roles.map((r) => `<option value="${r}">${esc(t(r))}</option>`).join("")}</select></label>
      <label>${esc(t("district"))} <input id="user-district" size="10"></label>
      <button class="act" type="submit">${esc(t("create"))}</button></form></div>
    <div class="panel"><h3>${esc(t("change_password"))}</h3><form id="password-form" class="row">
      <label>${esc(t("name"))} <select id="password-account">${options}</select></label>
      <label>${esc(t("new_password"))} <input id="password-new" type="password" minlength="10" autocomplete="new-password" required></label>
      <button class="act" type="submit">${esc(t("save"))}</button><span id="password-result"></span></form>
      <div class="muted">${esc(t("password_ends_sessions"))}</div></div>
    <div class="panel"><h3>${esc(t("token"))}</h3><form id="token-form" class="row">
      <label>${esc(t("name"))} <select id="token-account">${options}</select></label>
      <label>${esc(t("label"))} <input id="token-label"></label>
      <label>${esc(t("expires_in_days"))} <input id="token-days" type="number" min="1" max="3650" value="90" size="5"></label>
      <button class="act" type="submit">${esc(t("create"))}</button></form>
      <div id="token-result"></div>
      <h4>${esc(t("credentials"))} <select id="cred-account">${options}</select></h4><div id="credentials"></div></div>
    <div class="error" id="users-error"></div>`;
  const err = (e) => { document.getElementById("users-error").textContent = e.message; };
  document.getElementById("user-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = (k) => document.getElementById("user-" + k).value;
    try {
      await api("POST", "/api/users", { name: v("name"), password: v("password"), role: v("role"), district: v("district") || null });
      usersPage();
    } catch (e) { err(e); }
  });
  document.getElementById("password-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = document.getElementById("password-result");
    try {
      const name = document.getElementById("password-account").value;
      await api("POST", `/api/users/${encodeURIComponent(name)}/password`, { password: document.getElementById("password-new").value });
      out.className = "good"; out.textContent = t("saved");
    } catch (e) { out.className = "error"; out.textContent = e.message; }
  });
  const credentials = async () => {
    const name = document.getElementById("cred-account").value;
    const list = (await api("GET", `/api/users/${encodeURIComponent(name)}/credentials`)).credentials;
    const el = document.getElementById("credentials");
    el.innerHTML = `<table id="credential-table"><tr><th>${esc(t("public_id"))}</th><th>${esc(t("kind"))}</th><th>${esc(t("label"))}</th><th>${esc(t("created"))}</th><th>${esc(t("expires"))}</th><th></th></tr>
      ${list.map((c) => `<tr data-credential="${esc(c.public_id)}"><td><code>${esc(c.public_id)}</code></td><td>${esc(t("kind_" + c.kind))}</td><td>${esc(c.label)}</td><td class="time">${esc(fmtTime(c.created_at))}</td><td class="time">${esc(fmtTime(c.expires_at))}</td>
        <td><button class="act revoke">${esc(t("revoke"))}</button></td></tr>`).join("")}</table>`;
    el.querySelectorAll("button.revoke").forEach((b) => b.addEventListener("click", async () => {
      try {
        await api("DELETE", `/api/users/${encodeURIComponent(name)}/credentials/${b.closest("tr").dataset.credential}`);
        credentials();
      } catch (e) { err(e); }
    }));
  };
  document.getElementById("cred-account").addEventListener("change", () => credentials().catch(err));
  document.getElementById("token-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const account = document.getElementById("token-account").value;
      const r = await api("POST", "/api/tokens", { account, label: document.getElementById("token-label").value, expires_in_days: Number(document.getElementById("token-days").value) });
      document.getElementById("token-result").innerHTML = `<code id="token-secret">${esc(r.token)}</code> <span class="muted">${esc(t("token_once"))} · ${esc(t("expires"))} ${esc(fmtTime(r.expires_at))}</span>`;
      document.getElementById("cred-account").value = account;
      await credentials();
    } catch (e) { err(e); }
  });
  await credentials();
}

// ------------------------------------------------------------------ one's own account

async function accountPage() {
  const me = state.me.name;
  const list = (await api("GET", `/api/users/${encodeURIComponent(me)}/credentials`)).credentials;
  main().innerHTML = `<div class="panel"><h3>${esc(t("change_password"))}: ${esc(me)}</h3><form id="own-password-form" class="row">
      <label>${esc(t("current_password"))} <input id="own-current" type="password" autocomplete="current-password" required></label>
      <label>${esc(t("new_password"))} <input id="own-new" type="password" minlength="10" autocomplete="new-password" required></label>
      <button class="act" id="own-password-save" type="submit">${esc(t("save"))}</button><span id="own-password-result"></span></form>
      <div class="muted">${esc(t("password_ends_sessions"))}</div></div>
    <div class="panel"><h3>${esc(t("credentials"))}</h3><table id="own-credentials"><tr><th>${esc(t("public_id"))}</th><th>${esc(t("kind"))}</th><th>${esc(t("label"))}</th><th>${esc(t("created"))}</th><th>${esc(t("expires"))}</th><th></th></tr>
      ${list.map((c) => `<tr data-credential="${esc(c.public_id)}"><td><code>${esc(c.public_id)}</code></td><td>${esc(t("kind_" + c.kind))}</td><td>${esc(c.label)}</td><td class="time">${esc(fmtTime(c.created_at))}</td><td class="time">${esc(fmtTime(c.expires_at))}</td>
        <td><button class="act revoke">${esc(t("revoke"))}</button></td></tr>`).join("")}</table><div class="error" id="account-error"></div></div>`;
  document.querySelectorAll("#own-credentials button.revoke").forEach((b) => b.addEventListener("click", async () => {
    try {
      await api("DELETE", `/api/users/${encodeURIComponent(me)}/credentials/${b.closest("tr").dataset.credential}`);
      await accountPage();
    } catch (e) {
      if (e.status === 401) { state.me = null; route(); return; }
      document.getElementById("account-error").textContent = e.message;
    }
  }));
  document.getElementById("own-password-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = document.getElementById("own-password-result");
    try {
      const r = await api("POST", `/api/users/${encodeURIComponent(me)}/password`, { password: document.getElementById("own-new").value, current_password: document.getElementById("own-current").value });
      // The old sessions ended; this page goes on with the new one.
      if (r.csrf) state.me.csrf = r.csrf;
      out.className = "good"; out.textContent = `${t("saved")} (${t("sessions_ended")}: ${r.sessions_ended})`;
    } catch (e) { out.className = "error"; out.textContent = e.message; }
  });
}

// ------------------------------------------------------------------ devices

async function devicesPage() {
  const [devices, sites] = await Promise.all([api("GET", "/api/devices"), api("GET", "/api/sites")]);
  const admin = state.me.role === "admin";
  const yes = (b) => (b ? esc(t("yes")) : "");
  main().innerHTML = `<div class="panel"><h3>${esc(t("devices"))}</h3><table id="devices"><tr><th>MN</th><th>${esc(t("site"))}</th><th>${esc(t("lenient"))}</th><th>${esc(t("allowed_peers"))}</th><th>${esc(t("state"))}</th>${admin ? "<th></th>" : ""}</tr>
    ${devices.devices.map((d) => `<tr data-device="${esc(d.mn)}"><td><code>${esc(d.mn)}</code></td><td>${esc(siteName(d.site_id))}</td><td>${yes(d.lenient)}</td><td>${esc(d.allowed_peers.join(", ") || t("any_address"))}</td>
      <td class="device-state ${d.disabled ? "bad" : "good"}">${esc(t(d.disabled ? "disabled" : "enabled"))}</td>
      ${admin ? `<td><button class="act new-password">${esc(t("new_password"))}</button> <button class="act toggle">${esc(t(d.disabled ? "enable" : "disable"))}</button></td>` : ""}</tr>`).join("")}</table>
    <div id="device-secret"></div><div class="error" id="devices-error"></div></div>
    ${admin ? `<div class="panel"><h3>${esc(t("register_device"))}</h3><form id="device-form" class="row">
      <label>MN <input id="device-mn" size="24" maxlength="24" required></label>
      <label>${esc(t("site"))} <select id="device-site">${sites.sites.map((x) => `<option value="${esc(x.id)}">${esc(siteName(x))}</option>`).join("")}</select></label>
      <label>${esc(t("password"))} <input id="device-password" placeholder="${esc(t("generated_if_empty"))}"></label>
      <label>${esc(t("allowed_peers"))} <input id="device-peers" placeholder="10.0.0.0/8, 192.0.2.7"></label>
      <label><input type="checkbox" id="device-lenient"> ${esc(t("lenient"))}</label>
      <button class="act" id="device-submit" type="submit">${esc(t("create"))}</button></form></div>` : ""}`;
  const err = (e) => { document.getElementById("devices-error").textContent = e.message; };
  // A password the server generated is shown once, here.
  const showSecret = (mn, pw) => {
    document.getElementById("device-secret").innerHTML = pw ? `${esc(mn)}: <code id="device-password-once">${esc(pw)}</code> <span class="muted">${esc(t("password_once"))}</span>` : "";
  };
  if (!admin) return;
  document.querySelectorAll("#devices button").forEach((b) => b.addEventListener("click", async () => {
    const tr = b.closest("tr"), mn = tr.dataset.device;
    try {
      if (b.classList.contains("new-password")) {
        const r = await api("POST", `/api/devices/${encodeURIComponent(mn)}/password`, {});
        showSecret(mn, r.password);
      } else {
        const disabled = !tr.querySelector(".device-state").classList.contains("bad");
        await api("POST", `/api/devices/${encodeURIComponent(mn)}/disable`, { disabled });
        await devicesPage();
      }
    } catch (e) { err(e); }
  }));
  document.getElementById("device-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = (k) => document.getElementById("device-" + k).value.trim();
    const body = { mn: v("mn"), site_id: v("site"), lenient: document.getElementById("device-lenient").checked, allowed_peers: v("peers") ? v("peers").split(",").map((x) => x.trim()).filter((x) => x) : [] };
    if (v("password")) body.password = v("password");
    try {
      const r = await api("POST", "/api/devices", body);
      await devicesPage();
      showSecret(r.device.mn, r.password);
    } catch (e) { err(e); }
  });
}

async function auditPage() {
  const log = (await api("GET", "/api/audit?limit=500")).audit;
  main().innerHTML = `<div class="panel"><h3>${esc(t("audit"))}</h3><table id="audit"><tr><th>${esc(t("time"))}</th><th>${esc(t("who"))}</th><th>${esc(t("action"))}</th><th>${esc(t("target"))}</th><th>${esc(t("detail"))}</th></tr>
    ${log.map((e) => `<tr><td class="time">${esc(fmtTime(e.at))}</td><td>${esc(e.who)}</td><td>${actionHtml(e.action)}</td><td>${esc(e.target)}</td><td>${esc(e.detail)}</td></tr>`).join("")}</table></div>`;
}

// ------------------------------------------------------------------ routing

async function route() {
  clearCharts();
  document.body.classList.remove("bigscreen");
  // Set to the route once its page is drawn (tests wait for it).
  delete document.body.dataset.ready;
  const target = location.hash;
  try { await routeTo(); } finally { if (location.hash === target) document.body.dataset.ready = target || "#/"; }
}

async function routeTo() {
  if (!state.me) {
    try { state.me = await api("GET", "/api/me"); } catch (e) { state.me = null; }
  }
  if (state.me) { try { await loadNames(); } catch (e) { /* names stay codes */ } }
  header();
  if (!state.me) { loginPage(); return; }
  const [, page, arg] = location.hash.split("/");
  const extra = extraPages.find((p) => p.id === page);
  try {
    if (extra) await extra.render(arg === undefined ? undefined : decodeURIComponent(arg));
    else if (page === "site" && arg) await sitePage(decodeURIComponent(arg));
    else if (page === "alerts") await alertsPage();
    else if (page === "scenarios") await scenariosPage();
    else if (page === "standards") await standardsPage();
    else if (page === "audit") await auditPage();
    else if (page === "users") await usersPage();
    else if (page === "devices") await devicesPage();
    else if (page === "account") await accountPage();
    else await overviewPage();
  } catch (e) {
    if (e.status === 401) { state.me = null; header(); loginPage(); return; }
    main().innerHTML = `<div class="panel error" id="page-error">${esc(e.status === 403 ? t("no_permission") + ": " : "")}${esc(e.message)}</div>`;
  }
}

window.addEventListener("hashchange", route);
window.addEventListener("resize", () => state.charts.forEach((c) => c.resize()));
document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("lang").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem("rw_lang", state.lang);
    route();
  });
  document.getElementById("logout").addEventListener("click", async () => {
    try { await api("POST", "/api/logout"); } catch (e) { /* already gone */ }
    state.me = null;
    location.hash = "#/login";
    route();
  });
  route();
});
