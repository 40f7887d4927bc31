// Planning optimisation (规划方案优化, issue 18 item 6): pick a study (the optimise.toml beside
// a bundled scenario model), start a run with its generations and population, and watch the
// cost–reuse scatter grow (polled every second): every design evaluated, the cost–reuse
// front, the table of front points with their designs, the least cost per reuse target.
// Route: #/optimise (#/optimise/ID shows run ID).
"use strict";

addLabels({
  zh: {
    optimise: "规划优化", opt_study: "优化方案", opt_generations: "迭代代数", opt_population: "种群规模", opt_start: "开始优化",
    opt_cancel: "停止", opt_generation: "代数", opt_evaluations: "已评估方案", opt_cache_hits: "缓存命中", opt_status: "状态",
    opt_running: "运行中", opt_done: "完成", opt_failed: "失败", opt_cancelled: "已停止", opt_cloud: "全部方案",
    opt_infeasible: "不满足约束的方案", opt_front: "费用–利用率前沿", opt_annual_cost: "年化费用（元/年）", opt_capex: "投资（元）",
    opt_reuse: "再生水利用率", opt_delivered: "年配水量（m³）", opt_design: "方案内容", opt_targets: "各利用率目标的最低费用",
    opt_target: "利用率目标", opt_no_design: "尚无满足目标的可行方案", opt_runs: "优化运行", opt_none: "不建", opt_not_built: "未建",
    opt_who: "发起人", opt_seed: "随机种子", opt_no_studies: "没有可运行的优化方案", opt_yes: "是", opt_no: "否", opt_nothing: "维持现状（不新建）",
  },
  en: {
    optimise: "Planning optimisation", opt_study: "Study", opt_generations: "Generations", opt_population: "Population", opt_start: "Start",
    opt_cancel: "Stop", opt_generation: "Generation", opt_evaluations: "Designs evaluated", opt_cache_hits: "Cache hits", opt_status: "Status",
    opt_running: "Running", opt_done: "Done", opt_failed: "Failed", opt_cancelled: "Stopped", opt_cloud: "All designs",
    opt_infeasible: "Designs breaking a constraint", opt_front: "Cost–reuse front", opt_annual_cost: "Annualised cost (yuan/year)", opt_capex: "Capital cost (yuan)",
    opt_reuse: "Reuse rate", opt_delivered: "Delivered per year (m³)", opt_design: "Design", opt_targets: "Least cost per reuse target",
    opt_target: "Reuse target", opt_no_design: "no feasible design reaches it yet", opt_runs: "Optimisation runs", opt_none: "none", opt_not_built: "not built",
    opt_who: "Started by", opt_seed: "Seed", opt_no_studies: "No study to run", opt_yes: "yes", opt_no: "no", opt_nothing: "as today (nothing built)",
  },
});

// The run shown and its evaluated designs (fetched incrementally with ?since=).
const optState = { id: null, cloud: [], timer: null, chart: null };

function optOption(v) {
  // "none" and "none (X not built)" come from the study's option names.
  if (v === "none") return t("opt_none");
  if (v === "yes" || v === "no") return t("opt_" + v);
  const m = /^none \((.*) not built\)$/.exec(v);
  return m ? `${t("opt_none")} (${m[1]} ${t("opt_not_built")})` : v;
}

// A design's summary: what it builds or connects (options "none", "no", "+0 …" left out).
function optDesign(run, design) {
  const en = state.lang === "en";
  const built = run.variables.filter((v) => {
    const x = design[v.id] || "";
    return !(x === "no" || x.startsWith("none") || x.startsWith("+0 "));
  });
  if (!built.length) return `<span class="muted">${esc(t("opt_nothing"))}</span>`;
  return built.map((v) => `${esc(en ? v.en : v.zh)}: <b>${esc(optOption(design[v.id]))}</b>`).join("<br>");
}

function optRender(run) {
  const info = document.getElementById("opt-state");
  if (!info) return false;
  info.innerHTML = `<span id="opt-status" data-status="${esc(run.status)}">${esc(t("opt_" + run.status))}</span> ·
    ${esc(t("opt_generation"))} <span id="opt-generation">${run.generation}</span> / ${run.generations} ·
    ${esc(t("opt_evaluations"))} <span id="opt-evaluations">${run.evaluations}</span> · ${esc(t("opt_cache_hits"))} ${run.cache_hits}
    ${run.error ? `<div class="error">${esc(run.error)}</div>` : ""}`;
  document.getElementById("opt-cancel").hidden = run.status !== "running";
  optState.cloud = optState.cloud.concat(run.cloud);
  const feasible = optState.cloud.filter((c) => c[2]).map((c) => [c[0], 100 * c[1]]);
  const infeasible = optState.cloud.filter((c) => !c[2]).map((c) => [c[0], 100 * c[1]]);
  const front = run.cost_reuse.map((p) => [p.annual_cost_yuan, 100 * p.reuse_rate]);
  optState.chart.setOption({
    tooltip: { trigger: "item" },
    legend: { top: 0 },
    grid: { left: 90, right: 30, top: 40, bottom: 50 },
    xAxis: { type: "value", scale: true, name: t("opt_annual_cost"), nameLocation: "middle", nameGap: 30 },
    yAxis: { type: "value", scale: true, name: t("opt_reuse") + " (%)" },
    series: [
      { name: t("opt_cloud"), type: "scatter", symbolSize: 5, itemStyle: { color: "#9bb" }, data: feasible },
      { name: t("opt_infeasible"), type: "scatter", symbolSize: 4, itemStyle: { color: "#dbb" }, data: infeasible },
      { name: t("opt_front"), type: "line", step: "end", symbolSize: 8, itemStyle: { color: "#c33" }, data: front },
    ],
  });
  document.getElementById("opt-chart").dataset.points = String(optState.cloud.length);
  document.getElementById("opt-targets").innerHTML = `<tr><th>${esc(t("opt_target"))}</th><th>${esc(t("opt_annual_cost"))}</th><th>${esc(t("opt_capex"))}</th><th>${esc(t("opt_reuse"))}</th><th>${esc(t("opt_design"))}</th></tr>
    ${run.targets.map((tg) => {
      const p = tg.point === null || tg.point === undefined ? null : run.cost_reuse[tg.point];
      return p ? `<tr><td>≥ ${pct(tg.target)}</td><td class="num">${fmt(p.annual_cost_yuan)}</td><td class="num">${fmt(p.capex_yuan)}</td><td class="num">${pct(p.reuse_rate)}</td><td>${optDesign(run, p.design)}</td></tr>`
        : `<tr><td>≥ ${pct(tg.target)}</td><td colspan="4" class="muted">${esc(t("opt_no_design"))}</td></tr>`;
    }).join("")}`;
  document.getElementById("opt-front").innerHTML = `<tr><th>#</th><th>${esc(t("opt_annual_cost"))}</th><th>${esc(t("opt_capex"))}</th><th>${esc(t("opt_reuse"))}</th><th>${esc(t("opt_delivered"))}</th><th>${esc(t("opt_design"))}</th></tr>
    ${run.cost_reuse.map((p, i) => `<tr><td>${i + 1}</td><td class="num">${fmt(p.annual_cost_yuan)}</td><td class="num">${fmt(p.capex_yuan)}</td><td class="num">${pct(p.reuse_rate)}</td><td class="num">${fmt(p.delivered_m3_per_year)}</td><td>${optDesign(run, p.design)}</td></tr>`).join("")}`;
  return true;
}

async function optPoll(id) {
  clearTimeout(optState.timer);
  if (optState.id !== id || !location.hash.startsWith("#/optimise")) return;
  let run;
  try {
    run = await api("GET", `/api/optimise/runs/${id}?since=${optState.cloud.length}`);
  } catch (e) {
    const err = document.getElementById("opt-error");
    if (err) err.textContent = e.message;
    return;
  }
  if (optState.id !== id || !optRender(run)) return;
  if (run.status === "running") optState.timer = setTimeout(() => optPoll(id), 1000);
}

function optShow(id) {
  optState.id = id;
  optState.cloud = [];
  optState.chart = chart(document.getElementById("opt-chart"));
  document.getElementById("opt-run").hidden = false;
  optPoll(id);
}

async function optimisePage(arg) {
  clearTimeout(optState.timer);
  const body = await api("GET", "/api/optimise/studies");
  const en = state.lang === "en";
  const canRun = state.me && state.me.role !== "viewer";
  const studies = body.studies;
  main().innerHTML = `<div class="panel"><h3>${esc(t("optimise"))}</h3>
    ${studies.length ? "" : `<p class="muted">${esc(t("opt_no_studies"))}</p>`}
    <form id="opt-form" class="row" novalidate>
      <label>${esc(t("opt_study"))} <select id="opt-study">${studies.map((s) => `<option value="${esc(s.name)}">${esc(en ? s.title_en : s.title_zh)}</option>`).join("")}</select></label>
      <label>${esc(t("opt_generations"))} <input id="opt-generations" type="number" min="0" max="${body.max_generations}" value="${studies[0] ? studies[0].generations : 10}"></label>
      <label>${esc(t("opt_population"))} <input id="opt-population" type="number" min="4" step="2" max="${body.max_population}" value="${studies[0] ? studies[0].population : 40}"></label>
      <button type="submit" class="act" id="opt-start" ${canRun && studies.length ? "" : "disabled"}>${esc(t("opt_start"))}</button>
    </form><div class="error" id="opt-error"></div></div>
    <div class="panel" id="opt-run" hidden>
      <div class="row"><div id="opt-state"></div><button type="button" class="act" id="opt-cancel" hidden>${esc(t("opt_cancel"))}</button></div>
      <div id="opt-chart" style="height:420px"></div>
      <h3>${esc(t("opt_targets"))}</h3><table class="grid" id="opt-targets"></table>
      <h3>${esc(t("opt_front"))}</h3><table class="grid" id="opt-front"></table>
    </div>
    <div class="panel"><h3>${esc(t("opt_runs"))}</h3><table class="grid" id="opt-runs"><tr><th>#</th><th>${esc(t("opt_study"))}</th><th>${esc(t("opt_who"))}</th><th>${esc(t("opt_status"))}</th><th>${esc(t("opt_generation"))}</th><th>${esc(t("opt_evaluations"))}</th><th>${esc(t("opt_seed"))}</th></tr>
      ${body.runs.map((r) => `<tr><td><a href="#/optimise/${r.id}">${r.id}</a></td><td>${esc(r.study)}</td><td>${esc(r.who)}</td><td>${esc(t("opt_" + r.status))}</td><td>${r.generation} / ${r.generations}</td><td>${r.evaluations}</td><td>${r.seed}</td></tr>`).join("")}</table></div>`;
  const pick = document.getElementById("opt-study");
  pick.addEventListener("change", () => {
    const s = studies.find((x) => x.name === pick.value);
    if (!s) return;
    document.getElementById("opt-generations").value = s.generations;
    document.getElementById("opt-population").value = s.population;
  });
  document.getElementById("opt-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = document.getElementById("opt-error");
    err.textContent = "";
    try {
      const run = await api("POST", "/api/optimise/runs", {
        study: pick.value,
        generations: Number(document.getElementById("opt-generations").value),
        population: Number(document.getElementById("opt-population").value),
      });
      history.replaceState(null, "", `#/optimise/${run.id}`);
      optShow(run.id);
    } catch (e) {
      err.textContent = e.message;
    }
  });
  document.getElementById("opt-cancel").addEventListener("click", async () => {
    try { await api("POST", `/api/optimise/runs/${optState.id}/cancel`); } catch (e) { document.getElementById("opt-error").textContent = e.message; }
  });
  const id = Number(arg);
  if (arg !== undefined && Number.isInteger(id) && id > 0) optShow(id);
}

registerPage({ id: "optimise", nav: true, admin: false, render: optimisePage });
