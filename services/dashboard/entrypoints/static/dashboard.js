// Dasbor Lindung: reads /api/... and draws tables and SVG charts by hand (no library, no CDN:
// the page works offline). Numbers are written the Indonesian way: 12.345 and Rp4.210.000.000.
"use strict";

const NS = "http://www.w3.org/2000/svg";
const C = {
  primary: "#0b4f8a", primaryLight: "#9cc3e6", teal: "#2a9d8f", jkk: "#1f77b4", jkm: "#2a9d8f",
  red: "#c0392b", redLight: "#e8a29b", amber: "#e08e0b", track: "#edf1f6", ink: "#1d2733",
  muted: "#5b6b7c", grid: "#e3e8ee", green: "#22a06b", greenLight: "#a9dcc4", gold: "#f4c542",
};
const FUNNEL_COLOURS = ["#0b4f8a", "#1565a5", "#1f7fbf", "#23958f", "#22a06b"];

const state = { me: null, programmes: [], years: [], year: null, programme: null, regency: null, timer: null };

// ---- formatting -----------------------------------------------------------------------------
function num(n) {
  const sign = n < 0 ? "-" : "";
  return sign + String(Math.abs(Math.round(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
}
function rp(n) { return (n < 0 ? "-" : "") + "Rp" + num(Math.abs(n)); }
function pct(part, whole) {
  if (!(whole > 0)) return "–";
  const tenths = Math.floor((part * 1000 + Math.floor(whole / 2)) / whole);
  return Math.floor(tenths / 10) + "," + (tenths % 10) + "%";
}
function rpShort(n) {
  if (n >= 1e12) return "Rp" + (n / 1e12).toFixed(2).replace(".", ",") + " T";
  if (n >= 1e9) return "Rp" + (n / 1e9).toFixed(2).replace(".", ",") + " M";
  if (n >= 1e6) return "Rp" + num(n / 1e6) + " jt";
  return rp(n);
}
function shortName(name) { return name.replace(/^Kabupaten /, "Kab. "); }
function wib(iso) {
  const d = new Date(Date.parse(iso) + 7 * 3600 * 1000);
  const two = (x) => String(x).padStart(2, "0");
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} WIB`;
}

// ---- DOM and SVG helpers ----------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
}
function label(x, y, text, attrs = {}) {
  const t = svg("text", { x, y, "font-size": 12, fill: C.ink, ...attrs });
  t.textContent = text;
  return t;
}
function tip(node, text) { const t = svg("title"); t.textContent = text; node.append(t); return node; }
function mount(id, node) { const host = document.getElementById(id); host.replaceChildren(node); }
function empty(text) { return el("div", { class: "empty", text }); }

// ---- charts -----------------------------------------------------------------------------------
// Horizontal bars: items = [{label, value, colour, note, title}]
function hbars(items, { width = 560, labelW = 190, valueW = 120, rowH = 28, max = null, format = num } = {}) {
  if (!items.length) return empty("Belum ada data.");
  const barW = width - labelW - valueW;
  const top = Math.max(max || 0, ...items.map((i) => i.value), 1);
  const root = svg("svg", { viewBox: `0 0 ${width} ${items.length * rowH + 6}`, role: "img" });
  items.forEach((item, i) => {
    const y = i * rowH + 3;
    const w = Math.max(item.value > 0 ? 2 : 0, (item.value / top) * barW);
    root.append(label(labelW - 8, y + rowH / 2 + 4, item.label, { "text-anchor": "end" }));
    root.append(svg("rect", { x: labelW, y: y + 4, width: barW, height: rowH - 10, rx: 3, fill: C.track }));
    root.append(tip(svg("rect", { x: labelW, y: y + 4, width: w, height: rowH - 10, rx: 3, fill: item.colour || C.primary }),
      item.title || `${item.label}: ${format(item.value)}`));
    const value = label(labelW + w + 6, y + rowH / 2 + 4, format(item.value), { "font-weight": 700 });
    root.append(value);
    if (item.note) {
      const n = svg("tspan", { fill: C.muted, "font-weight": 400, dx: 5 });
      n.textContent = item.note;
      value.append(n);
    }
  });
  return root;
}

function funnelChart(data) {
  const base = data.totals.nominated;
  const items = data.funnel.map((s, i) => ({
    label: s.label, value: s.count, colour: FUNNEL_COLOURS[i % FUNNEL_COLOURS.length],
    note: i === 0 ? "" : pct(s.count, base),
  }));
  if (!data.programme.requires_decree) items[3].note = "tidak wajib SK";
  const side = [
    { label: "Ditolak", value: data.totals.rejected, colour: C.red, note: pct(data.totals.rejected, base) },
    { label: "Daftar tunggu", value: data.totals.waitlisted, colour: C.amber },
    { label: "Gagal daftar BPJS", value: data.totals.failed, colour: C.redLight },
  ];
  return hbars(items.concat(side), { max: base });
}

function budgetChart(data) {
  const b = data.budget;
  const width = 560;
  const cap = Math.max(b.cap, b.committed, 1);
  const scale = (v) => (v / cap) * (width - 20);
  const root = svg("svg", { viewBox: `0 0 ${width} 330`, role: "img" });
  const paidW = scale(Math.min(b.paid, b.committed));
  const committedW = scale(b.committed);
  root.append(label(10, 18, data.scope.regency ? "Alokasi kuota" : "Pagu anggaran", { fill: C.muted }));
  root.append(label(width - 10, 18, rp(b.cap), { "text-anchor": "end", "font-weight": 700 }));
  root.append(svg("rect", { x: 10, y: 28, width: width - 20, height: 34, rx: 5, fill: C.track }));
  root.append(tip(svg("rect", { x: 10, y: 28, width: committedW, height: 34, rx: 5, fill: C.primaryLight }),
    `Terikat ${rp(b.committed)}`));
  root.append(tip(svg("rect", { x: 10, y: 28, width: paidW, height: 34, rx: 5, fill: C.primary }),
    `Dibayar ${rp(b.paid)}`));
  if (b.committed > b.cap) {
    root.append(svg("line", { x1: 10 + scale(b.cap), x2: 10 + scale(b.cap), y1: 22, y2: 68, stroke: C.red, "stroke-width": 2 }));
  }
  const rows = [
    [C.primary, "Iuran dibayar", b.paid, pct(b.paid, b.cap)],
    [C.primaryLight, "Anggaran terikat", b.committed, pct(b.committed, b.cap)],
    [C.track, data.scope.regency ? "Sisa alokasi" : "Sisa pagu", b.remaining, pct(Math.max(b.remaining, 0), b.cap)],
  ];
  rows.forEach(([colour, name, value, share], i) => {
    const y = 92 + i * 28;
    root.append(svg("rect", { x: 10, y: y - 12, width: 14, height: 14, rx: 3, fill: colour, stroke: "#c5ced8" }));
    root.append(label(32, y, name));
    root.append(label(width - 90, y, rp(value), { "text-anchor": "end", "font-weight": 700, fill: value < 0 ? C.red : C.ink }));
    root.append(label(width - 10, y, share, { "text-anchor": "end", fill: C.muted }));
  });
  root.append(label(10, 180, `Biaya per pekerja ${rp(b.cost_per_worker)} · kuota terisi ${num(data.totals.assigned)} dari ${num(data.totals.seats)}`, { fill: C.muted, "font-size": 11 }));
  root.append(label(10, 212, "Iuran dibayar per bulan", { "font-weight": 700, fill: C.ink }));
  monthColumns(root, data.premiums, { x: 10, y: 222, width: width - 20, height: 106 });
  return root;
}

// Progress rows: track = seats, dark = enrolled, light = assigned (seat taken, not yet enrolled).
function quotaRows(rows, { width = 560, labelW = 150, valueW = 150, rowH = 26 } = {}) {
  if (!rows.length) return empty("Belum ada kuota.");
  const barW = width - labelW - valueW;
  const top = Math.max(1, ...rows.map((r) => Math.max(r.seats, r.assigned + r.waitlisted)));
  const root = svg("svg", { viewBox: `0 0 ${width} ${rows.length * rowH + 30}`, role: "img" });
  rows.forEach((r, i) => {
    const y = i * rowH + 4;
    const w = (v) => (v / top) * barW;
    root.append(label(labelW - 8, y + rowH / 2 + 3, r.label, { "text-anchor": "end", "font-size": 11.5 }));
    root.append(svg("rect", { x: labelW, y: y + 5, width: w(r.seats), height: rowH - 11, rx: 3, fill: C.track, stroke: "#cfd8e3" }));
    root.append(svg("rect", { x: labelW, y: y + 5, width: w(r.assigned), height: rowH - 11, rx: 3, fill: C.primaryLight }));
    root.append(tip(svg("rect", { x: labelW, y: y + 5, width: w(r.enrolled), height: rowH - 11, rx: 3, fill: C.primary }),
      `${r.label}: terdaftar ${num(r.enrolled)}, terisi ${num(r.assigned)}, kuota ${num(r.seats)}, tunggu ${num(r.waitlisted)}`));
    if (r.waitlisted > 0) {
      root.append(svg("rect", { x: labelW + w(r.assigned), y: y + 9, width: w(r.waitlisted), height: rowH - 19, fill: C.amber, opacity: 0.75 }));
    }
    const t = label(width - valueW + 8, y + rowH / 2 + 3, `${num(r.assigned)} / ${num(r.seats)}`, { "font-weight": 700, "font-size": 11.5 });
    const share = svg("tspan", { fill: C.muted, "font-weight": 400, dx: 5 });
    share.textContent = pct(r.assigned, r.seats);
    t.append(share);
    root.append(t);
  });
  legend(root, labelW, rows.length * rowH + 20,
    [[C.primary, "Terdaftar BPJS"], [C.primaryLight, "Kursi terisi"], [C.track, "Kuota"], [C.amber, "Daftar tunggu"]]);
  return root;
}

// A row of coloured keys; each entry takes the room its words need.
function legend(root, x, y, entries) {
  for (const [colour, name] of entries) {
    root.append(svg("rect", { x, y: y - 10, width: 12, height: 12, rx: 2, fill: colour, stroke: "#c5ced8" }));
    root.append(label(x + 17, y, name, { "font-size": 11, fill: C.muted }));
    x += 17 + name.length * 6.4 + 22;
  }
}

// Small columns: premiums paid per month.
function monthColumns(root, months, { x, y, width, height }) {
  if (!months.length) {
    root.append(label(x, y + height / 2, "Belum ada iuran yang dibayar.", { fill: C.muted, "font-style": "italic" }));
    return;
  }
  const max = Math.max(1, ...months.map((m) => m.total));
  const slot = width / months.length;
  const barW = Math.min(46, slot - 10);
  months.forEach((m, i) => {
    const h = (m.total / max) * (height - 34);
    const cx = x + slot * i + slot / 2;
    root.append(tip(svg("rect", { x: cx - barW / 2, y: y + height - 16 - h, width: barW, height: h, rx: 2, fill: C.primary }),
      `${m.label}: ${rp(m.total)} untuk ${num(m.workers)} pekerja`));
    root.append(label(cx, y + height - 20 - h, rpShort(m.total), { "text-anchor": "middle", "font-size": 10, fill: C.muted }));
    root.append(label(cx, y + height - 2, m.label.slice(0, 3), { "text-anchor": "middle", "font-size": 10.5 }));
  });
}

function claimsChart(data) {
  const months = data.claims.by_month;
  if (!months.length) return empty("Belum ada klaim yang dibayar.");
  const width = 1100, height = 290, left = 90, bottom = 62, top = 20;
  const plotH = height - bottom - top;
  const max = Math.max(1, ...months.flatMap((m) => [m.JKK.amount, m.JKM.amount]));
  const step = niceStep(max / 4);
  const ceiling = Math.ceil(max / step) * step;
  const slot = (width - left - 10) / months.length;
  const barW = Math.min(34, slot / 2 - 6);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
  for (let v = 0; v <= ceiling; v += step) {
    const y = top + plotH - (v / ceiling) * plotH;
    root.append(svg("line", { x1: left, x2: width - 10, y1: y, y2: y, stroke: C.grid }));
    root.append(label(left - 8, y + 4, rpShort(v), { "text-anchor": "end", "font-size": 11, fill: C.muted }));
  }
  months.forEach((m, i) => {
    const cx = left + slot * i + slot / 2;
    [["JKK", C.jkk, -barW - 2], ["JKM", C.jkm, 2]].forEach(([kind, colour, dx]) => {
      const v = m[kind];
      const h = (v.amount / ceiling) * plotH;
      root.append(tip(svg("rect", { x: cx + dx, y: top + plotH - h, width: barW, height: Math.max(h, 0), rx: 2, fill: colour }),
        `${m.label} ${kind}: ${num(v.claims)} klaim, ${rp(v.amount)}, ${num(v.flagged)} ditandai`));
      if (v.claims > 0) {
        root.append(label(cx + dx + barW / 2, top + plotH - h - 4, num(v.claims), { "text-anchor": "middle", "font-size": 10.5, fill: C.muted }));
      }
    });
    root.append(label(cx, top + plotH + 18, m.label, { "text-anchor": "middle", "font-size": 11.5 }));
  });
  legend(root, left, height - 6, [[C.jkk, "JKK · kecelakaan kerja"], [C.jkm, "JKM · kematian"]]);
  return root;
}

function niceStep(raw) {
  const power = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1))));
  for (const f of [1, 2, 2.5, 5, 10]) if (raw <= f * power) return f * power;
  return 10 * power;
}

// ---- tables -----------------------------------------------------------------------------------
const OVERVIEW = [
  ["seats", "Kuota"], ["nominated", "Diusulkan"], ["validated", "Lolos"], ["rejected", "Ditolak"],
  ["assigned", "Dapat kuota"], ["waitlisted", "Tunggu"], ["decreed", "SK"], ["enrolled", "Terdaftar"],
  ["failed", "Gagal"], ["use", "Terisi"], ["committed", "Anggaran terikat"], ["paid", "Iuran dibayar"],
  ["claims", "Klaim"], ["claims_amount", "Nilai klaim"],
];
const MONEY = new Set(["committed", "paid", "claims_amount"]);

function cellText(key, row) {
  if (key === "use") return pct(row.assigned, row.seats);
  return MONEY.has(key) ? rp(row[key]) : num(row[key]);
}

function overviewTable(data) {
  const head = el("tr", {}, el("th", { class: "text", text: "Kabupaten/Kota" }),
    ...OVERVIEW.map(([, title]) => el("th", { text: title })));
  const body = el("tbody");
  for (const row of data.regencies) {
    const tr = el("tr", { "data-regency": row.code },
      el("td", { class: "text", "data-k": "name", text: shortName(row.name) }),
      ...OVERVIEW.map(([key]) => el("td", { "data-k": key, text: cellText(key, row) })));
    if (row.waitlisted > 0) tr.querySelector('[data-k="waitlisted"]').classList.add("warn");
    if (state.me.province_wide) {
      tr.classList.add("clickable");
      tr.addEventListener("click", () => selectRegency(row.code));
    }
    if (row.code === state.regency) tr.classList.add("selected");
    body.append(tr);
  }
  const table = el("table", { class: "data" }, el("thead", {}, head), body);
  if (data.regencies.length > 1) {
    const sum = {};
    for (const [key] of OVERVIEW) sum[key] = data.regencies.reduce((a, r) => a + (r[key] || 0), 0);
    table.append(el("tfoot", {}, el("tr", { "data-regency": "total" },
      el("td", { class: "text", text: "Jumlah" }),
      ...OVERVIEW.map(([key]) => el("td", { "data-k": key, text: cellText(key, sum) })))));
  }
  return table;
}

function claimsTable(data) {
  const head = el("tr", {}, el("th", { class: "text", text: "Bulan" }),
    el("th", { text: "JKK klaim" }), el("th", { text: "JKK nilai" }),
    el("th", { text: "JKM klaim" }), el("th", { text: "JKM nilai" }), el("th", { text: "Ditandai" }));
  const row = (name, m, attrs = {}) => el("tr", attrs, el("td", { class: "text", text: name }),
    el("td", { text: num(m.JKK.claims) }), el("td", { text: rp(m.JKK.amount) }),
    el("td", { text: num(m.JKM.claims) }), el("td", { text: rp(m.JKM.amount) }),
    el("td", { text: num(m.JKK.flagged + m.JKM.flagged) }));
  const body = el("tbody", {}, ...data.claims.by_month.map((m) => row(m.label, m, { "data-month": m.month })));
  return el("table", { class: "data" }, el("thead", {}, head), body,
    el("tfoot", {}, row("Jumlah", data.claims.totals, { "data-month": "total" })));
}

function sectorTable(data) {
  const cols = [["seats", "Kuota"], ["nominated", "Diusulkan"], ["assigned", "Terisi"], ["enrolled", "Terdaftar"],
    ["waitlisted", "Tunggu"], ["committed", "Anggaran terikat"]];
  const head = el("tr", {}, el("th", { class: "text", text: "Sektor" }), ...cols.map(([, t]) => el("th", { text: t })));
  const cost = data.programme.cost_per_worker;
  const body = el("tbody", {}, ...data.sectors.map((s) => el("tr", { "data-sector": s.sector },
    el("td", { class: "text", text: s.label }),
    ...cols.map(([k]) => el("td", { text: k === "committed" ? rp(s.assigned * cost) : num(s[k]) })))));
  return el("table", { class: "data" }, el("thead", {}, head), body);
}

function decreeLine(data) {
  if (!data.programme.requires_decree) return "Program ini tidak mewajibkan SK sebelum pendaftaran BPJS.";
  if (!data.decrees.length) return "Belum ada SK yang ditetapkan.";
  const d = data.decrees[data.decrees.length - 1];
  const [y, m, day] = d.date.split("-");
  const bulan = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"];
  return `SK terakhir: ${d.number} (versi ${d.version}), ${Number(day)} ${bulan[Number(m) - 1]} ${y}, ${num(d.worker_count)} pekerja, ${rp(d.total_cost)}`;
}

// ---- KPI cards --------------------------------------------------------------------------------
function kpi(key, title, value, sub, kind = "") {
  return el("div", { class: `kpi ${kind}` },
    el("div", { class: "kpi-label", text: title }),
    el("div", { class: "kpi-value", "data-testid": `kpi-${key}`, text: value }),
    el("div", { class: "kpi-sub", text: sub }));
}

function renderKpis(data) {
  const t = data.totals, b = data.budget;
  document.getElementById("kpis").replaceChildren(
    kpi("nominated", "Diusulkan", num(t.nominated), `${num(t.rejected)} ditolak (${pct(t.rejected, t.nominated)})`),
    kpi("validated", "Lolos verifikasi", num(t.validated), `${pct(t.validated, t.nominated)} dari usulan`),
    kpi("assigned", "Mendapat kuota", num(t.assigned), `dari ${num(t.seats)} kuota (${pct(t.assigned, t.seats)}) · ${num(t.waitlisted)} menunggu`),
    kpi("enrolled", "Terdaftar BPJS", num(t.enrolled), `${num(t.failed)} gagal daftar`, "good"),
    kpi("committed", "Anggaran terikat", rp(b.committed), `${pct(b.committed, b.cap)} dari ${rp(b.cap)}`, "money"),
    kpi("paid", "Iuran dibayar", rp(b.paid), `${pct(b.paid, b.cap)} dari ${data.scope.regency ? "alokasi" : "pagu"}`, "money"),
    kpi("claims", "Klaim dibayar BPJS", num(t.claims), `${rp(t.claims_amount)} · ${num(t.claims_flagged)} ditandai`, "claims"),
  );
}

// ---- rendering --------------------------------------------------------------------------------
function render(data) {
  const p = data.programme;
  document.getElementById("scope-name").textContent = data.scope.name;
  document.getElementById("programme-line").textContent =
    `${p.name} · ${p.funder_label} · masa perlindungan ${p.coverage_start} s.d. ${p.coverage_end} · ${rp(p.premium_per_month)} per pekerja per bulan`;
  renderKpis(data);
  mount("chart-funnel", funnelChart(data));
  mount("chart-budget", budgetChart(data));
  mount("chart-sectors", quotaRows(data.sectors.map((s) => ({ ...s, label: s.label })), { rowH: 40, labelW: 110 }));
  document.getElementById("table-sectors").replaceWith(Object.assign(sectorTable(data), { id: "table-sectors" }));
  document.getElementById("decree-line").textContent = decreeLine(data);
  mount("chart-rejections", hbars(data.rejections.slice(0, 8).map((r) => ({
    label: r.label, value: r.count, colour: C.red, note: pct(r.count, data.totals.rejected), title: `${r.code}: ${num(r.count)}`,
  })), { labelW: 250, valueW: 110 }));
  mount("chart-claims", claimsChart(data));
  document.getElementById("table-claims").replaceWith(Object.assign(claimsTable(data), { id: "table-claims" }));
  const regencyCard = document.getElementById("card-regency-chart");
  regencyCard.hidden = !!data.scope.regency;
  if (!data.scope.regency) {
    mount("chart-regencies", quotaRows(data.regencies.filter((r) => r.seats > 0 || r.assigned > 0)
      .map((r) => ({ ...r, label: shortName(r.name) })), { width: 1100, labelW: 190, valueW: 160, rowH: 22 }));
  }
  document.getElementById("overview-title").textContent =
    data.scope.regency ? `Ikhtisar ${data.scope.name}` : `Ikhtisar ${data.regencies.length} kabupaten/kota`;
  document.getElementById("table-regencies").replaceWith(Object.assign(overviewTable(data), { id: "table-regencies" }));
  const last = data.last_event_at ? ` · peristiwa terakhir diterima ${wib(data.last_event_at)}` : "";
  setStatus(`Diperbarui ${wib(data.as_of)}${last} · otomatis tiap ${state.me.poll_seconds} detik`, "live");
  document.body.dataset.programme = p.code;
  document.body.dataset.regency = data.scope.regency || "";
  document.body.dataset.asOf = data.as_of;
  document.body.dataset.ready = "1";
}

function setStatus(text, kind) {
  document.getElementById("status").textContent = text;
  document.getElementById("status-dot").className = `dot ${kind}`;
}

async function getJSON(url) {
  const answer = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (answer.status === 401) { window.location.assign("/login"); throw new Error("401"); }
  if (!answer.ok) {
    let message = `HTTP ${answer.status}`;
    try { message = (await answer.json()).detail.message || message; } catch (e) { /* keep the status */ }
    throw new Error(message);
  }
  return answer.json();
}

function query() {
  return state.regency ? `?regency=${encodeURIComponent(state.regency)}` : "";
}

async function refreshProgrammes() {
  const list = await getJSON("/api/programmes");
  if (JSON.stringify(list.items) === JSON.stringify(state.programmes)) return;
  state.programmes = list.items;
  state.years = list.years;
  renderFilters();
}

async function refresh() {
  if (!state.programme) return;
  try {
    await refreshProgrammes();
    const data = await getJSON(`/api/programmes/${encodeURIComponent(state.programme)}/summary${query()}`);
    render(data);
  } catch (err) {
    setStatus(`Gagal memuat data: ${err.message}. Mencoba lagi…`, "error");
  }
}

function fillSelect(select, options, value) {
  select.replaceChildren(...options.map(([v, text]) => {
    const o = el("option", { value: v, text });
    if (v === value) o.selected = true;
    return o;
  }));
}

function renderFilters() {
  fillSelect(document.getElementById("f-year"), state.years.map((y) => [String(y), String(y)]), String(state.year));
  const inYear = state.programmes.filter((p) => p.year === state.year);
  fillSelect(document.getElementById("f-programme"), inYear.map((p) => [p.code, `${p.name} (${p.code})`]), state.programme);
  const regencySelect = document.getElementById("f-regency");
  if (state.me.province_wide) {
    fillSelect(regencySelect, [["", "Seluruh Sumatera Utara"], ...REGIONS.map(([code, name]) => [code, `${code} ${name}`])], state.regency || "");
  } else {
    fillSelect(regencySelect, [[state.me.regency, `${state.me.regency} ${state.me.regency_name}`]], state.me.regency);
    regencySelect.disabled = true;
  }
  const base = state.programme ? `/reports/${encodeURIComponent(state.programme)}` : "#";
  document.getElementById("dl-pdf").href = `${base}.pdf${query()}`;
  document.getElementById("dl-xlsx").href = `${base}.xlsx${query()}`;
  writeHash();
}

function writeHash() {
  const parts = [];
  if (state.programme) parts.push(`programme=${encodeURIComponent(state.programme)}`);
  if (state.regency) parts.push(`regency=${encodeURIComponent(state.regency)}`);
  history.replaceState(null, "", parts.length ? `#${parts.join("&")}` : "#");
}

function readHash() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  return { programme: params.get("programme"), regency: params.get("regency") };
}

function selectRegency(code) {
  state.regency = code || null;
  renderFilters();
  refresh();
}

// The 33 regencies/cities, for the filter (names shortened like the table).
let REGIONS = [];

async function start() {
  try {
    state.me = await getJSON("/api/me");
  } catch (err) {
    setStatus(`Gagal memuat: ${err.message}`, "error");
    return;
  }
  document.getElementById("who-name").textContent = state.me.name;
  const roles = { province_admin: "Admin provinsi", regency_officer: "Petugas kabupaten/kota", auditor: "Auditor", bpjs: "BPJS" };
  document.getElementById("who-scope").textContent = `${roles[state.me.role] || state.me.role} · ${state.me.regency_name}`;
  if (!state.me.authenticated) document.getElementById("logout-form").hidden = true;
  const wanted = readHash();
  const list = await getJSON("/api/programmes");
  state.programmes = list.items;
  state.years = list.years;
  if (!state.programmes.length) {
    setStatus("Belum ada program. Angka muncul setelah program ditetapkan (ProgrammeDefined).", "");
    setTimeout(start, state.me.poll_seconds * 1000);
    return;
  }
  const chosen = state.programmes.find((p) => p.code === wanted.programme) || state.programmes[0];
  state.programme = chosen.code;
  state.year = chosen.year;
  state.regency = state.me.province_wide ? wanted.regency : state.me.regency;
  const first = await getJSON(`/api/programmes/${encodeURIComponent(state.programme)}/summary`);
  REGIONS = first.regencies.map((r) => [r.code, shortName(r.name)]);
  renderFilters();
  if (state.regency) await refresh(); else render(first);
  document.getElementById("f-year").addEventListener("change", (e) => {
    state.year = Number(e.target.value);
    const p = state.programmes.find((x) => x.year === state.year);
    state.programme = p ? p.code : null;
    renderFilters();
    refresh();
  });
  document.getElementById("f-programme").addEventListener("change", (e) => {
    state.programme = e.target.value;
    renderFilters();
    refresh();
  });
  document.getElementById("f-regency").addEventListener("change", (e) => selectRegency(e.target.value));
  // A link to another programme or regency (#programme=...&regency=...) opened on this page.
  window.addEventListener("hashchange", () => {
    const asked = readHash();
    const p = state.programmes.find((x) => x.code === asked.programme);
    if (p) { state.programme = p.code; state.year = p.year; }
    state.regency = state.me.province_wide ? asked.regency : state.me.regency;
    renderFilters();
    refresh();
  });
  state.timer = setInterval(refresh, state.me.poll_seconds * 1000);
}

start();
