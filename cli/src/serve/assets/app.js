// The web view of conv serve: reads the JSON endpoints, redraws when the journal gains
// events (server-sent events), and sends approvals and rollbacks after a confirmation.
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
const STATES = ["converged", "in_flight", "failed", "paused", "unjudged", "unhealthy", "waiting", "pending"];
const PAGE = 100;
// Tests read it to tell a redraw from a reload, and the errors the page met.
window.convPageId = Math.random().toString(36).slice(2);
window.convErrors = [];
window.addEventListener("error", (e) => window.convErrors.push(String(e.message)));
window.addEventListener("unhandledrejection", (e) => window.convErrors.push(String(e.reason)));

let overview = null;
let tab = "rollout";
let offset = 0;

function withToken(url) {
  if (!token) return url;
  return url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
}

async function api(path, body) {
  const init = body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  const res = await fetch(withToken(path), init);
  const data = await res.json().catch(() => ({ error: res.statusText }));
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c.nodeType ? c : String(c));
  return e;
}

const word = (s) => (s || "").replace("_", " ");
const color = (s) => `var(--${s}, var(--pending))`;
function badge(state) {
  return el("span", { class: "badge", style: `background:${color(state)}`, text: word(state) });
}
function ms(d) {
  if (d === null || d === undefined) return "-";
  if (d < 1000) return d + "ms";
  if (d < 60000) return Math.round(d / 100) / 10 + "s";
  return Math.round(d / 6000) / 10 + "m";
}
function ago(unix) {
  if (!unix) return "-";
  return ms(Date.now() - unix * 1000) + " ago";
}

// ---- Rollout -------------------------------------------------------------------------

function progressOf(release, stage) {
  const p = overview.progress;
  if (!p || !p.stages) return null;
  return p.stages.find((s) => s.release === release && s.stage === stage) || null;
}

function siteBar(p) {
  const total = Math.max(p.sites, p.converged + p.failed + p.in_flight, 1);
  const part = (n, s) => el("span", { style: `width:${(100 * n) / total}%;background:${color(s)}` });
  return el("div", { class: "bar", title: `${p.converged} converged, ${p.failed} failed, ${p.in_flight} in flight` },
    part(p.converged, "converged"), part(p.failed, "failed"), part(p.in_flight, "in_flight"));
}

function phaseText(p) {
  if (p.phase === "baking" && p.bake_ends_at_ms) {
    const left = Math.max(0, p.bake_ends_at_ms - Date.now());
    const gates = (p.gates || []).map((g) => {
      const unit = g.gate.includes("latency") ? "ms" : g.gate.includes("error") ? "%" : "";
      const v = g.value === null || g.value === undefined ? "-" : Math.round(g.value * 100) / 100 + unit;
      const t = g.threshold === null || g.threshold === undefined ? "" : ` < ${g.threshold}${unit}`;
      return `${g.service} ${g.gate}: ${v}${t} ${g.failing ? "✘ failing on " + g.failing : "✔"}`;
    });
    const pending = !gates.length && p.checks ? [`${p.checks} gate checks, judged as it ends`] : [];
    return [`baking, ${Math.ceil(left / 1000)}s left`, ...gates, ...pending].join(" · ");
  }
  if (p.phase === "waiting") return "waiting for " + (p.waiting_for || "its requirements") + (p.waiting_command ? ` (${p.waiting_command})` : "");
  return p.phase.replace("_", " ");
}

function approvalGiven(release, stage) {
  return (overview.pending_approvals || []).find((a) => a.release === release && a.stage === stage);
}

function stageCard(release, s) {
  const p = progressOf(release.name, s.name);
  const facts = [`${s.environment} · ${s.sites} site${s.sites === 1 ? "" : "s"}`];
  if (s.fraction_percent !== null) facts.push(`${s.fraction_percent}%`);
  if (s.bake_ms !== null) facts.push(`bake ${ms(s.bake_ms)}`);
  const card = el("div", { class: "stage", "data-testid": "stage", "data-release": release.name, "data-stage": s.name, "data-state": s.state, style: `border-left-color:${color(s.state)}` },
    el("h4", {}, el("span", { text: s.name }), badge(s.state)),
    el("div", { class: "facts", text: facts.join(" · ") }));
  if (s.gates && s.gates.length) {
    card.append(el("details", { class: "facts" }, el("summary", { text: `${s.gates.length} gate${s.gates.length === 1 ? "" : "s"}` }),
      el("ul", {}, s.gates.map((g) => el("li", { text: g })))));
  }
  if (p && p.phase !== "pending") {
    const sites = p.sites || s.sites;
    const nothing = p.phase === "done" && !p.sites && !p.converged && !p.failed;
    card.append(siteBar(nothing && p.phase === "done" ? { ...p, sites, converged: sites } : { ...p, sites }));
    card.append(el("div", { class: "counts", "data-testid": "stage-progress", text: nothing ? `nothing to deploy · ${phaseText(p)}` : `${p.converged}/${sites} converged${p.failed ? ", " + p.failed + " failed" : ""}${p.in_flight ? ", " + p.in_flight + " in flight" : ""} · ${phaseText(p)}` }));
  }
  if (s.requirements.length) {
    card.append(el("ul", {}, s.requirements.map((q) => el("li", { class: q.holds ? "ok" : "no", text: `${q.requirement}: ${q.detail}` }))));
  }
  if (s.reason && !(s.state === "waiting" && s.requirements.length)) card.append(el("div", { class: "reason", text: s.reason + (s.run ? ` (run ${s.run})` : "") }));
  const given = approvalGiven(release.name, s.name);
  if (s.approvals.length && s.state !== "converged") {
    const button = el("button", { class: "approve primary", disabled: !overview.writable || given ? "" : null,
      title: overview.writable ? "" : "read-only: start conv serve with --token",
      onclick: () => confirmAction({
        title: `Approve ${release.name}/${s.name}?`,
        text: `This gives the approval of ${s.approvals.join(", ")} for stage ${s.name} (${s.environment}); a waiting apply goes on at once.`,
        ok: "Approve",
        run: (by) => api("/api/approve", { release: release.name, stage: s.name, by }),
      }) }, given ? `approved by ${given.by}` : `Approve (${s.approvals.join(", ")})`);
    card.append(button);
  }
  return card;
}

// The latest run rolled this release back: say so, with its steps.
function rolledBack(name) {
  const p = overview.progress;
  if (!p || !(p.rolling_back || []).includes(name)) return null;
  const failed = p.rollback_failed ? `, ${p.rollback_failed} failed` : "";
  return el("span", { class: "badge", "data-testid": "rolled-back", style: `background:${color("paused")}`,
    text: `rolled back in run ${overview.run}: ${p.rollback_steps} step${p.rollback_steps === 1 ? "" : "s"}${failed}` });
}

function renderReleases() {
  const root = document.getElementById("releases");
  root.replaceChildren(...overview.releases.map((r) => {
    const path = el("div", { class: "path" });
    r.stages.forEach((s, i) => {
      if (i) path.append(el("div", { class: "arrow", text: "→" }));
      path.append(stageCard(r, s));
    });
    const rollback = el("div", { class: "rollback" },
      `If a stage fails (on failure: ${r.on_failure}), the release rolls back in this order:`,
      el("ol", {}, r.rollback.slice(0, 12).map((a) => el("li", { text: a })),
        r.rollback_steps > 12 ? el("li", { text: `… and ${r.rollback_steps - 12} more` }) : null));
    return el("div", { class: "card release", "data-testid": "release", "data-release": r.name },
      el("div", { class: "release-head" },
        el("h3", { text: `release ${r.name}` }),
        el("span", { class: "muted", text: r.versions }),
        rolledBack(r.name),
        el("span", { class: "spacer" }),
        el("button", { class: "danger rollback-button", disabled: overview.writable ? null : "",
          onclick: () => confirmAction({
            title: `Roll back ${r.name}?`,
            text: `Every service of ${r.name} goes back to what it ran before the last apply that changed it, in the order below.`,
            ok: "Roll back",
            run: (by) => api("/api/rollback", { release: r.name, by }),
          }) }, "Roll back…")),
      path, rollback);
  }));
  const runLine = document.getElementById("run-line");
  const problem = document.getElementById("program-error");
  problem.hidden = !overview.program_error;
  problem.textContent = overview.program_error || "";
  const last = overview.last_run;
  runLine.textContent = overview.in_flight || (last ? `last run ${last.id} (${last.summary}): ${last.outcome}, by ${last.user}@${last.host}` : "no runs yet");
  document.getElementById("project").textContent = overview.project;
  const mode = document.getElementById("mode");
  mode.textContent = overview.writable ? "operations allowed" : "read-only";
}

async function renderGates() {
  const pick = document.getElementById("gates-pick");
  const data = await api("/api/gates?stage=" + encodeURIComponent(pick.value));
  document.getElementById("gates-stage").textContent = data.stage ? `(${data.stage}, run ${data.run})` : "";
  const known = [...pick.options].map((o) => o.value).slice(1);
  if (known.join() !== data.stages.join()) {
    const chosen = pick.value;
    pick.replaceChildren(el("option", { value: "", text: "the current stage" }), ...data.stages.map((s) => el("option", { value: s, text: s })));
    pick.value = data.stages.includes(chosen) ? chosen : "";
  }
  const root = document.getElementById("gates");
  if (!data.series.length) {
    root.replaceChildren(el("span", { class: "muted", text: "No gate readings in the latest run yet." }));
    return;
  }
  root.replaceChildren(...data.series.map(chart));
}

// A small line chart: the worst value read each second, and the threshold as a red line.
function chart(s) {
  const W = 520, H = 100, P = 22;
  const pts = s.points.filter((p) => p[1] !== null);
  const t0 = s.points.length ? s.points[0][0] : 0;
  const t1 = s.points.length ? Math.max(s.points[s.points.length - 1][0], t0 + 1000) : 1;
  const vmax = Math.max(s.threshold || 0, ...pts.map((p) => p[1]), 1) * 1.15;
  const x = (t) => P + ((t - t0) / (t1 - t0)) * (W - 2 * P);
  const y = (v) => H - P - (v / vmax) * (H - 2 * P);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", W);
  svg.setAttribute("height", H);
  const add = (tag, attrs) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    svg.append(e);
    return e;
  };
  add("line", { x1: P, y1: H - P, x2: W - P, y2: H - P, stroke: "#d0d7de" });
  if (s.threshold !== null && s.threshold !== undefined) {
    add("line", { x1: P, y1: y(s.threshold), x2: W - P, y2: y(s.threshold), stroke: "#cf222e", "stroke-dasharray": "4 3" });
    add("text", { x: W - P, y: y(s.threshold) - 3, "text-anchor": "end", "font-size": 10, fill: "#cf222e" }).textContent = `limit ${s.threshold}${s.unit}`;
  }
  if (pts.length) {
    add("polyline", { points: pts.map((p) => `${x(p[0])},${y(p[1])}`).join(" "), fill: "none", stroke: "#0969da", "stroke-width": 2 });
    for (const p of pts) add("circle", { cx: x(p[0]), cy: y(p[1]), r: 3, fill: p[2] > 0 ? "#cf222e" : "#0969da" });
  } else {
    const ok = s.points.filter((p) => p[2] === 0).length;
    add("text", { x: P, y: H / 2, "font-size": 12, fill: "#656d76" }).textContent = `${ok} of ${s.points.length} seconds passing`;
  }
  const last = pts.length ? Math.round(pts[pts.length - 1][1] * 100) / 100 + s.unit : "";
  return el("div", { class: "chart", "data-testid": "gate-chart" },
    el("div", { class: "title", text: `${s.service} · ${s.gate} ${last ? "· latest " + last : ""}` }), svg);
}

// ---- Sites ---------------------------------------------------------------------------

function fillSelect(id, values) {
  const select = document.getElementById(id);
  const current = select.dataset.want || select.value;
  delete select.dataset.want;
  const known = [...select.options].map((o) => o.value);
  if (known.length === values.length + 1 && values.every((v, i) => known[i + 1] === v)) {
    select.value = current;
    return;
  }
  select.replaceChildren(el("option", { value: "", text: "all" }), ...values.map((v) => el("option", { value: v, text: word(v) })));
  select.value = values.includes(current) ? current : "";
}

async function renderSites() {
  const f = (id) => { const e = document.getElementById(id); return encodeURIComponent(e.dataset.want || e.value); };
  const data = await api(`/api/sites?env=${f("f-env")}&state=${f("f-state")}&version=${f("f-version")}&q=${f("f-q")}&offset=${offset}&limit=${PAGE}`);
  fillSelect("f-env", data.environments);
  fillSelect("f-state", STATES);
  fillSelect("f-version", data.versions);
  const body = document.querySelector("#sites-table tbody");
  body.replaceChildren(...data.rows.map((r) => el("tr", { "data-state": r.state },
    el("td", { text: r.environment }), el("td", { text: r.site }), el("td", { text: r.service }),
    el("td", { text: r.versions.join(", ") || "-" }), el("td", { text: r.desired }),
    el("td", { text: `${r.up}/${r.instances}` }), el("td", { text: r.healthy }),
    el("td", {}, badge(r.state)), el("td", { class: "why", text: r.reason || r.waiting || "" }))));
  const last = Math.min(data.offset + data.rows.length, data.matched);
  document.getElementById("page-info").textContent =
    `${data.matched ? data.offset + 1 : 0}–${last} of ${data.matched} rows` + (data.matched !== data.total ? ` (${data.total} in all)` : "");
  document.getElementById("prev").disabled = data.offset === 0;
  document.getElementById("next").disabled = last >= data.matched;
}

// ---- Map -----------------------------------------------------------------------------

async function renderMap() {
  const data = await api("/api/grid");
  const counts = {};
  const root = document.getElementById("map");
  const tip = document.getElementById("map-tip");
  const blocks = data.environments.map((env) => {
    if (env.sites.length <= 200) return tiles(env, counts);
    const cell = env.sites.length > 2000 ? 6 : env.sites.length > 300 ? 10 : 18;
    const per = Math.max(1, Math.floor((root.clientWidth || 1000) / (cell + 2)));
    const rows = Math.ceil(env.sites.length / per);
    const canvas = el("canvas", { width: per * (cell + 2), height: Math.max(1, rows * (cell + 2)) });
    const ctx = canvas.getContext("2d");
    const styles = getComputedStyle(document.documentElement);
    const envCounts = {};
    env.sites.forEach(([, state], i) => {
      counts[state] = (counts[state] || 0) + 1;
      envCounts[state] = (envCounts[state] || 0) + 1;
      ctx.fillStyle = styles.getPropertyValue("--" + state).trim() || "#afb8c1";
      ctx.fillRect((i % per) * (cell + 2), Math.floor(i / per) * (cell + 2), cell, cell);
    });
    canvas.addEventListener("mousemove", (ev) => {
      const r = canvas.getBoundingClientRect();
      const i = Math.floor((ev.clientY - r.top) / (cell + 2)) * per + Math.floor((ev.clientX - r.left) / (cell + 2));
      const site = env.sites[i];
      if (!site) { tip.style.display = "none"; return; }
      tip.textContent = `${env.name} · ${site[0]} · ${word(site[1])}`;
      tip.style.display = "block";
      tip.style.left = ev.clientX + 12 + "px";
      tip.style.top = ev.clientY + 12 + "px";
    });
    canvas.addEventListener("mouseleave", () => (tip.style.display = "none"));
    canvas.addEventListener("click", (ev) => {
      const r = canvas.getBoundingClientRect();
      const site = env.sites[Math.floor((ev.clientY - r.top) / (cell + 2)) * per + Math.floor((ev.clientX - r.left) / (cell + 2))];
      filterTo(env.name, site ? site[0] : "");
    });
    const summary = Object.entries(envCounts).map(([s, n]) => `${n} ${word(s)}`).join(", ");
    return el("div", { class: "env", "data-testid": "map-env", "data-env": env.name, "data-sites": env.sites.length },
      el("h3", {}, `${env.name} `, el("span", { class: "muted", text: `${env.sites.length} sites: ${summary}` })), canvas);
  });
  root.replaceChildren(...blocks);
  document.getElementById("legend").replaceChildren(...STATES.map((s) =>
    el("span", {}, el("i", { style: `background:${color(s)}` }), `${word(s)} ${counts[s] || 0}`)));
}

// The sites table, filtered to an environment and a site.
function filterTo(env, site) {
  document.getElementById("f-env").dataset.want = env;
  document.getElementById("f-q").value = site;
  show("sites");
}

// Few sites: a labeled tile each, which a click filters the table to.
function tiles(env, counts) {
  const envCounts = {};
  const grid = el("div", { class: "tiles" }, env.sites.map(([site, state]) => {
    counts[state] = (counts[state] || 0) + 1;
    envCounts[state] = (envCounts[state] || 0) + 1;
    return el("div", { class: "tile", style: `background:${color(state)}`, title: `${site}: ${word(state)}`, "data-state": state,
      onclick: () => { filterTo(env.name, site); } }, site);
  }));
  const summary = Object.entries(envCounts).map(([s, n]) => `${n} ${word(s)}`).join(", ");
  return el("div", { class: "env", "data-testid": "map-env", "data-env": env.name, "data-sites": env.sites.length },
    el("h3", {}, `${env.name} `, el("span", { class: "muted", text: `${env.sites.length} site${env.sites.length === 1 ? "" : "s"}: ${summary}` })), grid);
}

// ---- Graph and history ---------------------------------------------------------------

function renderGraph() {
  const root = document.getElementById("graph");
  if (!root.firstChild) root.append(el("img", { src: withToken("/api/graph.svg"), alt: "releases and stages" }));
}

async function renderHistory() {
  const data = await api("/api/history");
  document.querySelector("#runs-table tbody").replaceChildren(...data.runs.map((r) => el("tr", {},
    el("td", { text: r.id }), el("td", { text: ago(r.started_at) }),
    el("td", { text: r.finished_at ? ms((r.finished_at - r.started_at) * 1000) : "-" }),
    el("td", {}, badge(r.outcome === "converged" ? "converged" : r.outcome === "running" ? "in_flight" : r.outcome === "failed" ? "failed" : "paused")),
    el("td", { text: r.steps }), el("td", { text: `${r.user}@${r.host}` }), el("td", { class: "why", text: r.summary }))));
  const pending = (overview && overview.pending_approvals) || [];
  const rows = [
    ...pending.map((a) => el("tr", {}, el("td", { text: a.release }), el("td", { text: a.stage }), el("td", { text: a.by }), el("td", { text: a.group ? "for " + a.group : "" }), el("td", { class: "muted", text: "given, not yet used by an apply" }))),
    ...data.approvals.map((a) => el("tr", {}, el("td", { text: a.release }), el("td", { text: a.stage }), el("td", { text: a.by }), el("td", { text: ago(a.at) }), el("td", { class: "muted", text: a.used_by_run ? "used by run " + a.used_by_run : "not yet used" }))),
  ];
  document.querySelector("#approvals-table tbody").replaceChildren(...rows);
}

// ---- Operations ----------------------------------------------------------------------

function confirmAction({ title, text, ok, run }) {
  const modal = document.getElementById("confirm");
  const name = document.getElementById("confirm-name");
  const error = document.getElementById("confirm-error");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  const button = document.getElementById("confirm-ok");
  button.textContent = ok;
  button.disabled = false;
  error.textContent = "";
  name.value = localStorage.getItem("conv-name") || "";
  modal.hidden = false;
  button.onclick = async () => {
    localStorage.setItem("conv-name", name.value);
    button.disabled = true;
    button.textContent = ok + "…";
    try {
      const done = await run(name.value);
      modal.hidden = true;
      toast(done.approved ? `approved by ${done.approved.by}` : `rolled back: ${(done.rolled_back || []).join(", ") || "nothing to roll back"}`);
      refresh();
    } catch (e) {
      error.textContent = e.message;
      button.disabled = false;
      button.textContent = ok;
    }
  };
  document.getElementById("confirm-cancel").onclick = () => (modal.hidden = true);
}

function toast(text) {
  const t = document.getElementById("toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), 4000);
}

// ---- Refresh -------------------------------------------------------------------------

let pending = null;
let busy = false;
async function refresh() {
  if (busy) { pending = pending || setTimeout(() => { pending = null; refresh(); }, 200); return; }
  busy = true;
  try {
    overview = await api("/api/overview");
    renderReleases();
    if (tab === "rollout") await renderGates();
    if (tab === "sites") await renderSites();
    if (tab === "map") await renderMap();
    if (tab === "graph") renderGraph();
    if (tab === "history") await renderHistory();
    document.body.dataset.lastEvent = overview.last_event_id;
  } catch (e) {
    window.convErrors.push(e.message);
    toast(e.message);
  } finally {
    busy = false;
  }
}

function show(name) {
  tab = name;
  history.replaceState(null, "", "#" + name);
  document.querySelectorAll("nav button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.id === "tab-" + name));
  if (name === "sites") offset = 0;
  refresh();
}

document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => show(b.dataset.tab)));
document.getElementById("gates-pick").addEventListener("change", () => renderGates());
["f-env", "f-state", "f-version"].forEach((id) => document.getElementById(id).addEventListener("change", () => { offset = 0; renderSites(); }));
document.getElementById("f-q").addEventListener("input", () => { offset = 0; renderSites(); });
document.getElementById("prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); renderSites(); });
document.getElementById("next").addEventListener("click", () => { offset += PAGE; renderSites(); });
// `#map`, `#sites`...: a view to link to.
const fromHash = () => {
  const wanted = location.hash.slice(1);
  if (["rollout", "sites", "map", "graph", "history"].includes(wanted)) show(wanted); else refresh();
};
window.addEventListener("hashchange", fromHash);
fromHash();

// Live: the journal's events push a redraw; a slow timer also catches what is not an event
// (an approval given from a terminal, a process that died).
const live = document.getElementById("live");
const source = new EventSource(withToken("/api/events"));
source.addEventListener("journal", () => refresh());
source.onopen = () => { live.textContent = "live"; live.className = "pill on"; };
source.onerror = () => { live.textContent = "reconnecting…"; live.className = "pill off"; };
setInterval(refresh, 5000);
// The bake countdown moves between events.
setInterval(() => { if (overview && tab === "rollout" && document.querySelector('[data-state="in_flight"]')) renderReleases(); }, 1000);
