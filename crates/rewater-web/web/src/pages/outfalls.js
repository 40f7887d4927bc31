// River-outfall ledger (入河排污口台账, issue 16): the ledger list with filters and search
// (#/outfalls), one outfall with its chain, monitoring, spills and rectification records
// (#/outfall/CODE), and the tracing view from a section (#/trace/SECTION): upstream outfalls
// ranked by the load they deliver. Everything shown comes from /api/outfalls*, scoped to the
// caller's district by the server.
"use strict";

addLabels({
  zh: {
    outfalls: "排污口台账", trace: "溯源", outfall_name: "名称", outfall: "排污口", code: "编码", class: "类型", district: "区",
    reach: "河段", compliance: "设置合规", legal: "合规", illegal: "违规", unknown: "待定", search: "搜索",
    filter: "筛选", all: "全部", total: "共", previous: "上一页", next: "下一页", chain: "排污链条",
    channels: "排污通道", dischargers: "排污单位", permit: "排污许可证", outlets: "排放口",
    downstream: "下游断面", section: "断面", travel_time_h: "传播时间 (h)", increment: "浓度增量 (mg/L)",
    monitoring: "监测", monitored_on: "最近监测", site_mn: "数采仪 MN", spills: "溢流",
    overflow_outlet: "溢流口 (合流制溢流模型)", no_overflow_outlet: "未关联溢流口",
    rectification: "一口一策整治", problem: "问题", measure: "整治措施", ban: "依法取缔", merge: "清理合并",
    regulate: "规范整治", responsible_unit: "责任单位", deadline: "完成时限", state: "状态",
    open: "立案", in_progress: "整改中", done: "整改完成", signed_off: "已销号", returned: "退回",
    note: "说明", evidence: "佐证材料", add_step: "记录进展", open_record: "新建整治记录",
    versions: "版本记录", version: "版本", reason: "原因", who: "操作人", time: "时间",
    observed: "实测浓度 (mg/L)", background: "背景浓度 (mg/L)", max_travel_h: "最长传播时间 (h)",
    factor: "指标", run_trace: "溯源分析", rank: "排名", delivered_load: "到达负荷 (g/s)",
    share_observed: "占断面超标负荷", share_ranked: "占排名负荷", basis: "数据", measured: "实测",
    estimated: "估算", unexplained: "未解释", outside_window: "传播时间窗口外", without_data: "缺排放数据",
    responsible: "责任主体", approval: "审批/登记", survey: "排查", survey_level: "排查级别",
    location: "位置", coverage: "覆盖情况", surveyed: "已排查", traced: "已溯源", rectified: "已销号",
    overdue: "逾期未销号", none: "无",
    spill_year: "年份", spill_count: "溢流次数 (12/24 计数)", discharges_n: "排放段数", duration_h: "时长 (h)",
    volume_m3: "溢流量 (m³)", source: "来源", no_spills: "无溢流记录", self_report: "区级年度自查报告",
    report_year: "年度", report_go: "生成", discharges_from: "排放数据来自数采仪",
  },
  en: {
    outfalls: "Outfall ledger", trace: "Tracing", outfall_name: "Name", outfall: "Outfall", code: "Code", class: "Class", district: "District",
    reach: "Reach", compliance: "Compliance", legal: "legal", illegal: "illegal", unknown: "unknown", search: "Search",
    filter: "Filter", all: "all", total: "total", previous: "Previous", next: "Next", chain: "Chain",
    channels: "Discharge channels", dischargers: "Dischargers", permit: "Permit", outlets: "Outlets",
    downstream: "Downstream sections", section: "Section", travel_time_h: "Travel time (h)", increment: "Increment (mg/L)",
    monitoring: "Monitoring", monitored_on: "Last monitored", site_mn: "Data logger MN", spills: "Spills",
    overflow_outlet: "Overflow outlet (CSO model)", no_overflow_outlet: "no overflow outlet linked",
    rectification: "Rectification (one outfall, one plan)", problem: "Problem", measure: "Measure", ban: "ban", merge: "merge",
    regulate: "regulate", responsible_unit: "Responsible unit", deadline: "Deadline", state: "State",
    open: "open", in_progress: "in progress", done: "done", signed_off: "signed off", returned: "returned",
    note: "Note", evidence: "Evidence", add_step: "Record step", open_record: "New record",
    versions: "Versions", version: "Version", reason: "Reason", who: "Who", time: "Time",
    observed: "Observed (mg/L)", background: "Background (mg/L)", max_travel_h: "Max travel time (h)",
    factor: "Factor", run_trace: "Trace", rank: "Rank", delivered_load: "Delivered load (g/s)",
    share_observed: "Share of excess load", share_ranked: "Share of ranked load", basis: "Data", measured: "measured",
    estimated: "estimated", unexplained: "Unexplained", outside_window: "Outside the travel-time window", without_data: "Without discharge data",
    responsible: "Responsible party", approval: "Approval/registration", survey: "Survey", survey_level: "Survey level",
    location: "Location", coverage: "Coverage", surveyed: "Surveyed", traced: "Traced", rectified: "Signed off",
    overdue: "Overdue", none: "none",
    spill_year: "Year", spill_count: "Spills (12/24 counting)", discharges_n: "Discharges", duration_h: "Duration (h)",
    volume_m3: "Volume (m³)", source: "Source", no_spills: "no spills recorded", self_report: "District self-report",
    report_year: "Year", report_go: "Make", discharges_from: "Discharges from data loggers",
  },
});

const outfallFilter = { district: "", search: "", class: "", compliance: "", offset: 0 };
const PAGE = 50;

function outfallError(e) {
  main().innerHTML = `<div class="panel error" id="page-error">${esc(e.message)}</div>`;
}

function outfallLink(code) {
  return `<a href="#/outfall/${encodeURIComponent(code)}" class="outfall-link">${esc(code)}</a>`;
}

// Outfalls (and traced sources) where they are; colour by compliance, size by load. With the
// server's tile URL the points lie on the base map (the overview's tile layer, pages/
// overview.js); without one nothing is fetched and a longitude–latitude plane is drawn.
function outfallMap(el, points, tileUrl) {
  const colour = { illegal: "#c0392b", legal: "#2e7d32", unknown: "#7f8c8d", section: "#1565c0" };
  const c = chart(el);
  const data = points.map((p) => ({ name: p.name, tip: p.tip || p.name, value: [p.lon, p.lat], symbol: p.kind === "section" ? "diamond" : "circle", symbolSize: p.size || 12, itemStyle: { color: colour[p.kind] || colour.unknown, borderColor: "#fff", borderWidth: 1 } }));
  const label = { show: true, position: "right", formatter: (p) => p.data.name, textBorderColor: "#fff", textBorderWidth: 2 };
  if (tileUrl && points.length) {
    const pts = points.map((p) => [p.lon, p.lat]);
    echarts.registerMap("rewater-outfalls", regionGeoJson(pts));
    c.setOption({
      animation: false,
      tooltip: { formatter: (p) => esc(p.data ? p.data.tip : p.name) },
      geo: { map: "rewater-outfalls", roam: true, layoutCenter: ["50%", "50%"], layoutSize: "95%", itemStyle: { areaColor: "transparent", borderColor: "#9bb" }, emphasis: { disabled: true } },
      series: [{ type: "scatter", coordinateSystem: "geo", z: 4, data, label }],
    });
    const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
    const draw = () => c.setOption({ graphic: tileGraphics(c, tileUrl, [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)]) });
    draw();
    c.on("georoam", draw);
    el.dataset.tiles = "on";
    return;
  }
  c.setOption({
    animation: false,
    tooltip: { formatter: (p) => esc(p.data.tip) },
    grid: { left: 60, right: 60, top: 40, bottom: 40 },
    xAxis: { type: "value", scale: true, name: t("longitude"), nameLocation: "middle", nameGap: 25 },
    yAxis: { type: "value", scale: true, name: t("latitude") },
    series: [{ type: "scatter", data, label }],
  });
  el.dataset.tiles = "off";
}

async function outfallsPage() {
  const q = new URLSearchParams({ limit: PAGE, offset: outfallFilter.offset });
  for (const k of ["district", "search", "class", "compliance"]) if (outfallFilter[k]) q.set(k, outfallFilter[k]);
  const [r, cov] = await Promise.all([api("GET", "/api/outfalls?" + q), api("GET", "/api/outfall-coverage")]);
  const c = cov.coverage.total;
  const opt = (v, label, cur) => `<option value="${esc(v)}"${v === cur ? " selected" : ""}>${esc(label)}</option>`;
  main().innerHTML = `<div class="panel"><h3>${esc(t("outfalls"))}</h3>
    <form id="outfall-filter" class="row">
      <label>${esc(t("search"))} <input id="outfall-search" value="${esc(outfallFilter.search)}"></label>
      <label>${esc(t("district"))} <input id="outfall-district" value="${esc(outfallFilter.district)}" size="8"></label>
      <label>${esc(t("compliance"))} <select id="outfall-compliance">${opt("", t("all"), outfallFilter.compliance)}${["legal", "illegal", "unknown"].map((v) => opt(v, t(v), outfallFilter.compliance)).join("")}</select></label>
      <label>${esc(t("class"))} <input id="outfall-class" value="${esc(outfallFilter.class)}" size="18" placeholder="industrial.enterprise"></label>
      <button class="act" id="outfall-filter-go" type="submit">${esc(t("filter"))}</button>
    </form>
    <p id="outfall-total">${esc(t("total"))} ${fmt(r.total)} · ${esc(t("coverage"))}: ${esc(t("surveyed"))} ${fmt(c.surveyed)}/${fmt(c.outfalls)}, ${esc(t("monitoring"))} ${fmt(c.monitored)}, ${esc(t("traced"))} ${fmt(c.traced)}, ${esc(t("illegal"))} ${fmt(c.illegal)}, ${esc(t("rectified"))} ${fmt(c.rectified)}, ${esc(t("overdue"))} ${fmt(c.overdue)}</p>
    <div id="outfall-map" style="height: 320px"></div>
    <table id="outfall-table"><tr><th>${esc(t("code"))}</th><th>${esc(t("outfall_name"))}</th><th>${esc(t("class"))}</th><th>${esc(t("district"))}</th><th>${esc(t("reach"))}</th><th>${esc(t("compliance"))}</th></tr>
    ${r.outfalls.map((o) => `<tr><td>${outfallLink(o.code)}</td><td>${esc(o.name)}</td><td>${esc(state.lang === "zh" ? o.class_zh : o.class_en)}</td><td>${esc(o.district)}</td><td>${esc(o.reach)}</td><td class="${o.compliance === "illegal" ? "bad" : ""}">${esc(t(o.compliance))}</td></tr>`).join("")}</table>
    <div class="row"><button id="outfall-prev" type="button"${outfallFilter.offset === 0 ? " disabled" : ""}>${esc(t("previous"))}</button>
    <button id="outfall-next" type="button"${outfallFilter.offset + PAGE >= r.total ? " disabled" : ""}>${esc(t("next"))}</button></div>
    ${selfReportForm()}</div>`;
  wireSelfReport();
  outfallMap(document.getElementById("outfall-map"), r.outfalls.map((o) => ({ name: o.name || o.code, tip: `${o.code} ${o.name} · ${t(o.compliance)}`, lon: o.lon, lat: o.lat, kind: o.compliance })), r.tile_url);
  document.getElementById("outfall-filter").addEventListener("submit", (ev) => {
    ev.preventDefault();
    for (const k of ["search", "district", "class", "compliance"]) outfallFilter[k] = document.getElementById("outfall-" + k).value.trim();
    outfallFilter.offset = 0;
    outfallsPage().catch(outfallError);
  });
  document.getElementById("outfall-prev").addEventListener("click", () => { outfallFilter.offset = Math.max(0, outfallFilter.offset - PAGE); outfallsPage().catch(outfallError); });
  document.getElementById("outfall-next").addEventListener("click", () => { outfallFilter.offset += PAGE; outfallsPage().catch(outfallError); });
}

function spillTable(list) {
  if (!list.length) return `<p id="outfall-spills">${esc(t("no_spills"))}</p>`;
  return `<table id="outfall-spills"><tr><th>${esc(t("spill_year"))}</th><th>${esc(t("spill_count"))}</th><th>${esc(t("discharges_n"))}</th><th>${esc(t("duration_h"))}</th><th>${esc(t("volume_m3"))}</th><th>${esc(t("basis"))}</th><th>${esc(t("source"))}</th></tr>
    ${list.map((y) => `<tr><td>${y.year}</td><td>${fmt(y.spills)}</td><td>${fmt(y.discharges)}</td><td>${fmt(y.duration_h, 1)}</td><td>${y.volume_m3 === null ? "–" : fmt(y.volume_m3, 0)}</td><td>${esc(t(y.basis))}</td><td>${esc(y.source)}</td></tr>`).join("")}</table>`;
}

function selfReportForm() {
  const year = new Date().getFullYear() - 1;
  const district = (state.me && state.me.district) || outfallFilter.district || "";
  return `<form id="self-report" class="row"><strong>${esc(t("self_report"))}</strong>
    <label>${esc(t("district"))} <input id="self-report-district" value="${esc(district)}" size="8" required></label>
    <label>${esc(t("report_year"))} <input id="self-report-year" type="number" value="${year}" min="1990" max="2200"></label>
    ${["html", "pdf", "md"].map((f) => `<button type="submit" class="act" data-format="${f}">${f.toUpperCase()}</button>`).join("")}</form>`;
}

function wireSelfReport() {
  const form = document.getElementById("self-report");
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const format = (ev.submitter && ev.submitter.dataset.format) || "html";
    const q = new URLSearchParams({ district: document.getElementById("self-report-district").value.trim(), year: document.getElementById("self-report-year").value, lang: state.lang, format });
    window.open("/api/outfall-report?" + q, "_blank");
  });
}

function rectificationTable(list) {
  if (!list.length) return `<p>${esc(t("none"))}</p>`;
  return list.map((r) => `<div class="rect" data-id="${esc(r.id)}"><h4>${esc(r.id)} · ${esc(t(r.measure))} · <span class="rect-state">${esc(t(r.steps[r.steps.length - 1].state))}</span></h4>
    <p>${esc(t("problem"))}: ${esc(r.problem)} · ${esc(t("responsible_unit"))}: ${esc(r.responsible_unit)} · ${esc(t("deadline"))}: ${esc(r.deadline)}</p>
    <table class="rect-steps"><tr><th>${esc(t("state"))}</th><th>${esc(t("who"))}</th><th>${esc(t("time"))}</th><th>${esc(t("note"))}</th><th>${esc(t("evidence"))}</th></tr>
    ${r.steps.map((s) => `<tr><td>${esc(t(s.state))}</td><td>${esc(s.who)}</td><td class="time">${esc(fmtWall(s.at_ms))} (+00:00)</td><td>${esc(s.note)}</td><td>${esc(s.evidence.join(", "))}</td></tr>`).join("")}</table>
    <form class="rect-step row"><select class="rect-to">${["in_progress", "done", "signed_off", "returned"].map((v) => `<option value="${v}">${esc(t(v))}</option>`).join("")}</select>
    <input class="rect-note" placeholder="${esc(t("note"))}"><input class="rect-evidence" placeholder="${esc(t("evidence"))}">
    <button class="act rect-go" type="submit">${esc(t("add_step"))}</button></form></div>`).join("");
}

async function outfallPage(code) {
  const r = await api("GET", "/api/outfalls/" + encodeURIComponent(code));
  const o = r.outfall;
  const kv = (k, v) => `<tr><th>${esc(t(k))}</th><td>${v}</td></tr>`;
  const ds = r.downstream.reached;
  main().innerHTML = `<div class="panel"><h3 id="outfall-title">${esc(o.name)} · ${esc(o.code)}</h3>
    <table id="outfall-record">${kv("class", esc(state.lang === "zh" ? r.line.class_zh : r.line.class_en))}${kv("district", esc(o.district))}
    ${kv("reach", `${esc(o.reach)} @ ${fmt(o.chainage_m)} m`)}${kv("location", `${fmt(o.location.lon, 5)}, ${fmt(o.location.lat, 5)} (${esc(o.location.datum)})`)}
    ${kv("compliance", `<span id="outfall-compliance-value">${esc(t(o.compliance))}</span>`)}${kv("responsible", esc(o.responsible))}${kv("approval", esc(o.approval || "–"))}
    ${kv("survey", `${esc(t("survey_level"))} ${esc(o.survey_level || "–")} · ${esc(o.survey_date || "–")}`)}${kv("evidence", esc(o.evidence.join(", ") || "–"))}</table></div>
    <div class="panel" id="outfall-chain"><h3>${esc(t("chain"))}</h3>
    <p>${esc(t("channels"))}: ${esc(r.chain.channels.join(", ") || t("none"))}</p>
    <table id="chain-dischargers"><tr><th>${esc(t("code"))}</th><th>${esc(t("dischargers"))}</th><th>${esc(t("permit"))}</th><th>${esc(t("outlets"))}</th></tr>
    ${r.dischargers.map((d) => `<tr><td>${esc(d.code)}</td><td>${esc(d.name)}</td><td>${esc(d.permit || "–")}</td><td>${esc(d.outlets.join(", "))}</td></tr>`).join("")}</table></div>
    <div class="panel"><h3>${esc(t("monitoring"))} · ${esc(t("spills"))}</h3>
    <p>${esc(t("monitored_on"))}: ${esc(o.monitored_on || "–")} · ${esc(t("site_mn"))}: ${esc(o.site_mn || "–")} · ${esc(o.flow_m3_per_s === null ? "–" : fmt(o.flow_m3_per_s, 3) + " m³/s")} (${esc(t(o.discharge_basis))})
    · ${Object.entries(o.conc_mg_per_l).map(([k, v]) => `${esc(k)} ${fmt(v, 2)} mg/L`).join(", ")}</p>
    <p>${o.overflow_outlet ? `${esc(t("overflow_outlet"))}: ${esc(o.overflow_outlet)}` : esc(t("no_overflow_outlet"))}</p>
    ${spillTable(r.spills)}
    <h4>${esc(t("downstream"))} (COD)</h4>
    <table id="outfall-downstream"><tr><th>${esc(t("section"))}</th><th>${esc(t("travel_time_h"))}</th><th>${esc(t("increment"))}</th></tr>
    ${ds.map((s) => `<tr><td><a href="#/trace/${encodeURIComponent(s.section)}">${esc(s.section)}</a></td><td>${fmt(s.travel_time_s / 3600, 2)}</td><td>${fmt(s.concentration_increment_mg_per_l, 3)}</td></tr>`).join("")}</table></div>
    <div class="panel"><h3>${esc(t("rectification"))}</h3><div id="rect-list">${rectificationTable(r.rectifications)}</div>
    <form id="rect-open" class="row"><input id="rect-problem" placeholder="${esc(t("problem"))}" required>
    <select id="rect-measure">${["ban", "merge", "regulate"].map((v) => `<option value="${v}">${esc(t(v))}</option>`).join("")}</select>
    <input id="rect-unit" placeholder="${esc(t("responsible_unit"))}" required><input id="rect-deadline" type="date" required>
    <button class="act" id="rect-open-go" type="submit">${esc(t("open_record"))}</button></form><div class="error" id="rect-error"></div></div>
    <div class="panel"><h3>${esc(t("versions"))}</h3><table id="outfall-versions"><tr><th>${esc(t("version"))}</th><th>${esc(t("who"))}</th><th>${esc(t("reason"))}</th><th>${esc(t("time"))}</th></tr>
    ${r.versions.map((v) => `<tr><td>${v.version}</td><td>${esc(v.who)}</td><td>${esc(v.reason)}</td><td class="time">${esc(fmtTime(v.at))}</td></tr>`).join("")}</table></div>`;
  const fail = (e) => { document.getElementById("rect-error").textContent = e.message; };
  document.getElementById("rect-open").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = (id) => document.getElementById(id).value.trim();
    try {
      await api("POST", `/api/outfalls/${encodeURIComponent(code)}/rectifications`, { problem: v("rect-problem"), measure: v("rect-measure"), responsible_unit: v("rect-unit"), deadline: v("rect-deadline") });
      await outfallPage(code);
    } catch (e) { fail(e); }
  });
  document.querySelectorAll(".rect").forEach((div) => div.querySelector(".rect-step").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const evidence = div.querySelector(".rect-evidence").value.split(",").map((x) => x.trim()).filter((x) => x);
    try {
      await api("POST", `/api/rectifications/${encodeURIComponent(div.dataset.id)}/state`, { state: div.querySelector(".rect-to").value, note: div.querySelector(".rect-note").value, evidence });
      await outfallPage(code);
    } catch (e) { fail(e); }
  }));
}

async function tracePage(section) {
  const sections = (await api("GET", "/api/outfall-sections")).sections;
  const cur = section || (sections[0] && sections[0].id) || "";
  main().innerHTML = `<div class="panel"><h3>${esc(t("trace"))}</h3>
    <form id="trace-form" class="row"><label>${esc(t("section"))} <select id="trace-section">${sections.map((s) => `<option value="${esc(s.id)}"${s.id === cur ? " selected" : ""}>${esc(s.id)} ${esc(s.name)}</option>`).join("")}</select></label>
    <label>${esc(t("factor"))} <input id="trace-factor" value="cod" size="6"></label>
    <label>${esc(t("observed"))} <input id="trace-observed" type="number" step="any" size="6"></label>
    <label>${esc(t("background"))} <input id="trace-background" type="number" step="any" value="0" size="6"></label>
    <label>${esc(t("max_travel_h"))} <input id="trace-max" type="number" step="any" size="6"></label>
    <button class="act" id="trace-go" type="submit">${esc(t("run_trace"))}</button></form>
    <div class="error" id="trace-error"></div><div id="trace-result"></div></div>`;
  document.getElementById("trace-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const num = (id) => { const v = document.getElementById(id).value; return v === "" ? undefined : Number(v); };
    const body = { section: document.getElementById("trace-section").value, factor: document.getElementById("trace-factor").value || "cod", observed_mg_per_l: num("trace-observed"), background_mg_per_l: num("trace-background") || 0, max_travel_h: num("trace-max") };
    try {
      const [resp, all] = await Promise.all([api("POST", "/api/outfall-trace", body), api("GET", "/api/outfalls?limit=500")]);
      const b = resp.trace;
      const where = Object.fromEntries(all.outfalls.map((o) => [o.code, o]));
      document.getElementById("trace-error").textContent = "";
      document.getElementById("trace-result").innerHTML = `<table id="trace-table"><tr><th>${esc(t("rank"))}</th><th>${esc(t("outfall"))}</th><th>${esc(t("district"))}</th><th>${esc(t("travel_time_h"))}</th><th>${esc(t("delivered_load"))}</th><th>${esc(t("share_observed"))}</th><th>${esc(t("share_ranked"))}</th><th>${esc(t("dischargers"))}</th><th>${esc(t("basis"))}</th></tr>
        ${b.sources.map((s, i) => `<tr><td>${i + 1}</td><td>${outfallLink(s.outfall)}</td><td>${esc(s.district)}</td><td>${fmt(s.travel_time_s / 3600, 2)}</td><td>${fmt(s.delivered_load_g_per_s, 3)}</td><td>${pct(s.share_of_observed)}</td><td>${pct(s.share_of_ranked)}</td><td>${esc(s.dischargers.join(", "))}</td><td>${esc(t(s.discharge_basis))}</td></tr>`).join("")}</table>
        <div id="trace-map" style="height: 320px"></div>
        <p id="trace-summary">${esc(t("observed"))}: ${fmt(b.observed_mg_per_l, 3)}${resp.observed_from ? " (" + esc(resp.observed_from) + ")" : ""} · ${esc(t("unexplained"))}: ${pct(b.unexplained_share)} · ${esc(t("outside_window"))}: ${fmt(b.outside_window)} · ${esc(t("without_data"))}: ${esc(b.without_data.join(", ") || t("none"))} · ${esc(t("measured"))} ${fmt(b.sources_measured)} / ${esc(t("estimated"))} ${fmt(b.sources_estimated)}</p>
        ${resp.discharges_from.length ? `<p id="trace-loggers">${esc(t("discharges_from"))}: ${resp.discharges_from.map((u) => `${esc(u.outfall)} (${esc(u.site_mn)}${u.data_time ? " " + esc(fmtTime(u.data_time)) : ""}${u.kept ? " · " + esc(u.kept) : ""})`).join("; ")}</p>` : ""}`;
      // Ranked sources drawn where they are, sized by their share of the ranked load.
      const ranked = b.sources.filter((s) => where[s.outfall]).map((s, i) => ({ name: `${i + 1}. ${where[s.outfall].name || s.outfall}`, tip: `${s.outfall} · ${pct(s.share_of_ranked)}`, lon: where[s.outfall].lon, lat: where[s.outfall].lat, kind: where[s.outfall].compliance, size: 10 + 30 * (s.share_of_ranked || 0) }));
      outfallMap(document.getElementById("trace-map"), ranked, all.tile_url);
    } catch (e) { document.getElementById("trace-error").textContent = e.message; }
  });
}

registerPage({ id: "outfalls", nav: true, admin: false, render: () => outfallsPage() });
registerPage({ id: "outfall", nav: false, admin: false, render: (code) => outfallPage(code) });
registerPage({ id: "trace", nav: true, admin: false, render: (section) => tracePage(section) });
