// Overview (总览, issue 13): headline indicators with today's monitoring (the zone's wall
// clock), the region map (large, labelled, node kinds by shape and colour, monitoring sites by
// status, an optional tile layer configured by URL), the process diagram of the system
// (plants → wetlands → ponds → users / rivers) with the mean daily flows of the model's
// baseline run, and the site table with latest values, last data time and state.
"use strict";

addLabels({
  zh: { today_monitoring: "今日监测", sites_reporting: "有数据点位", process: "系统流程图", flow_note: "流量为模型基准运行的日均值（m³/d）",
    last_data: "最后数据时间", latest_values: "最新数据", kind_of_site: "点位类型", m3_per_d: "m³/d" },
  en: { today_monitoring: "Today's monitoring", sites_reporting: "sites reporting", process: "Process diagram", flow_note: "Flows are daily means of the model's baseline run (m³/d)",
    last_data: "Last data", latest_values: "Latest values", kind_of_site: "Site kind", m3_per_d: "m³/d" },
});

const STATUS_COLOUR = { ok: "#27ae60", exceeding: "#c0392b", alert: "#e67e22", no_data: "#95a5a6" };
const KIND_COLOUR = { plant: "#1f618d", wetland: "#239b56", pond: "#2e86c1", junction: "#7f8c8d", user: "#8e44ad", river: "#5dade2", outfall: "#a04000" };
const KIND_SYMBOL = { plant: "rect", wetland: "triangle", pond: "circle", junction: "circle", user: "pin", river: "roundRect", outfall: "arrow" };
const KIND_SIZE = { plant: 18, wetland: 18, pond: 18, junction: 8, user: 16, river: 16, outfall: 14 };

function card(key, value, id) {
  return `<div class="card" data-indicator="${esc(id || key)}"><div class="k">${esc(t(key))}</div><div class="v">${esc(value)}</div></div>`;
}

// The region outline for ECharts' geo component: a GeoJSON polygon around every point.
function regionGeoJson(points) {
  let [x0, y0, x1, y1] = [180, 90, -180, -90];
  points.forEach(([x, y]) => { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); });
  if (!points.length) { [x0, y0, x1, y1] = [116, 39.5, 117, 40.5]; }
  const px = Math.max(0.02, (x1 - x0) * 0.12), py = Math.max(0.02, (y1 - y0) * 0.12);
  const ring = [[x0 - px, y0 - py], [x1 + px, y0 - py], [x1 + px, y1 + py], [x0 - px, y1 + py], [x0 - px, y0 - py]];
  return { type: "FeatureCollection", features: [{ type: "Feature", properties: { name: "region" }, geometry: { type: "Polygon", coordinates: [ring] } }] };
}

// Optional raster tiles under the network (only when the server was given a tile URL).
function tileGraphics(c, url, bounds) {
  const z = 12;
  const tile = (lon, lat) => {
    const n = 2 ** z, r = (lat * Math.PI) / 180;
    return [Math.floor(((lon + 180) / 360) * n), Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n)];
  };
  const lonOf = (x) => (x / 2 ** z) * 360 - 180;
  const latOf = (y) => { const n = Math.PI - (2 * Math.PI * y) / 2 ** z; return (180 / Math.PI) * Math.atan(0.5 * (Math.exp(n) - Math.exp(-n))); };
  const [a, b] = [tile(bounds[0], bounds[3]), tile(bounds[2], bounds[1])];
  const out = [];
  for (let x = a[0] - 1; x <= b[0] + 1 && out.length < 96; x++) {
    for (let y = a[1] - 1; y <= b[1] + 1 && out.length < 96; y++) {
      const p0 = c.convertToPixel("geo", [lonOf(x), latOf(y)]), p1 = c.convertToPixel("geo", [lonOf(x + 1), latOf(y + 1)]);
      if (!p0 || !p1) continue;
      out.push({ type: "image", z: -10, silent: true, style: { image: url.replace("{z}", z).replace("{x}", x).replace("{y}", y).replace("{s}", "a"), x: p0[0], y: p0[1], width: p1[0] - p0[0], height: p1[1] - p0[1], opacity: 0.7 } });
    }
  }
  return out;
}

// The map: links, nodes by kind (drawn above the sites, labelled), sites by status.
function drawRegionMap(el, o, opts) {
  const dark = opts && opts.dark;
  const nodes = o.region ? o.region.nodes.filter((n) => n.location) : [];
  const at = {};
  nodes.forEach((n) => { at[n.id] = n.location; });
  const sites = o.sites.filter((s) => s.site.location);
  const points = nodes.map((n) => n.location).concat(sites.map((s) => s.site.location));
  echarts.registerMap("rewater-region", regionGeoJson(points));
  const c = chart(el);
  const kinds = [...new Set(nodes.map((n) => n.kind))];
  const fg = dark ? "#dfe9f3" : "#1d2733";
  const label = { show: true, position: "right", fontSize: dark ? 15 : 12, color: fg, textBorderColor: dark ? "#0b1a2b" : "#fff", textBorderWidth: 2 };
  c.setOption({
    animationDuration: 300,
    tooltip: { formatter: (p) => esc(p.data && p.data.tip ? p.data.tip : p.name) },
    legend: { bottom: 0, textStyle: { color: fg, fontSize: dark ? 15 : 12 }, data: kinds.map((k) => t(k)).concat([t("sites")]) },
    geo: { map: "rewater-region", roam: true, layoutCenter: ["50%", "48%"], layoutSize: "96%", itemStyle: { areaColor: o.tile_url ? "transparent" : dark ? "#12263d" : "#eef4f7", borderColor: dark ? "#2c4a6b" : "#9bb" }, emphasis: { disabled: true }, label: { show: false } },
    series: [
      { type: "lines", coordinateSystem: "geo", polyline: false, zlevel: 0, lineStyle: { color: dark ? "#4fa3d9" : "#5d8aa8", width: 2, opacity: 0.85 }, symbol: ["none", "arrow"], symbolSize: 8,
        data: o.region ? o.region.links.filter((l) => at[l.from] && at[l.to]).map((l) => ({ coords: [at[l.from], at[l.to]] })) : [] },
      {
        type: "scatter", coordinateSystem: "geo", name: t("sites"), symbol: "diamond", symbolSize: 22, z: 2, labelLayout: { hideOverlap: true },
        label: Object.assign({}, label, { position: "bottom", formatter: (p) => p.data.label }),
        data: sites.map((s) => ({ name: s.site.id, label: siteName(s.site), value: s.site.location, tip: `${siteName(s.site)}: ${t("status_" + s.status)}`, itemStyle: { color: STATUS_COLOUR[s.status], borderColor: "#fff", borderWidth: 1, opacity: 0.85 } })),
      },
    ].concat(kinds.map((k) => ({
      type: "scatter", coordinateSystem: "geo", name: t(k), symbol: KIND_SYMBOL[k] || "circle", symbolSize: KIND_SIZE[k] || 12, z: 4, itemStyle: { color: KIND_COLOUR[k] || "#555", borderColor: "#fff", borderWidth: 1.5 },
      labelLayout: { hideOverlap: true }, label: Object.assign({}, label, { show: k !== "junction", formatter: (p) => p.data.label }),
      data: nodes.filter((n) => n.kind === k).map((n) => ({ name: n.id, label: shortName(n.name || n.id), value: n.location, tip: `${t(n.kind)}: ${n.name || n.id}` })),
    }))),
  });
  if (o.tile_url && points.length) {
    const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
    const draw = () => c.setOption({ graphic: tileGraphics(c, o.tile_url, [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)]) });
    draw();
    c.on("georoam", draw);
  }
  c.on("click", (p) => { if (p.seriesName === t("sites")) location.hash = "#/site/" + encodeURIComponent(p.name); });
  return c;
}

// A model name without its "(illustrative)" tail, for a map label.
function shortName(s) { return String(s).replace(/\s*\((illustrative|示意)\)\s*$/i, ""); }

// The process diagram: the model's links as a Sankey diagram of the baseline's mean flows.
function drawProcess(el, o, dark) {
  const c = chart(el);
  if (!o.region) return c;
  const byId = {};
  o.region.nodes.forEach((n) => { byId[n.id] = n; });
  const links = o.region.links.filter((l) => (l.flow_m3_per_d || 0) > 0.5 && byId[l.from] && byId[l.to] && l.from !== l.to);
  const used = new Set();
  links.forEach((l) => { used.add(l.from); used.add(l.to); });
  const fg = dark ? "#dfe9f3" : "#1d2733";
  c.setOption({
    tooltip: { formatter: (p) => p.dataType === "edge" ? `${esc(shortName(byId[p.data.source].name || p.data.source))} → ${esc(shortName(byId[p.data.target].name || p.data.target))}: ${fmt(p.data.value)} ${t("m3_per_d")}` : esc(`${t(byId[p.name].kind)}: ${byId[p.name].name || p.name}`) },
    series: [{
      type: "sankey", left: 8, right: 240, top: 8, bottom: 8, nodeGap: 12, draggable: false, layoutIterations: 32, emphasis: { focus: "adjacency" }, labelLayout: { hideOverlap: true },
      label: { color: fg, fontSize: dark ? 15 : 12, formatter: (p) => `${t(byId[p.name].kind)} · ${shortName(byId[p.name].name || p.name)}` },
      lineStyle: { color: "gradient", curveness: 0.5, opacity: 0.45 },
      data: [...used].map((id) => ({ name: id, itemStyle: { color: KIND_COLOUR[byId[id].kind] || "#555" } })),
      links: links.map((l) => ({ source: l.from, target: l.to, value: Math.round(l.flow_m3_per_d) })),
    }],
  });
  el.dataset.links = String(links.length);
  return c;
}

// "Today" is the zone's wall-clock date: sites that sent data today.
function todayMonitoring(o) {
  const reporting = o.sites.filter((s) => s.latest_at && s.latest_at.slice(0, 10) === o.today).length;
  return `${o.today}: ${reporting}/${o.sites.length} ${t("sites_reporting")}`;
}

function latestCells(values) {
  return values.map((v) => {
    const c = v.checks[0], f = v.reading.factor;
    return `<span class="lv ${c ? (c.meets ? "" : "bad") : ""}" data-factor="${esc(f)}">${esc(factorName(f))} ${fmt(v.reading.value, 2)} ${esc(factorUnit(f))}</span>`;
  }).join("<br>");
}

async function overviewPage() {
  const started = performance.now();
  const o = await api("GET", "/api/overview");
  state.today = o.today;
  const ind = o.indicators, y = ind.year || {};
  main().innerHTML = `
    <div class="cards" id="indicators">
      ${card("utilisation_rate", pct(y.utilisation_rate), "utilisation_rate")}
      ${card("delivered", fmt((y.delivered_m3 || 0) / 1e4, 1) + " " + t("wan_m3_per_year"), "delivered")}
      ${card("reliability", pct(y.supply_reliability), "reliability")}
      ${card("today_monitoring", todayMonitoring(o), "today")}
      ${card("sites", fmt(ind.monitoring.sites), "sites")}
      ${card("exceeding", fmt(ind.monitoring.exceeding), "exceeding")}
      ${card("open_alerts", fmt(ind.monitoring.open_alerts), "open_alerts")}
    </div>
    <div class="panel"><h3>${esc(t("map"))}${o.region ? ` · <span class="data-name">${esc(o.region.name)}</span>` : ""}</h3><div id="map" class="chart map-large"></div>
      <div class="muted">${o.tile_url ? "" : esc(t("tile_note"))}</div></div>
    <div class="panel"><h3>${esc(t("process"))}</h3><div id="process" class="chart"></div><div class="muted">${esc(t("flow_note"))}</div></div>
    <div class="panel"><h3>${esc(t("sites"))}</h3><table id="site-table"><tr><th>${esc(t("site"))}</th><th>${esc(t("district"))}</th><th>${esc(t("kind_of_site"))}</th><th>${esc(t("standard"))}</th><th>${esc(t("latest_values"))}</th><th>${esc(t("last_data"))}</th><th>${esc(t("state"))}</th><th>${esc(t("open_alerts"))}</th></tr>
      ${o.sites.map((s) => `<tr><td><a href="#/site/${encodeURIComponent(s.site.id)}" data-site="${esc(s.site.id)}">${esc(siteName(s.site))}</a></td><td>${esc(districtName(s.site.district))}</td><td>${esc(t("sk_" + s.site.kind))}</td><td><span class="code">${esc(s.site.standard)}</span></td>
        <td class="latest-values">${latestCells(s.values)}</td><td class="time">${esc(fmtTime(s.latest_at))}</td>
        <td style="color:${STATUS_COLOUR[s.status]}">${esc(t("status_" + s.status))}</td><td>${s.open_alerts}</td></tr>`).join("")}</table></div>`;
  drawRegionMap(document.getElementById("map"), o);
  drawProcess(document.getElementById("process"), o);
  document.body.dataset.overviewMs = String(Math.round(performance.now() - started));
}
