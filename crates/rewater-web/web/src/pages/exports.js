// Reports and exports (报表导出, issue 13): the daily and monthly compliance reports (日报/月报)
// of a site, a district or every visible site — daily means, exceedances, online and
// data-validity rates — as CSV, XLSX or a printable page; a site's series as CSV or XLSX.
"use strict";

addLabels({
  zh: { exports_page: "报表导出", report_kind: "报表", daily_report: "日报", monthly_report: "月报", scope: "范围", all_visible: "全部可见点位",
    format: "格式", download: "下载", day: "日期", month: "月份", printable_page: "打印版（HTML）" },
  en: { exports_page: "Exports", report_kind: "Report", daily_report: "Daily report", monthly_report: "Monthly report", scope: "Scope", all_visible: "All visible sites",
    format: "Format", download: "Download", day: "Day", month: "Month", printable_page: "Printable (HTML)" },
});

registerPage({
  id: "exports_page", nav: true, admin: false,
  render: async () => {
    const sites = (await api("GET", "/api/sites")).sites;
    const districts = [...new Set(sites.map((s) => s.district))];
    // The server zone's date once the overview was seen (its wall clock), else the browser's.
    const today = state.today || new Date().toISOString().slice(0, 10);
    main().innerHTML = `<div class="panel"><h3>${esc(t("exports_page"))}</h3><form id="export-form" class="row">
      <label>${esc(t("report_kind"))} <select id="export-kind"><option value="daily">${esc(t("daily_report"))}</option><option value="monthly">${esc(t("monthly_report"))}</option></select></label>
      <label>${esc(t("day"))} <input type="date" id="export-date" value="${today}"></label>
      <label>${esc(t("month"))} <input type="month" id="export-month" value="${today.slice(0, 7)}"></label>
      <label>${esc(t("scope"))} <select id="export-scope"><option value="">${esc(t("all_visible"))}</option>
        ${districts.map((d) => `<option value="district=${esc(d)}">${esc(t("district"))}: ${esc(districtName(d))}</option>`).join("")}
        ${sites.map((s) => `<option value="site=${esc(s.id)}">${esc(t("site"))}: ${esc(siteName(s))}</option>`).join("")}</select></label>
      <label>${esc(t("format"))} <select id="export-format"><option value="xlsx">XLSX</option><option value="csv">CSV</option><option value="html">${esc(t("printable_page"))}</option></select></label>
      <a class="act" id="export-link" href="#">${esc(t("download"))}</a></form></div>`;
    const link = document.getElementById("export-link");
    const update = () => {
      const v = (k) => document.getElementById("export-" + k).value;
      const kind = v("kind");
      const q = new URLSearchParams({ kind, format: v("format"), lang: state.lang });
      if (kind === "daily") q.set("date", v("date")); else q.set("month", v("month"));
      const scope = v("scope");
      if (scope) { const [k, x] = scope.split("="); q.set(k, x); }
      link.href = `/api/exports/report?${q}`;
      link.target = v("format") === "html" ? "_blank" : "";
    };
    document.querySelectorAll("#export-form select, #export-form input").forEach((el) => el.addEventListener("change", update));
    update();
  },
});
