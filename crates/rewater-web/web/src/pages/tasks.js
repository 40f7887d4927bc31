// The plans' task registers (任务台账): filter by register, department and status; report
// progress with evidence files; the river-chief patrol check. District operators see and
// report their own district's progress (the API enforces it).
"use strict";

addLabels({
  zh: {
    tasks: "任务台账", register: "台账", department: "部门", status: "状态",
    task_seq: "序号", task_title: "任务", task_lead: "牵头部门", task_coop: "配合部门", deadline: "完成时限",
    st_overdue: "逾期", st_due_soon: "临近期限", st_on_track: "正常推进", st_done: "已完成",
    report_progress: "报告进展", percent: "完成比例 (%)", done_on: "完成日期", note: "说明", evidence: "佐证材料",
    submit_progress: "提交", progress_saved: "进展已记录", updates: "进展记录", no_updates: "尚无进展记录",
    status_on: "状态日期", river_chiefs: "河长巡河", chief: "河长", level: "级别", water_body: "河湖",
    short_periods: "巡河不足的周期", none_short: "巡河频次均达标", district_progress: "本区进展",
    plan_period: "规划期末（未规定具体时限）", filter: "筛选",
  },
  en: {
    tasks: "Task register", register: "Register", department: "Department", status: "Status",
    task_seq: "No.", task_title: "Task", task_lead: "Lead", task_coop: "Cooperating", deadline: "Deadline",
    st_overdue: "Overdue", st_due_soon: "Due soon", st_on_track: "On track", st_done: "Done",
    report_progress: "Report progress", percent: "Done (%)", done_on: "Done on", note: "Note", evidence: "Evidence",
    submit_progress: "Submit", progress_saved: "Progress recorded", updates: "Progress updates", no_updates: "No progress reported yet",
    status_on: "Status on", river_chiefs: "River-chief patrols", chief: "River chief", level: "Level", water_body: "Water body",
    short_periods: "Periods short of patrols", none_short: "Every chief patrolled often enough", district_progress: "Progress of the district",
    plan_period: "end of the plan period (no date stated)", filter: "Filter",
  },
});

const TASK_STATUS = ["overdue", "due_soon", "on_track", "done"];
const taskFilter = { register: "", department: "", status: "" };

function fileToBase64(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).split(",")[1] || "");
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

function evidenceType(file) {
  if (file.type) return file.type;
  const ext = (file.name.split(".").pop() || "").toLowerCase();
  return { pdf: "application/pdf", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", csv: "text/csv" }[ext] || "text/plain";
}

async function tasksPage(arg) {
  if (arg) return taskDetailPage(arg);
  const q = new URLSearchParams();
  for (const k of Object.keys(taskFilter)) if (taskFilter[k]) q.set(k, taskFilter[k]);
  const [data, chiefs] = await Promise.all([api("GET", "/api/tasks?" + q.toString()), api("GET", "/api/river-chiefs")]);
  const en = state.lang === "en";
  const dep = (id) => { const d = data.departments.find((x) => x.id === id); return d ? (en ? d.name_en : d.name_zh) : id; };
  const reg = (id) => { const r = data.registers.find((x) => x.id === id); return r ? (en ? r.name_en : r.name_zh) : id; };
  const opt = (v, label, cur) => `<option value="${esc(v)}"${v === cur ? " selected" : ""}>${esc(label)}</option>`;
  const counts = TASK_STATUS.map((s) => `<span class="task-count" data-status="${s}">${esc(t("st_" + s))}: ${data.tasks.filter((x) => x.status === s).length}</span>`).join(" · ");
  main().innerHTML = `<div class="panel"><h3>${esc(t("tasks"))}</h3>
    <p class="muted">${esc(t("status_on"))}: ${esc(data.today)}${data.district ? ` · ${esc(t("district_progress"))}: ${esc(data.district)}` : ""}</p>
    <form id="task-filter" class="row">
      <label>${esc(t("register"))} <select id="task-register">${opt("", t("all"), taskFilter.register)}${data.registers.map((r) => opt(r.id, en ? r.name_en : r.name_zh, taskFilter.register)).join("")}</select></label>
      <label>${esc(t("department"))} <select id="task-department">${opt("", t("all"), taskFilter.department)}${data.departments.map((d) => opt(d.id, en ? d.name_en : d.name_zh, taskFilter.department)).join("")}</select></label>
      <label>${esc(t("status"))} <select id="task-status">${opt("", t("all"), taskFilter.status)}${TASK_STATUS.map((s) => opt(s, t("st_" + s), taskFilter.status)).join("")}</select></label>
    </form>
    <p id="task-counts">${counts}</p>
    <table id="task-table" data-filter="${esc(`${taskFilter.register}|${taskFilter.department}|${taskFilter.status}`)}"><tr><th>${esc(t("register"))}</th><th>${esc(t("task_seq"))}</th><th>${esc(t("task_title"))}</th><th>${esc(t("task_lead"))}</th><th>${esc(t("deadline"))}</th><th>${esc(t("status"))}</th><th>${esc(t("progress"))}</th></tr>
    ${data.tasks.map((x) => `<tr data-task="${esc(x.register + "/" + x.id)}" data-status="${esc(x.status)}"><td>${esc(reg(x.register))}</td><td>${esc(x.seq)}</td>
      <td><a href="#/tasks/${encodeURIComponent(x.register + "/" + x.id)}">${esc(en ? x.title_en : x.title_zh)}</a></td><td>${esc(x.lead.map(dep).join(en ? ", " : "、"))}</td>
      <td>${esc(x.deadline)}</td><td class="task-status ${x.status === "overdue" ? "bad" : x.status === "done" ? "good" : ""}">${esc(t("st_" + x.status))}</td><td>${esc(x.percent)} %</td></tr>`).join("")}</table></div>
    <div class="panel"><h3>${esc(t("river_chiefs"))}</h3><table id="chief-table"><tr><th>${esc(t("chief"))}</th><th>${esc(t("level"))}</th><th>${esc(t("water_body"))}</th><th>${esc(t("short_periods"))}</th></tr>
    ${chiefs.chiefs.map((c) => `<tr data-chief="${esc(c.id)}"><td>${esc(c.name)}</td><td>${esc(en ? c.level_en : c.level_zh)}</td><td>${esc(c.water_body)}</td>
      <td class="${c.short.length ? "bad" : "good"}">${c.short.length ? c.short.map((s) => esc(`${s.from} – ${s.to} (${s.patrols}/${s.required})`)).join("<br>") : esc(t("none_short"))}</td></tr>`).join("")}</table>
    <p class="muted">${esc(chiefs.source)}</p></div>`;
  for (const k of ["register", "department", "status"]) {
    document.getElementById("task-" + k).addEventListener("change", (ev) => { taskFilter[k] = ev.target.value; tasksPage(); });
  }
}

async function taskDetailPage(key) {
  const [register, id] = key.split("/");
  const [all, prog] = await Promise.all([
    api("GET", "/api/tasks?register=" + encodeURIComponent(register)),
    api("GET", `/api/tasks/${encodeURIComponent(register)}/${encodeURIComponent(id)}/progress`),
  ]);
  const x = all.tasks.find((k) => k.id === id);
  if (!x) throw new Error("no task " + key);
  const en = state.lang === "en";
  const dep = (d) => { const v = all.departments.find((y) => y.id === d); return v ? (en ? v.name_en : v.name_zh) : d; };
  const writer = state.me.role !== "viewer";
  main().innerHTML = `<div class="panel"><h3>${esc(x.seq)}. ${esc(en ? x.title_en : x.title_zh)}</h3>
    <p>${esc(t("task_lead"))}: ${esc(x.lead.map(dep).join(en ? ", " : "、"))}${x.cooperating.length ? ` · ${esc(t("task_coop"))}: ${esc(x.cooperating.map(dep).join(en ? ", " : "、"))}` : ""}</p>
    <p>${esc(t("deadline"))}: ${esc(x.deadline)}${x.deadline_confidence === "plan-period" ? ` <span class="muted">(${esc(t("plan_period"))})</span>` : ""} · ${esc(t("status"))}: <span id="task-detail-status">${esc(t("st_" + x.status))}</span> · ${esc(x.percent)} %</p>
    ${x.quote ? `<p class="muted">${esc(x.quote)}</p>` : ""}<p class="muted">${esc(x.source)}</p></div>
    <div class="panel"><h3>${esc(t("updates"))}</h3>${prog.progress.length ? `<table id="progress-table"><tr><th>${esc(t("time"))}</th><th>${esc(t("district"))}</th><th>${esc(t("progress"))}</th><th>${esc(t("note"))}</th><th>${esc(t("evidence"))}</th></tr>
      ${prog.progress.map((p) => `<tr><td>${esc(fmtTime(p.time))}</td><td>${esc(p.district || "")}</td><td>${esc(p.percent)} %${p.done_on ? " · " + esc(p.done_on) : ""}</td><td>${esc(p.note)}</td>
      <td>${p.attachments.map((a) => `<a class="evidence" href="${esc(a.url)}" download="${esc(a.name)}">${esc(a.name)}</a>`).join("<br>")}</td></tr>`).join("")}</table>` : `<p class="muted">${esc(t("no_updates"))}</p>`}</div>
    ${writer ? `<div class="panel"><h3>${esc(t("report_progress"))}</h3><form id="progress-form" class="row">
      <label>${esc(t("percent"))} <input id="progress-percent" type="number" min="0" max="100" required></label>
      <label>${esc(t("done_on"))} <input id="progress-done" type="date"></label>
      <label>${esc(t("note"))} <input id="progress-note" size="40"></label>
      <label>${esc(t("evidence"))} <input id="progress-files" type="file" multiple accept=".pdf,.png,.jpg,.jpeg,.txt,.csv"></label>
      <button class="act" id="progress-submit" type="submit">${esc(t("submit_progress"))}</button></form><div id="progress-result"></div><div class="error" id="progress-error"></div></div>` : ""}`;
  if (!writer) return;
  document.getElementById("progress-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const files = Array.from(document.getElementById("progress-files").files);
    try {
      const attachments = [];
      for (const f of files) attachments.push({ name: f.name, media_type: evidenceType(f), content_base64: await fileToBase64(f) });
      const done = document.getElementById("progress-done").value;
      await api("POST", `/api/tasks/${encodeURIComponent(register)}/${encodeURIComponent(id)}/progress`, {
        percent: Number(document.getElementById("progress-percent").value), done_on: done || null,
        note: document.getElementById("progress-note").value, attachments,
      });
      await taskDetailPage(key);
      document.getElementById("progress-result").textContent = t("progress_saved");
    } catch (e) { document.getElementById("progress-error").textContent = e.message; }
  });
}

registerPage({ id: "tasks", nav: true, admin: false, render: tasksPage });
