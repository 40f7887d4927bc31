// Reports (报告): generate the pilot annual and final reports, the plan-progress report or a
// district scorecard of a scenario model, in Chinese or English, and download the HTML and
// PDF. District operators make their own district's scorecard (the API enforces it).
"use strict";

addLabels({
  zh: {
    reports: "报告", report_kind: "报告类型", report_model: "模型", report_lang: "语言", report_district: "区",
    report_year: "年度", generate: "生成", generating: "正在生成…", download: "下载", with_pdf: "同时生成 PDF",
    no_pdf_here: "服务器没有 Chromium，只能生成 HTML", lang_zh: "中文", lang_en: "English", generated_reports: "已生成的报告",
  },
  en: {
    reports: "Reports", report_kind: "Report", report_model: "Model", report_lang: "Language", report_district: "District",
    report_year: "Year", generate: "Generate", generating: "Generating…", download: "Download", with_pdf: "PDF too",
    no_pdf_here: "The server has no Chromium: HTML only", lang_zh: "中文", lang_en: "English", generated_reports: "Generated reports",
  },
});

const generatedReports = [];

async function reportsPage() {
  const info = await api("GET", "/api/reports");
  const en = state.lang === "en";
  const operator = state.me.role === "operator";
  const kinds = info.kinds.filter((k) => !operator || k.id === "district");
  main().innerHTML = `<div class="panel"><h3>${esc(t("reports"))}</h3><form id="report-form" class="row">
    <label>${esc(t("report_kind"))} <select id="report-kind">${kinds.map((k) => `<option value="${esc(k.id)}">${esc(en ? k.name_en : k.name_zh)}</option>`).join("")}</select></label>
    <label>${esc(t("report_model"))} <select id="report-model">${info.models.map((m) => `<option>${esc(m)}</option>`).join("")}</select></label>
    <label>${esc(t("report_lang"))} <select id="report-lang"><option value="zh"${en ? "" : " selected"}>${esc(t("lang_zh"))}</option><option value="en"${en ? " selected" : ""}>${esc(t("lang_en"))}</option></select></label>
    <label>${esc(t("report_district"))} <input id="report-district" size="10" value="${esc(state.me.district || "")}"${operator ? " readonly" : ""}></label>
    <label>${esc(t("report_year"))} <input id="report-year" type="number" min="1900" max="2200" size="6"></label>
    <label><input type="checkbox" id="report-pdf"${info.pdf ? " checked" : " disabled"}> ${esc(t("with_pdf"))}</label>
    <button class="act" id="report-submit" type="submit">${esc(t("generate"))}</button></form>
    ${info.pdf ? "" : `<p class="muted">${esc(t("no_pdf_here"))}</p>`}
    <div id="report-status"></div><div class="error" id="report-error"></div></div>
    <div class="panel"><h3>${esc(t("generated_reports"))}</h3><ul id="report-files">${generatedReports.map((f) => `<li><a class="report-download" href="${esc(f.url)}" download="${esc(f.name)}">${esc(t("download"))} ${esc(f.name)}</a></li>`).join("")}</ul></div>`;
  document.getElementById("report-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = (k) => document.getElementById("report-" + k).value.trim();
    const body = { kind: v("kind"), model: v("model"), lang: v("lang"), pdf: document.getElementById("report-pdf").checked };
    if (v("district")) body.district = v("district");
    if (v("year")) body.year = Number(v("year"));
    const status = document.getElementById("report-status");
    status.textContent = t("generating");
    document.getElementById("report-error").textContent = "";
    try {
      const r = await api("POST", "/api/reports", body);
      r.files.forEach((f) => generatedReports.unshift(f));
      await reportsPage();
    } catch (e) {
      status.textContent = "";
      document.getElementById("report-error").textContent = e.message;
    }
  });
}

registerPage({ id: "reports", nav: true, admin: false, render: reportsPage });
