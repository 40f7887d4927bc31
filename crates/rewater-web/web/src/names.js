// Names in the page's language, from data (issue 13): the factor table (names, units, the
// HJ 212 code as a secondary label) and the Chinese and English names of sites and districts
// from GET /api/labels; alert texts built from an alert's structured fields (kind, factor,
// value, standard and bound); user categories, site kinds, HJ 212 flags.
"use strict";

const names = { factors: {}, sites: {}, districts: {}, loaded: false };

async function loadNames(force) {
  if (names.loaded && !force) return names;
  const r = await api("GET", "/api/labels");
  names.factors = {};
  r.factors.forEach((f) => { names.factors[f.code] = f; });
  names.sites = {};
  r.sites.forEach((l) => { names.sites[l.id] = l; });
  names.districts = {};
  r.districts.forEach((l) => { names.districts[l.id] = l; });
  names.loaded = true;
  return names;
}

const zhPage = () => state.lang === "zh";

// A factor's name (化学需氧量), its unit (mg/L), and HTML with the code as a secondary label.
function factorName(code) {
  const f = names.factors[code];
  return f ? (zhPage() ? f.name_zh : f.name_en) : code;
}
function factorUnit(code) { const f = names.factors[code]; return f ? f.unit : ""; }
function factorHtml(code) {
  return `${esc(factorName(code))} <span class="code">${esc(code)}</span>`;
}
function factorWithUnit(code) {
  const u = factorUnit(code);
  return u ? `${factorName(code)} (${u})` : factorName(code);
}

// A site (an object with id and name, or an id) and a district by language.
function siteName(site) {
  const id = typeof site === "string" ? site : site && site.id;
  const l = names.sites[id];
  if (l) return (zhPage() ? l.name_zh : l.name_en) || l.name_en || l.name_zh;
  return (site && site.name) || id || "";
}
function districtName(code) {
  const l = names.districts[code];
  return l ? (zhPage() ? l.name_zh : l.name_en) : code || "";
}

addLabels({
  zh: {
    cat_industrial_cooling: "工业冷却", cat_industrial_process: "工业工艺", cat_urban_greening: "城市绿化", cat_road_cleaning: "道路清扫",
    cat_fire_fighting: "消防", cat_toilet_flushing: "冲厕", cat_car_washing: "车辆冲洗", cat_construction: "建筑施工",
    cat_landscape_lake: "景观湖泊", cat_river_replenishment: "河道补水", cat_farmland_irrigation: "农田灌溉",
    sk_plant_outlet: "水厂出水", sk_plant_inlet: "水厂进水", sk_wetland_outlet: "湿地出水", sk_pond: "调蓄塘", sk_user_supply: "供水点",
    sk_outfall: "排口", sk_river_section: "河道断面",
    flag_N: "正常", flag_C: "校准", flag_M: "维护", flag_D: "故障", flag_T: "超测量上限", flag_F: "停运", flag_P: "电源故障", flag_S: "设定值", flag_B: "通讯异常",
    msg_exceedance: "{f} {v} {u}，超出 {std} {bound}", msg_daily_exceedance: "{d} {f} 日均值 {v} {u}，超出 {std} {bound}",
    msg_offline: "数采仪 {mn} 自 {t} 起无数据", msg_stuck: "{f} 连续不变（{v} {u}），疑似仪器恒值",
    msg_device_flag: "{f} 被数采仪标记为“{flag}”", msg_downstream_risk: "{site} 超标，下游 {n} 个点位受影响：{list}",
    conf_unverified: "未核实 UNVERIFIED", conf_low: "低", conf_medium: "中", conf_high: "高",
    "act_login": "登录", "act_login.failed": "登录失败", "act_login.locked": "登录锁定", "act_alert.acknowledged": "确认告警", "act_alert.closed": "关闭告警",
    "act_site.update": "修改点位", "act_label.put": "修改名称", "act_user.create": "创建账号", "act_user.update": "修改账号", "act_user.password": "修改密码",
    "act_token.create": "创建令牌", "act_credential.revoke": "撤销凭据", "act_device.create": "登记数采仪", "act_device.disable": "停用数采仪", "act_device.enable": "启用数采仪",
    "act_device.password": "重置数采仪密码", "act_maintenance.add": "设置运维时段", "act_maintenance.remove": "删除运维时段", "act_scenario.upload": "上传情景", "act_scenario.run": "运行情景",
    "act_task.progress": "任务进展", "act_patrol.log": "巡河记录", "act_report.generate": "生成报告", "act_rectification.open": "启动整治", "act_outfalls.put": "修改排污口",
  },
  en: {
    cat_industrial_cooling: "Industrial cooling", cat_industrial_process: "Industrial process", cat_urban_greening: "Urban greening", cat_road_cleaning: "Road cleaning",
    cat_fire_fighting: "Fire fighting", cat_toilet_flushing: "Toilet flushing", cat_car_washing: "Car washing", cat_construction: "Construction",
    cat_landscape_lake: "Landscape lake", cat_river_replenishment: "River replenishment", cat_farmland_irrigation: "Farmland irrigation",
    sk_plant_outlet: "Plant outlet", sk_plant_inlet: "Plant inlet", sk_wetland_outlet: "Wetland outlet", sk_pond: "Pond", sk_user_supply: "Supply point",
    sk_outfall: "Outfall", sk_river_section: "River section",
    flag_N: "normal", flag_C: "calibration", flag_M: "maintenance", flag_D: "fault", flag_T: "over range", flag_F: "stopped", flag_P: "power failure", flag_S: "set value", flag_B: "communication fault",
    msg_exceedance: "{f} {v} {u} outside {std} {bound}", msg_daily_exceedance: "{d}: daily mean {f} {v} {u} outside {std} {bound}",
    msg_offline: "no data from device {mn} since {t}", msg_stuck: "{f} unchanged at {v} {u}: sensor may be stuck",
    msg_device_flag: "{f} flagged “{flag}” by the data logger", msg_downstream_risk: "{site} exceeds; {n} downstream site(s) at risk: {list}",
    conf_unverified: "UNVERIFIED", conf_low: "low", conf_medium: "medium", conf_high: "high",
    "act_login": "Log in", "act_login.failed": "Failed login", "act_login.locked": "Login locked", "act_alert.acknowledged": "Alert acknowledged", "act_alert.closed": "Alert closed",
    "act_site.update": "Site changed", "act_label.put": "Names changed", "act_user.create": "Account created", "act_user.update": "Account changed", "act_user.password": "Password changed",
    "act_token.create": "Token created", "act_credential.revoke": "Credential revoked", "act_device.create": "Device registered", "act_device.disable": "Device disabled", "act_device.enable": "Device enabled",
    "act_device.password": "Device password reset", "act_maintenance.add": "Maintenance window set", "act_maintenance.remove": "Maintenance window removed", "act_scenario.upload": "Scenario uploaded", "act_scenario.run": "Scenario run",
    "act_task.progress": "Task progress", "act_patrol.log": "Patrol logged", "act_report.generate": "Report generated", "act_rectification.open": "Rectification opened", "act_outfalls.put": "Outfall changed",
  },
});

function fill(template, vars) {
  return template.replace(/\{(\w+)\}/g, (m, k) => (vars[k] === undefined || vars[k] === null ? "" : String(vars[k])));
}

// An alert's text in the page's language, from its kind, factor, values, standard and bound;
// the stored (English) message only for a kind this page does not know.
function alertText(a) {
  const vars = {
    f: a.factor ? factorName(a.factor) : "", u: a.factor ? factorUnit(a.factor) : "", v: a.value === null || a.value === undefined ? "" : fmt(a.value, 3),
    std: a.standard || "", bound: a.bound || "", mn: a.mn || "", t: fmtTime(a.time), d: (a.time || "").slice(0, 10), site: siteName(a.site_id),
  };
  if (a.kind === "device_flag") {
    const m = /flagged '([A-Za-z])'/.exec(a.message || "");
    vars.flag = m ? `${m[1]} ${t("flag_" + m[1]) === "flag_" + m[1] ? "" : t("flag_" + m[1])}`.trim() : "?";
  }
  if (a.kind === "downstream_risk") {
    const m = /at risk: (.*)$/.exec(a.message || "");
    const list = m ? m[1].split(",").map((x) => x.trim()).filter((x) => x) : [];
    vars.n = list.length;
    vars.list = list.map(siteName).join(zhPage() ? "、" : ", ");
  }
  const key = "msg_" + a.kind;
  return t(key) === key ? a.message : fill(t(key), vars);
}

// A duration in seconds as "2 h 05 min" / "2小时05分".
function fmtDuration(s) {
  if (s === null || s === undefined) return "–";
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (zhPage()) return (d ? `${d}天` : "") + (d || h ? `${h}小时` : "") + `${m}分`;
  return (d ? `${d} d ` : "") + (d || h ? `${h} h ` : "") + `${m} min`;
}

// An audit action by language, its code kept as the secondary label.
function actionHtml(code) {
  const k = "act_" + code;
  return t(k) === k ? `<span class="code">${esc(code)}</span>` : `${esc(t(k))} <span class="code">${esc(code)}</span>`;
}
