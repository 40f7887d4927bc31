// Big-screen mode (大屏, issue 13) for a control-room display: one page, dark theme, large
// type, refreshed every minute — headline indicators, the region map, the process diagram
// and the open incidents (newest first).
"use strict";

addLabels({
  zh: { screen: "大屏", open_incidents: "未处理告警", refreshed: "刷新于", refresh_every: "每分钟自动刷新" },
  en: { screen: "Big screen", open_incidents: "Open incidents", refreshed: "Refreshed", refresh_every: "refreshed every minute" },
});

const SCREEN_REFRESH_MS = 60000;

registerPage({
  id: "screen", nav: true, admin: false,
  render: async function screenPage() {
    document.body.classList.add("bigscreen");
    const [o, al] = await Promise.all([api("GET", "/api/overview"), api("GET", "/api/alerts?state=open&limit=12")]);
    const ind = o.indicators, y = ind.year || {};
    const big = (k, v, id) => `<div class="big" data-indicator="${esc(id)}"><div class="k">${esc(t(k))}</div><div class="v">${esc(v)}</div></div>`;
    main().innerHTML = `<div id="screen">
      <div class="screen-head"><h1>${esc(t("brand"))}${o.region ? ` · <span class="data-name">${esc(o.region.name)}</span>` : ""}</h1>
        <span class="muted" id="screen-time">${esc(t("refreshed"))} ${esc(fmtTime(o.now))} · ${esc(t("refresh_every"))}</span></div>
      <div class="screen-cards">
        ${big("utilisation_rate", pct(y.utilisation_rate), "utilisation_rate")}
        ${big("reliability", pct(y.supply_reliability), "reliability")}
        ${big("today_monitoring", `${o.sites.filter((s) => s.latest_at && s.latest_at.slice(0, 10) === o.today).length} / ${o.sites.length}`, "today")}
        ${big("exceeding", `${fmt(ind.monitoring.exceeding)} / ${fmt(ind.monitoring.sites)}`, "exceeding")}
        ${big("open_alerts", fmt(ind.monitoring.open_alerts), "open_alerts")}
      </div>
      <div class="screen-grid">
        <div class="screen-panel"><h2>${esc(t("map"))}</h2><div id="screen-map" class="screen-chart"></div></div>
        <div class="screen-side">
          <div class="screen-panel"><h2>${esc(t("process"))}</h2><div id="screen-process" class="screen-chart half"></div></div>
          <div class="screen-panel"><h2>${esc(t("open_incidents"))} (${al.total})</h2><ul id="incidents">${al.alerts.map((a) => `<li data-alert="${a.id}"><span class="sev-${esc(a.severity)}">${esc(t("severity_" + a.severity))}</span> ${esc(siteName(a.site_id))}: ${esc(alertText(a))} <span class="muted">${esc(fmtTime(a.time))} · ${esc(fmtDuration(a.duration_s))}</span></li>`).join("")}</ul></div>
        </div>
      </div></div>`;
    drawRegionMap(document.getElementById("screen-map"), o, { dark: true });
    drawProcess(document.getElementById("screen-process"), o, true);
    document.getElementById("screen").dataset.rendered = String(Date.now());
    const here = location.hash;
    setTimeout(() => { if (location.hash === here && document.getElementById("screen")) route(); }, SCREEN_REFRESH_MS);
  },
});
