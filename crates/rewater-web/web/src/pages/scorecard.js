// Scorecard page (指标考核): a scenario's indicators by district and year against the plans'
// targets (GET /api/scenarios/NAME/scorecard), with each indicator's trajectory against its
// targets in ECharts. District operators get their district only (the API filters).
"use strict";

addLabels({
  zh: {
    scorecard: "指标考核", sc_model: "情景模型", sc_sets: "目标集（逗号分隔，空为模型所带）", sc_show: "计算",
    sc_district: "区域", sc_year: "年份", sc_indicator: "指标", sc_value: "数值", sc_target: "目标",
    sc_status: "状态", sc_trend: "较基准年", sc_source: "出处", sc_whole: "全域", sc_trajectory: "轨迹与目标",
    sc_met: "达标", sc_not_met: "未达标", sc_not_reported: "未报送", sc_qualitative: "定性目标", sc_no_target: "无目标",
    sc_improving: "向好", sc_worsening: "变差", sc_unchanged: "持平", sc_none: "没有情景模型", sc_other: "其他目标（无对应指标）", sc_unmatched: "未报送任何数据的区域的目标",
  },
  en: {
    scorecard: "Scorecard", sc_model: "Scenario model", sc_sets: "Target sets (comma-separated; empty: the model's)", sc_show: "Compute",
    sc_district: "District", sc_year: "Year", sc_indicator: "Indicator", sc_value: "Value", sc_target: "Target",
    sc_status: "Status", sc_trend: "Since baseline", sc_source: "Source", sc_whole: "whole region", sc_trajectory: "Trajectory and targets",
    sc_met: "met", sc_not_met: "not met", sc_not_reported: "not reported", sc_qualitative: "qualitative", sc_no_target: "no target",
    sc_improving: "improving", sc_worsening: "worsening", sc_unchanged: "unchanged", sc_none: "No scenario models", sc_other: "Other targets (no indicator)", sc_unmatched: "Targets of districts with nothing reported",
  },
});

function scText(x) { return x ? (state.lang === "zh" ? x.zh : x.en) : ""; }

function scTarget(tc) {
  if (tc.comparator) {
    const sym = { ge: "≥", gt: ">", le: "≤", lt: "<", eq: "=" }[tc.comparator];
    return `${sym} ${fmt(tc.value, 2)}`;
  }
  return "“" + scText(tc.qualitative) + "”";
}

function scTrajectory(el, card, district, indicator) {
  const rows = card.rows.filter((r) => r.district === district && r.indicator === indicator);
  if (!rows.length) return;
  const years = card.years.map(String);
  const value = card.years.map((y) => { const r = rows.find((x) => x.year === y); return r && r.value !== null ? r.value : null; });
  const target = card.years.map((y) => {
    const r = rows.find((x) => x.year === y);
    const tc = r && r.targets.find((t) => t.value !== null && t.value !== undefined);
    return tc ? tc.value : null;
  });
  const c = chart(el);
  c.setOption({
    title: { text: scText(rows[0].name) + " (" + scText(rows[0].unit_text) + ")", textStyle: { fontSize: 13 } },
    tooltip: { trigger: "axis" },
    legend: { data: [t("sc_value"), t("sc_target")], top: 24 },
    grid: { top: 60, left: 50, right: 20, bottom: 30 },
    xAxis: { type: "category", data: years },
    yAxis: { type: "value" },
    series: [
      { name: t("sc_value"), type: "line", data: value, connectNulls: false },
      { name: t("sc_target"), type: "scatter", symbol: "diamond", symbolSize: 12, data: target },
    ],
  });
}

async function scorecardPage(arg) {
  const m = main();
  const list = await api("GET", "/api/scenarios");
  if (!list.models.length) { m.innerHTML = `<h2>${esc(t("scorecard"))}</h2><p>${esc(t("sc_none"))}</p>`; return; }
  const name = arg || list.models[0].name;
  const opts = list.models.map((x) => `<option ${x.name === name ? "selected" : ""}>${esc(x.name)}</option>`).join("");
  m.innerHTML = `<h2>${esc(t("scorecard"))}</h2>
    <form id="sc-form"><label>${esc(t("sc_model"))} <select id="sc-model">${opts}</select></label>
    <label>${esc(t("sc_sets"))} <input id="sc-sets" size="40"></label>
    <button>${esc(t("sc_show"))}</button></form><div id="sc-out"></div>`;
  const out = document.getElementById("sc-out");
  const show = async () => {
    const model = document.getElementById("sc-model").value;
    const sets = document.getElementById("sc-sets").value.trim();
    out.textContent = "…";
    clearCharts();
    let body;
    try {
      body = await api("GET", `/api/scenarios/${encodeURIComponent(model)}/scorecard` + (sets ? `?targets=${encodeURIComponent(sets)}` : ""));
    } catch (e) { out.textContent = e.message; return; }
    const card = body.scorecard;
    const head = [t("sc_district"), t("sc_year"), t("sc_indicator"), t("sc_value"), t("sc_target"), t("sc_status"), t("sc_trend"), t("sc_source")]
      .map((h) => `<th>${esc(h)}</th>`).join("");
    const rows = card.rows.map((r, i) => {
      const value = r.value === null ? `${esc(t("sc_not_reported"))} <small>(${esc(r.missing.join(", "))})</small>` : `${fmt(r.value, 2)} ${esc(scText(r.unit_text))}`;
      const trend = r.trend ? `${esc(t("sc_" + r.trend.direction))} ${fmt(r.trend.change, 2)} (${r.baseline.year})` : "";
      const src = r.targets.map((tc) => `<span title="${esc(tc.quote)}">${esc(tc.set)} ${esc(tc.section)}</span>`).join("<br>");
      return `<tr class="sc-${esc(r.status)}" data-i="${i}"><td>${esc(r.district ? scText(r.district_name) : t("sc_whole"))}</td><td>${r.year}</td>
        <td><a href="#" data-d="${esc(r.district)}" data-ind="${esc(r.indicator)}">${esc(scText(r.name))}</a></td><td>${value}</td>
        <td>${r.targets.map(scTarget).map(esc).join("<br>")}</td><td>${esc(t("sc_" + r.status))}</td><td>${trend}</td><td>${src}</td></tr>`;
    }).join("");
    const unmatched = card.unmatched_district_targets.map((o) => `<li>${esc(scText(o.target.district_name) || o.target.district)} ${o.target.year} ${esc(o.target.indicator)} ${esc(o.target.comparator ? scTarget(o.target) : scText(o.target.qualitative))} <small>[${esc(o.set)} ${esc(o.target.section)}]</small></li>`).join("");
    const other = card.other_targets.map((o) => `<li>${o.target.year} ${esc(scText(o.target.qualitative))} <small>[${esc(o.set)} ${esc(o.target.section)}]</small></li>`).join("");
    out.innerHTML = `<div id="sc-chart" style="height:280px"></div>
      <table class="grid"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>
      ${unmatched ? `<h3>${esc(t("sc_unmatched"))}</h3><ul>${unmatched}</ul>` : ""}
      ${other ? `<h3>${esc(t("sc_other"))}</h3><ul>${other}</ul>` : ""}`;
    const el = document.getElementById("sc-chart");
    const first = card.rows.find((r) => r.targets.some((x) => x.value !== null && x.value !== undefined)) || card.rows[0];
    if (first) scTrajectory(el, card, first.district, first.indicator);
    out.querySelectorAll("a[data-ind]").forEach((a) => a.addEventListener("click", (ev) => {
      ev.preventDefault();
      clearCharts();
      scTrajectory(el, card, a.dataset.d, a.dataset.ind);
    }));
  };
  document.getElementById("sc-form").addEventListener("submit", (ev) => { ev.preventDefault(); show(); });
  await show();
}

registerPage({ id: "scorecard", nav: true, admin: false, render: scorecardPage });
