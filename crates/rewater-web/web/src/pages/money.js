// Money (资金, issue 17): the ledgers of rewater-money — water-ecology compensation between
// districts (the default tab), construction funding shares, rural O&M subsidies and
// pay-for-performance fees — computed by the API from the tables pasted here (CSV text; the
// example of examples/money can be loaded). Every table computed under a rule that is not
// confirmed carries the UNVERIFIED mark. District operators get their district's rows only
// (the API enforces it). Routes: #/money, #/money/compensation|funding|subsidies|fees|cost
// (cost: unit cost per plant and supply route of a scenario's run).
"use strict";

addLabels({
  zh: {
    money: "资金", money_compensation: "水生态区域补偿", money_funding: "建设资金分担", money_subsidies: "运营维护补贴",
    money_fees: "按效付费", money_load_example: "载入示例", money_compute: "计算", money_computing: "正在计算…",
    money_sections: "跨界断面 (CSV)", money_values: "逐月监测值 (CSV)", money_year: "年度", money_rule: "规则",
    money_from_store: "同时读取监测库的月均值", money_projects: "项目清单 (CSV)", money_facilities: "污水设施 (CSV)",
    money_stations: "村庄供水站 (CSV)", money_months: "逐月运行数据 (CSV)", money_unverified: "含未经核实的规则 (UNVERIFIED)",
    money_cost: "再生水成本", money_scenario: "情景模型", money_no_scenario: "没有可计算成本的情景模型",
    money_district_only: "仅显示本区", money_rules: "规则集", money_confidence: "可信度", money_document: "文件", money_valid: "有效期",
  },
  en: {
    money: "Money", money_compensation: "Water-ecology compensation", money_funding: "Funding shares", money_subsidies: "O&M subsidies",
    money_fees: "Pay for performance", money_load_example: "Load the example", money_compute: "Compute", money_computing: "Computing…",
    money_sections: "Boundary sections (CSV)", money_values: "Monthly values (CSV)", money_year: "Year", money_rule: "Rule set",
    money_from_store: "also read monthly means from the monitoring store", money_projects: "Project list (CSV)", money_facilities: "Rural facilities (CSV)",
    money_stations: "Village water stations (CSV)", money_months: "Plant months (CSV)", money_unverified: "rests on unverified rules (UNVERIFIED)",
    money_cost: "Reclaimed-water cost", money_scenario: "Scenario model", money_no_scenario: "no scenario model to cost",
    money_district_only: "your district only", money_rules: "Rule sets", money_confidence: "Confidence", money_document: "Document", money_valid: "In force",
  },
});

const moneyTabs = ["compensation", "funding", "subsidies", "fees", "cost"];
// What was typed stays when the tab or the language changes.
const moneyInputs = {};

function moneyCell(c) {
  if (c === null || c === undefined) return "";
  if (typeof c === "number") return esc(Math.abs(c) >= 1000 ? c.toLocaleString("en-US", { maximumFractionDigits: 2 }) : String(c));
  return esc(c);
}

function moneyTables(body) {
  const en = state.lang === "en";
  const pick = (x) => (en ? x.en : x.zh);
  return `${body.district ? `<p class="muted" id="money-scope">${esc(t("money_district_only"))}: ${esc(body.district)}</p>` : ""}
    ${body.unverified ? `<p class="bad" id="money-unverified">${esc(t("money_unverified"))}</p>` : ""}
    ${body.tables.map((tb) => `<div class="panel"><h3 class="money-title">${esc(pick(tb.title))}${tb.unverified ? ' <span class="bad">[UNVERIFIED]</span>' : ""}</h3>
      <table class="money-table" id="money-${esc(tb.id)}"><tr>${tb.columns.map((c) => `<th>${esc(pick(c))}</th>`).join("")}</tr>
      ${tb.rows.map((r) => `<tr>${r.map((c) => `<td${typeof c === "number" ? ' class="num"' : ""}>${moneyCell(c)}</td>`).join("")}</tr>`).join("")}</table>
      ${tb.notes.map((n) => `<p class="muted">${esc(pick(n))}</p>`).join("")}</div>`).join("")}`;
}

function moneyArea(id, label, rows) {
  return `<label class="money-input">${esc(t(label))}<br><textarea id="money-${id}" rows="${rows || 6}" cols="100" spellcheck="false">${esc(moneyInputs[id] || "")}</textarea></label>`;
}

async function moneyPage(arg) {
  const tab = moneyTabs.includes(arg) ? arg : "compensation";
  const rules = await api("GET", "/api/money/rules");
  const compSets = rules.sets.filter((s) => s.kind === "compensation");
  const year = moneyInputs.year || 2022;
  // The cost ledger runs a scenario's model: unit cost per plant and per supply route.
  const models = tab === "cost" ? (await api("GET", "/api/scenarios")).models : [];
  const forms = {
    compensation: `${moneyArea("sections", "money_sections")}${moneyArea("values", "money_values", 8)}
      <div class="row"><label>${esc(t("money_year"))} <input id="money-year" type="number" min="1900" max="2200" value="${esc(year)}"></label>
      <label>${esc(t("money_rule"))} <select id="money-rule">${compSets.map((s) => `<option value="${esc(s.id)}">${esc(s.id)} (${esc(s.confidence)})</option>`).join("")}</select></label>
      <label><input type="checkbox" id="money-store"> ${esc(t("money_from_store"))}</label></div>`,
    funding: moneyArea("projects", "money_projects", 10),
    subsidies: `${moneyArea("facilities", "money_facilities")}${moneyArea("stations", "money_stations")}`,
    fees: moneyArea("months", "money_months", 8),
    cost: models.length
      ? `<div class="row"><label>${esc(t("money_scenario"))} <select id="money-scenario">${models.map((x) => `<option ${x.name === moneyInputs.scenario ? "selected" : ""}>${esc(x.name)}</option>`).join("")}</select></label></div>`
      : `<p class="muted">${esc(t("money_no_scenario"))}</p>`,
  };
  main().innerHTML = `<div class="panel"><h3>${esc(t("money"))}</h3>
    <nav class="row" id="money-tabs">${moneyTabs.map((x) => `<a href="#/money/${x}" class="${x === tab ? "active" : ""}" data-tab="${x}">${esc(t("money_" + x))}</a>`).join(" · ")}</nav>
    <form id="money-form" data-tab="${tab}">${forms[tab]}
      <div class="row"><button type="button" class="act" id="money-example">${esc(t("money_load_example"))}</button>
      <button type="submit" class="act" id="money-submit">${esc(t("money_compute"))}</button><span id="money-status"></span></div></form>
    <div class="error" id="money-error"></div></div>
    <div id="money-result"></div>
    <div class="panel"><h3>${esc(t("money_rules"))}</h3><table id="money-rules"><tr><th>id</th><th>${esc(t("money_document"))}</th><th>${esc(t("money_valid"))}</th><th>${esc(t("money_confidence"))}</th></tr>
      ${rules.sets.map((s) => `<tr><td><code>${esc(s.id)}</code> ${esc(s.version)}</td><td>${esc(s.document)}</td><td>${esc(s.valid_from)} – ${esc(s.valid_to || "")}</td><td class="${s.confidence === "UNVERIFIED" ? "bad" : ""}">${esc(s.confidence)}</td></tr>`).join("")}</table></div>`;
  const val = (id) => { const el = document.getElementById("money-" + id); return el ? el.value : undefined; };
  const keep = () => ["sections", "values", "projects", "facilities", "stations", "months", "year", "scenario"].forEach((k) => { if (val(k) !== undefined) moneyInputs[k] = val(k); });
  document.querySelectorAll("#money-tabs a").forEach((a) => a.addEventListener("click", keep));
  document.getElementById("money-example").addEventListener("click", async () => {
    const ex = await api("GET", "/api/money/examples");
    Object.assign(moneyInputs, { sections: ex.sections, values: ex.values, projects: ex.projects, facilities: ex.facilities, stations: ex.stations, months: ex.months, year: ex.year });
    await moneyPage(tab);
  });
  document.getElementById("money-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    keep();
    const status = document.getElementById("money-status");
    const err = document.getElementById("money-error");
    status.textContent = t("money_computing");
    err.textContent = "";
    const opt = (s) => (s && s.trim() ? s : undefined);
    const bodies = {
      compensation: () => ["/api/money/compensation", { sections: val("sections"), values: opt(val("values")), year: Number(val("year")), rule: val("rule"), from_store: document.getElementById("money-store").checked, lang: state.lang }],
      funding: () => ["/api/money/funding", { projects: val("projects"), lang: state.lang }],
      subsidies: () => ["/api/money/subsidies", { facilities: opt(val("facilities")), stations: opt(val("stations")), lang: state.lang }],
      fees: () => ["/api/money/fees", { months: val("months"), lang: state.lang }],
      cost: () => [`/api/scenarios/${encodeURIComponent(val("scenario") || "")}/money/cost?lang=${state.lang}`, null],
    };
    try {
      const [path, body] = bodies[tab]();
      const r = body === null ? await api("GET", path) : await api("POST", path, body);
      document.getElementById("money-result").innerHTML = moneyTables(r);
      status.textContent = "";
    } catch (e) {
      status.textContent = "";
      err.textContent = e.message;
    }
  });
}

registerPage({ id: "money", nav: true, admin: false, render: moneyPage });
