// Dasbor Lindung: reads /api/... and draws tables, SVG charts and the map by hand (no library, no
// CDN, no tile server: the page works offline). Numbers are written the Indonesian way: 12.345 and
// Rp4.210.000.000. Charts are drawn at the width of their box, in CSS pixels, so their text keeps
// its size on a phone (a viewBox scaled down to 390 px would shrink 12 px labels to 5 px).
"use strict";

const NS = "http://www.w3.org/2000/svg";
const C = {
  primary: "#0b4f8a", primaryLight: "#9cc3e6", teal: "#1d7369", jkk: "#1f77b4", jkm: "#2a9d8f",
  red: "#c0392b", redLight: "#e8a29b", amber: "#e08e0b", track: "#edf1f6", ink: "#1d2733",
  muted: "#5b6b7c", grid: "#e3e8ee", green: "#22a06b", greenLight: "#a9dcc4", gold: "#f4c542",
  grey: "#8796a5",
};
const FUNNEL_COLOURS = ["#0b4f8a", "#1565a5", "#1f7fbf", "#23958f", "#22a06b"];
const MAP_CLASSES = ["#deebf7", "#9ecae1", "#5a9fd0", "#2f74b5", "#0b4f8a"];
const MAP_NONE = "#eceff3";
const UNKNOWN_KECAMATAN = "tidak_diketahui"; // the API's row of workers of no known kecamatan
const NARROW = 520; // below this chart width, labels go above their bars
const PROVINCE = "12";

// What each counter is called (services/dashboard/domain/labels.py COUNTER_LABELS says the same).
const STAGES = [
  ["nominated", "Diusulkan"], ["validated", "Lolos verifikasi"], ["rejected", "Ditolak"],
  ["withdrawn", "Dibatalkan"], ["pending", "Menunggu verifikasi"], ["decided", "Diputuskan alokasi"],
  ["assigned", "Mendapat kuota"], ["waitlisted", "Daftar tunggu"], ["declined", "Ditanggung program lain"],
  ["released", "Kuota dilepas"], ["decreed", "Ditetapkan SK"], ["requested", "Diminta daftar BPJS"],
  ["enrolled", "Terdaftar BPJS"], ["failed", "Gagal daftar BPJS"], ["registering", "Menunggu jawaban BPJS"],
  ["lapsed", "Pernah terhenti (tunggakan)"], ["in_arrears", "Menunggak sekarang"],
  ["membership_ended", "Kepesertaan BPU berakhir"],
];
// The share each stage is read against.
const STAGE_OF = {
  validated: "nominated", rejected: "nominated", withdrawn: "nominated", pending: "nominated",
  assigned: "seats", waitlisted: "decided", declined: "decided", released: "decided", decreed: "assigned",
  enrolled: "assigned", failed: "requested", registering: "requested", lapsed: "enrolled",
  in_arrears: "enrolled", membership_ended: "enrolled",
};

// Figures the map can be coloured by: value(row) and how it is written; null: no data there.
// regencyOnly: seats, premiums and claims are not counted per kecamatan (docs/dashboard.md).
const MAP_FIGURES = [
  { key: "use", label: "Kuota terisi (%)", value: (r) => (r.seats > 0 ? r.assigned / r.seats : null),
    text: (r) => pct(r.assigned, r.seats), share: true, regencyOnly: true },
  { key: "assigned", label: "Pemegang kuota", value: (r) => r.assigned, text: (r) => num(r.assigned) },
  { key: "enrolled", label: "Terdaftar BPJS", value: (r) => r.enrolled, text: (r) => num(r.enrolled) },
  { key: "nominated", label: "Diusulkan", value: (r) => r.nominated, text: (r) => num(r.nominated) },
  { key: "rejected_share", label: "Ditolak (% usulan)", value: (r) => (r.nominated > 0 ? r.rejected / r.nominated : null),
    text: (r) => pct(r.rejected, r.nominated), share: true },
  { key: "waitlisted", label: "Daftar tunggu", value: (r) => r.waitlisted, text: (r) => num(r.waitlisted) },
  { key: "claims_per_1000", label: "Klaim per 1.000 peserta", value: (r) => (r.enrolled > 0 ? (r.claims * 1000) / r.enrolled : null),
    text: (r) => (r.enrolled > 0 ? decimal((r.claims * 1000) / r.enrolled) : "–"), regencyOnly: true },
  { key: "paid", label: "Iuran dibayar", value: (r) => r.paid, text: (r) => rp(r.paid), money: true, regencyOnly: true },
];

const state = {
  me: null, programmes: [], years: [], year: null, programme: null, regency: null, timer: null,
  data: null, drawnKey: null, mapFigure: "use", maps: {}, mapKey: null, kecamatan: null,
};

// ---- formatting -----------------------------------------------------------------------------
function num(n) {
  const sign = n < 0 ? "-" : "";
  return sign + String(Math.abs(Math.round(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
}
function decimal(x) { return num(Math.floor(x)) + "," + Math.floor((x * 10) % 10); }
function rp(n) { return (n < 0 ? "-" : "") + "Rp" + num(Math.abs(n)); }
// One decimal, rounded half up, but a shortfall never shows as 100% (20.871 of 20.877 is 99,9%):
// labels.percent_tenths on the server follows the same rule.
function pct(part, whole) {
  if (!(whole > 0)) return "–";
  let tenths = Math.floor((part * 1000 + Math.floor(whole / 2)) / whole);
  if (part < whole) tenths = Math.min(tenths, 999);
  const sign = tenths < 0 ? "-" : "";
  tenths = Math.abs(tenths);
  return sign + Math.floor(tenths / 10) + "," + (tenths % 10) + "%";
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
// Cut a label to what `px` pixels hold at about 6.4 px a character (12 px sans); the whole text
// stays in the element's <title>.
function fit(text, px) {
  const chars = Math.max(4, Math.floor(px / 6.4));
  return text.length <= chars ? text : text.slice(0, chars - 1) + "…";
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
// An SVG drawn 1:1 in CSS pixels.
function canvas(width, height, title) {
  const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  if (title) root.setAttribute("aria-label", title);
  return root;
}
function label(x, y, text, attrs = {}) {
  const t = svg("text", { x, y, "font-size": 12, fill: C.ink, ...attrs });
  t.textContent = text;
  return t;
}
function tip(node, text) { const t = svg("title"); t.textContent = text; node.append(t); return node; }
function mount(id, node) { document.getElementById(id).replaceChildren(node); }
function widthOf(id) { return Math.max(260, Math.floor(document.getElementById(id).clientWidth || 560)); }
function empty(text) { return el("div", { class: "empty", text }); }
function replaceTable(id, table) { table.id = id; document.getElementById(id).replaceWith(table); }

// ---- charts -----------------------------------------------------------------------------------
// Horizontal bars: items = [{label, value, colour, note, title}]. Wide: label | bar | value.
// Narrow: the label above its bar, the value after the bar.
function hbars(items, width, { labelW = 190, valueW = 120, max = null, format = num, title = "" } = {}) {
  if (!items.length) return empty("Belum ada data.");
  const narrow = width < NARROW;
  const rowH = narrow ? 42 : 28;
  const lw = narrow ? 0 : Math.min(labelW, Math.floor(width * 0.4));
  const barW = Math.max(40, width - lw - valueW - 4);
  const top = Math.max(max || 0, ...items.map((i) => i.value), 1);
  const root = canvas(width, items.length * rowH + 6, title);
  items.forEach((item, i) => {
    const y = i * rowH + 3;
    const barY = narrow ? y + 20 : y + 4;
    const barH = narrow ? 16 : rowH - 10;
    const w = Math.max(item.value > 0 ? 2 : 0, (item.value / top) * barW);
    const name = narrow ? label(0, y + 13, fit(item.label, width), {}) : label(lw - 8, y + rowH / 2 + 4, fit(item.label, lw - 10), { "text-anchor": "end" });
    root.append(tip(name, item.label));
    root.append(svg("rect", { x: lw, y: barY, width: barW, height: barH, rx: 3, fill: C.track }));
    root.append(tip(svg("rect", { x: lw, y: barY, width: w, height: barH, rx: 3, fill: item.colour || C.primary }),
      item.title || `${item.label}: ${format(item.value)}`));
    const value = label(lw + w + 6, barY + barH / 2 + 4, format(item.value), { "font-weight": 700 });
    root.append(value);
    if (item.note) {
      const n = svg("tspan", { fill: C.muted, "font-weight": 400, dx: 5 });
      n.textContent = item.note;
      value.append(n);
    }
  });
  return root;
}

function funnelChart(data, width) {
  const t = data.totals;
  const base = t.nominated;
  const items = data.funnel.map((s, i) => ({
    label: s.label, value: s.count, colour: FUNNEL_COLOURS[i % FUNNEL_COLOURS.length],
    note: i === 0 ? "" : pct(s.count, base),
  }));
  const decreed = items.find((_, i) => data.funnel[i].stage === "decreed");
  if (decreed && !data.programme.requires_decree) decreed.note = "tidak wajib SK";
  const side = [
    { label: "Ditolak", value: t.rejected, colour: C.red, note: pct(t.rejected, base) },
    { label: "Dibatalkan", value: t.withdrawn, colour: C.grey, note: pct(t.withdrawn, base) },
    { label: "Daftar tunggu", value: t.waitlisted, colour: C.amber },
    { label: "Kuota dilepas", value: t.released, colour: C.grey },
    { label: "Gagal daftar BPJS", value: t.failed, colour: C.redLight },
  ].filter((s) => s.value !== undefined);
  return hbars(items.concat(side), width, { max: base, title: "Alur peserta" });
}

function budgetChart(data, width) {
  const b = data.budget;
  const inner = width - 20;
  const cap = Math.max(b.cap, b.committed, 1);
  const scale = (v) => (v / cap) * inner;
  const narrow = width < NARROW;
  const root = canvas(width, 330, "Anggaran");
  const paidW = scale(Math.min(b.paid, b.committed));
  const committedW = scale(b.committed);
  root.append(label(10, 18, data.scope.regency ? "Alokasi kuota" : "Pagu anggaran", { fill: C.muted }));
  root.append(label(width - 10, 18, rp(b.cap), { "text-anchor": "end", "font-weight": 700 }));
  root.append(svg("rect", { x: 10, y: 28, width: inner, height: 34, rx: 5, fill: C.track }));
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
    root.append(label(width - (narrow ? 62 : 90), y, rp(value), { "text-anchor": "end", "font-weight": 700, fill: value < 0 ? C.red : C.ink }));
    root.append(label(width - 10, y, share, { "text-anchor": "end", fill: C.muted }));
  });
  const cost = `Biaya per pekerja ${rp(b.cost_per_worker)}`;
  const filled = `kuota terisi ${num(data.totals.assigned)} dari ${num(data.totals.seats)}`;
  if (narrow) {
    root.append(label(10, 172, cost, { fill: C.muted, "font-size": 11 }));
    root.append(label(10, 188, filled, { fill: C.muted, "font-size": 11 }));
  } else {
    root.append(label(10, 180, `${cost} · ${filled}`, { fill: C.muted, "font-size": 11 }));
  }
  root.append(label(10, 214, "Iuran dibayar per bulan", { "font-weight": 700, fill: C.ink }));
  monthColumns(root, data.premiums, { x: 10, y: 222, width: inner, height: 106 });
  return root;
}

// Progress rows: track = seats, dark = enrolled, light = assigned (seat taken, not yet enrolled).
function quotaRows(rows, width, { labelW = 150, valueW = 150, rowH = 26, title = "" } = {}) {
  if (!rows.length) return empty("Belum ada kuota.");
  const narrow = width < NARROW;
  const lw = narrow ? 0 : Math.min(labelW, Math.floor(width * 0.35));
  const vw = narrow ? 0 : valueW;
  const h = narrow ? 40 : rowH;
  const barW = width - lw - vw - 4;
  const top = Math.max(1, ...rows.map((r) => Math.max(r.seats, r.assigned + r.waitlisted)));
  const legendRows = narrow ? 2 : 1;
  const root = canvas(width, rows.length * h + 12 + legendRows * 20, title);
  rows.forEach((r, i) => {
    const y = i * h + 4;
    const w = (v) => (v / top) * barW;
    const barY = narrow ? y + 19 : y + 5;
    const barH = narrow ? 14 : h - 11;
    const figure = `${num(r.assigned)} / ${num(r.seats)}`;
    if (narrow) {
      root.append(tip(label(0, y + 12, fit(r.label, width - 130), {}), r.label));
      const t = label(width, y + 12, figure, { "text-anchor": "end", "font-weight": 700 });
      const share = svg("tspan", { fill: C.muted, "font-weight": 400, dx: 5 });
      share.textContent = pct(r.assigned, r.seats);
      t.append(share);
      root.append(t);
    } else {
      root.append(tip(label(lw - 8, y + h / 2 + 3, fit(r.label, lw - 10), { "text-anchor": "end", "font-size": 11.5 }), r.label));
    }
    root.append(svg("rect", { x: lw, y: barY, width: w(r.seats), height: barH, rx: 3, fill: C.track, stroke: "#cfd8e3" }));
    root.append(svg("rect", { x: lw, y: barY, width: w(r.assigned), height: barH, rx: 3, fill: C.primaryLight }));
    root.append(tip(svg("rect", { x: lw, y: barY, width: w(r.enrolled), height: barH, rx: 3, fill: C.primary }),
      `${r.label}: terdaftar ${num(r.enrolled)}, terisi ${num(r.assigned)}, kuota ${num(r.seats)}, tunggu ${num(r.waitlisted)}`));
    if (r.waitlisted > 0) {
      root.append(svg("rect", { x: lw + w(r.assigned), y: barY + 4, width: w(r.waitlisted), height: Math.max(barH - 8, 3), fill: C.amber, opacity: 0.75 }));
    }
    if (!narrow) {
      const t = label(width - vw + 8, y + h / 2 + 3, figure, { "font-weight": 700, "font-size": 11.5 });
      const share = svg("tspan", { fill: C.muted, "font-weight": 400, dx: 5 });
      share.textContent = pct(r.assigned, r.seats);
      t.append(share);
      root.append(t);
    }
  });
  legend(root, lw, rows.length * h + 22, width,
    [[C.primary, "Terdaftar BPJS"], [C.primaryLight, "Kursi terisi"], [C.track, "Kuota"], [C.amber, "Daftar tunggu"]]);
  return root;
}

// A row of coloured keys, wrapping to a second line when the width runs out.
function legend(root, x0, y, width, entries) {
  let x = x0;
  for (const [colour, name] of entries) {
    const w = 17 + name.length * 6.2 + 18;
    if (x > x0 && x + w > width) { x = x0; y += 20; }
    root.append(svg("rect", { x, y: y - 10, width: 12, height: 12, rx: 2, fill: colour, stroke: "#c5ced8" }));
    root.append(label(x + 17, y, name, { "font-size": 11, fill: C.muted }));
    x += w;
  }
}

// Small columns: premiums paid per month (the amounts over the columns only where they fit).
function monthColumns(root, months, { x, y, width, height }) {
  if (!months.length) {
    root.append(label(x, y + height / 2, "Belum ada iuran yang dibayar.", { fill: C.muted, "font-style": "italic" }));
    return;
  }
  const max = Math.max(1, ...months.map((m) => m.total));
  const slot = width / months.length;
  const barW = Math.max(4, Math.min(46, slot - 8));
  months.forEach((m, i) => {
    const h = (m.total / max) * (height - 34);
    const cx = x + slot * i + slot / 2;
    root.append(tip(svg("rect", { x: cx - barW / 2, y: y + height - 16 - h, width: barW, height: h, rx: 2, fill: C.primary }),
      `${m.label}: ${rp(m.total)} untuk ${num(m.workers)} pekerja`));
    if (slot >= 58) {
      root.append(label(cx, y + height - 20 - h, rpShort(m.total), { "text-anchor": "middle", "font-size": 10, fill: C.muted }));
    }
    if (slot >= 24 || i % 2 === 0) {
      root.append(label(cx, y + height - 2, m.label.slice(0, 3), { "text-anchor": "middle", "font-size": 10.5 }));
    }
  });
}

function claimsChart(data, width) {
  const months = data.claims.by_month;
  if (!months.length) return empty("Belum ada klaim yang dibayar.");
  const narrow = width < NARROW;
  const height = 290, left = narrow ? 62 : 90, bottom = 62, top = 20;
  const plotH = height - bottom - top;
  const max = Math.max(1, ...months.flatMap((m) => [m.JKK.amount, m.JKM.amount]));
  const step = niceStep(max / 4);
  const ceiling = Math.ceil(max / step) * step;
  const slot = (width - left - 10) / months.length;
  const barW = Math.max(3, Math.min(34, slot / 2 - 3));
  const root = canvas(width, height, "Klaim dibayar BPJS per bulan");
  for (let v = 0; v <= ceiling; v += step) {
    const y = top + plotH - (v / ceiling) * plotH;
    root.append(svg("line", { x1: left, x2: width - 10, y1: y, y2: y, stroke: C.grid }));
    root.append(label(left - 6, y + 4, rpShort(v), { "text-anchor": "end", "font-size": 10.5, fill: C.muted }));
  }
  months.forEach((m, i) => {
    const cx = left + slot * i + slot / 2;
    [["JKK", C.jkk, -barW - 1], ["JKM", C.jkm, 1]].forEach(([kind, colour, dx]) => {
      const v = m[kind];
      const h = (v.amount / ceiling) * plotH;
      root.append(tip(svg("rect", { x: cx + dx, y: top + plotH - h, width: barW, height: Math.max(h, 0), rx: 2, fill: colour }),
        `${m.label} ${kind}: ${num(v.claims)} klaim, ${rp(v.amount)}, ${num(v.flagged)} ditandai`));
      if (v.claims > 0 && slot >= 50) {
        root.append(label(cx + dx + barW / 2, top + plotH - h - 4, num(v.claims), { "text-anchor": "middle", "font-size": 10.5, fill: C.muted }));
      }
    });
    const name = slot >= 64 ? m.label : m.label.slice(0, 3);
    if (slot >= 22 || i % 2 === 0) {
      root.append(label(cx, top + plotH + 18, name, { "text-anchor": "middle", "font-size": slot >= 64 ? 11.5 : 10.5 }));
    }
  });
  legend(root, narrow ? 10 : left, height - 26, width, [[C.jkk, "JKK · kecelakaan kerja"], [C.jkm, "JKM · kematian"]]);
  return root;
}

function niceStep(raw) {
  const power = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1))));
  for (const f of [1, 2, 2.5, 5, 10]) if (raw <= f * power) return f * power;
  return 10 * power;
}

// The chart's rows as the API groups them (figures.grouped: the long tail is one "lainnya" row).
function rejectionItems(data) {
  const whole = data.totals.rejected;
  return (data.rejections_chart || data.rejections).map((r) => ({
    label: r.label, value: r.count, colour: r.codes ? C.redLight : C.red, note: pct(r.count, whole),
    title: r.codes ? `${r.label}: ${r.codes.join(", ")}` : `${r.code}: ${num(r.count)}`,
  }));
}

// ---- tables -----------------------------------------------------------------------------------
const OVERVIEW = [
  ["seats", "Kuota"], ["nominated", "Diusulkan"], ["validated", "Lolos"], ["rejected", "Ditolak"],
  ["withdrawn", "Dibatalkan"], ["assigned", "Dapat kuota"], ["waitlisted", "Tunggu"], ["released", "Dilepas"],
  ["decreed", "SK"], ["enrolled", "Terdaftar"], ["failed", "Gagal"], ["lapsed", "Terhenti"], ["use", "Terisi"],
  ["committed", "Anggaran terikat"], ["paid", "Iuran dibayar"], ["claims", "Klaim"], ["claims_amount", "Nilai klaim"],
];
const MONEY = new Set(["committed", "paid", "claims_amount"]);

function cellText(key, row) {
  if (key === "use") return pct(row.assigned, row.seats);
  if (row[key] === undefined) return "–";
  return MONEY.has(key) ? rp(row[key]) : num(row[key]);
}

function table(headers, rows, foot = null) {
  const head = el("tr", {}, ...headers.map(([text, cls]) => el("th", { scope: "col", class: cls || "", text })));
  const t = el("table", { class: "data" }, el("thead", {}, head), el("tbody", {}, ...rows));
  if (foot) t.append(el("tfoot", {}, foot));
  return t;
}

function overviewTable(data) {
  const cols = OVERVIEW.filter(([key]) => key === "use" || data.regencies.some((r) => r[key] !== undefined));
  const rows = data.regencies.map((row) => {
    const tr = el("tr", { "data-regency": row.code },
      el("td", { class: "text", "data-k": "name", text: shortName(row.name) }),
      ...cols.map(([key]) => el("td", { "data-k": key, text: cellText(key, row) })));
    if (row.waitlisted > 0) tr.querySelector('[data-k="waitlisted"]').classList.add("warn");
    if (state.me.province_wide && !regencyProgramme(data)) {
      tr.classList.add("clickable");
      tr.tabIndex = 0;
      tr.setAttribute("aria-label", `Lihat ${row.name}`);
      tr.addEventListener("click", () => selectRegency(row.code));
      tr.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); selectRegency(row.code); } });
    }
    if (row.code === data.scope.regency) tr.classList.add("selected");
    return tr;
  });
  let foot = null;
  if (data.regencies.length > 1) {
    const sum = {};
    for (const [key] of cols) sum[key] = data.regencies.reduce((a, r) => a + (r[key] || 0), 0);
    foot = el("tr", { "data-regency": "total" }, el("td", { class: "text", text: "Jumlah" }),
      ...cols.map(([key]) => el("td", { "data-k": key, text: cellText(key, sum) })));
  }
  return table([["Kabupaten/Kota", "text"], ...cols.map(([, t]) => [t])], rows, foot);
}

function claimsTable(data) {
  const row = (name, m, attrs = {}) => el("tr", attrs, el("td", { class: "text", text: name }),
    el("td", { text: num(m.JKK.claims) }), el("td", { text: rp(m.JKK.amount) }),
    el("td", { text: num(m.JKM.claims) }), el("td", { text: rp(m.JKM.amount) }),
    el("td", { text: num(m.JKK.flagged + m.JKM.flagged) }));
  return table([["Bulan", "text"], ["JKK klaim"], ["JKK nilai"], ["JKM klaim"], ["JKM nilai"], ["Ditandai"]],
    data.claims.by_month.map((m) => row(m.label, m, { "data-month": m.month })),
    row("Jumlah", data.claims.totals, { "data-month": "total" }));
}

// A ranked list [{code, label, count, amount?}] as a table with shares of `whole`.
function reasonTable(items, whole, { title = "Alasan", money = false } = {}) {
  if (!items || !items.length) return el("table", { class: "data" }, el("caption", { class: "empty", text: "Belum ada." }));
  const rows = items.map((r) => el("tr", { "data-code": r.code },
    el("td", { class: "text", text: r.label }), el("td", { text: num(r.count) }),
    ...(money ? [el("td", { text: rp(r.amount || 0) })] : []),
    el("td", { text: pct(r.count, whole) })));
  const sum = items.reduce((a, r) => a + r.count, 0);
  const foot = el("tr", {}, el("td", { class: "text", text: "Jumlah" }), el("td", { text: num(sum) }),
    ...(money ? [el("td", { text: rp(items.reduce((a, r) => a + (r.amount || 0), 0)) })] : []), el("td", { text: "" }));
  return table([[title, "text"], ["Jumlah"], ...(money ? [["Nilai"]] : []), ["Bagian"]], rows, foot);
}

function sectorTable(data) {
  const cols = [["seats", "Kuota"], ["nominated", "Diusulkan"], ["assigned", "Terisi"], ["enrolled", "Terdaftar"],
    ["waitlisted", "Tunggu"], ["committed", "Anggaran terikat"]];
  const cost = data.programme.cost_per_worker;
  return table([["Sektor", "text"], ...cols.map(([, t]) => [t])], data.sectors.map((s) => el("tr", { "data-sector": s.sector },
    el("td", { class: "text", text: s.label }),
    ...cols.map(([k]) => el("td", { text: k === "committed" ? rp(s.assigned * cost) : num(s[k]) })))));
}

function stagesTable(data) {
  const t = data.totals;
  const rows = STAGES.filter(([key]) => typeof t[key] === "number").map(([key, name]) => {
    const of = STAGE_OF[key];
    const share = of && typeof t[of] === "number" ? `${pct(t[key], t[of])} dari ${lowerFirst(stageName(of))}` : "";
    return el("tr", { "data-stage": key }, el("td", { class: "text", text: name }),
      el("td", { "data-k": "count", text: num(t[key]) }), el("td", { class: "text muted", text: share }));
  });
  return table([["Tahap", "text"], ["Jumlah"], ["Bagian", "text"]], rows);
}
function lowerFirst(text) { return text.charAt(0).toLowerCase() + text.slice(1); }
function stageName(key) {
  if (key === "seats") return "Kuota";
  const found = STAGES.find(([k]) => k === key);
  return found ? found[1] : key;
}

const BULAN = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"];
function tanggal(iso) { const [y, m, d] = iso.split("-"); return `${Number(d)} ${BULAN[Number(m) - 1]} ${y}`; }

function decreesTable(data) {
  if (!data.programme.requires_decree) {
    return el("table", { class: "data" }, el("caption", { class: "empty", text: "Program ini tidak mewajibkan SK (tidak wajib SK)." }));
  }
  if (!data.decrees.length) return el("table", { class: "data" }, el("caption", { class: "empty", text: "Belum ada SK yang ditetapkan." }));
  return table([["SK", "text"], ["Tanggal", "text"], ["Pekerja"], ["Ditambah"], ["Dikeluarkan"], ["Nilai"]],
    data.decrees.map((d) => el("tr", { "data-version": d.version },
      el("td", { class: "text", text: `${d.version > 1 ? "Perubahan " + (d.version - 1) : "Penetapan"} · ${d.number}` }),
      el("td", { class: "text", text: tanggal(d.date) }), el("td", { text: num(d.worker_count) }),
      el("td", { text: num(d.added) }), el("td", { text: num(d.removed) }), el("td", { text: rp(d.total_cost) }))));
}

// Premiums billed and paid per month and funder (API "billing"; older answers: paid per month).
function premiumsTable(data) {
  const months = data.billing || data.premiums.map((m) => ({ ...m, paid: m.total, paid_workers: m.workers }));
  if (!months.length) return el("table", { class: "data" }, el("caption", { class: "empty", text: "Belum ada iuran ditagih atau dibayar." }));
  const billed = data.billing !== undefined;
  const rows = months.map((m) => el("tr", { "data-month": m.month, "data-funder": m.funder || "" },
    el("td", { class: "text", text: m.label }),
    ...(billed ? [el("td", { class: "text", text: m.funder_label || m.funder }), el("td", { text: rp(m.billed) })] : []),
    el("td", { text: rp(m.paid) }),
    ...(billed ? [el("td", { class: m.unpaid > 0 ? "warn" : "", text: rp(m.unpaid) })] : []),
    el("td", { text: num(m.paid_workers) })));
  const sum = (k) => months.reduce((a, m) => a + (m[k] || 0), 0);
  const foot = el("tr", {}, el("td", { class: "text", text: "Jumlah" }),
    ...(billed ? [el("td", { text: "" }), el("td", { text: rp(sum("billed")) })] : []),
    el("td", { text: rp(sum("paid")) }), ...(billed ? [el("td", { text: rp(sum("unpaid")) })] : []), el("td", { text: "" }));
  return table([["Bulan", "text"], ...(billed ? [["Penyandang dana", "text"], ["Ditagih"]] : []), ["Dibayar"],
    ...(billed ? [["Belum dibayar"]] : []), ["Pekerja dibayar"]], rows, foot);
}

function decreeLine(data) {
  if (!data.programme.requires_decree) return "Ditetapkan SK: tidak wajib SK. Program ini tidak mewajibkan SK sebelum pendaftaran BPJS.";
  if (!data.decrees.length) return "Belum ada SK yang ditetapkan.";
  const d = data.decrees[data.decrees.length - 1];
  return `SK terakhir: ${d.number} (versi ${d.version}), ${tanggal(d.date)}, ${num(d.worker_count)} pekerja, ${rp(d.total_cost)}`;
}

function renderReasons(data) {
  const t = data.totals;
  const blocks = [];
  const releases = data.releases;
  blocks.push(el("h4", { text: `Kuota dilepas (${num(t.released || 0)})` }),
    el("div", { class: "table-wrap" }, releases ? reasonTable(releases, t.released, { title: "Alasan" })
      : el("p", { class: "hint", text: "Alasan belum tersedia dari API." })));
  if (t.declined !== undefined) blocks.push(el("p", { class: "hint", text: `Daftar tunggu sekarang: ${num(t.waitlisted)} · ditanggung program lain: ${num(t.declined)}` }));
  blocks.push(el("h4", { text: `Gagal daftar BPJS (${num(t.failed)})` }), el("div", { class: "table-wrap" }, reasonTable(data.failures, t.failed)));
  document.getElementById("reasons").replaceChildren(...blocks);
}

function renderIdentities(data) {
  const list = document.getElementById("identities");
  const ids = data.identities || [];
  if (!ids.length) { list.replaceChildren(el("li", { class: "hint", text: "Belum tersedia." })); return; }
  list.replaceChildren(...ids.map((i) => {
    const holds = i.holds !== undefined ? i.holds : i.left === i.right;
    const parts = (i.parts || []).map((p) => `${stageName(p)} ${num(data.totals[p] || 0)}`).join(" + ");
    return el("li", { class: holds ? "holds" : "broken", "data-identity": i.name },
      el("span", { class: "mark", "aria-hidden": "true", text: holds ? "✓" : "✗" }),
      el("span", {}, el("strong", { text: `${stageName(i.whole)} ${num(i.left)}` }),
        ` = ${parts}${holds ? "" : ` = ${num(i.right)}`}`,
        el("span", { class: "sr-only", text: holds ? " (cocok)" : " (tidak cocok)" })));
  }));
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
  const withdrawn = t.withdrawn ? ` · ${num(t.withdrawn)} dibatalkan` : "";
  document.getElementById("kpis").replaceChildren(
    kpi("nominated", "Diusulkan", num(t.nominated), `${num(t.rejected)} ditolak (${pct(t.rejected, t.nominated)})${withdrawn}`),
    kpi("validated", "Lolos verifikasi", num(t.validated), `${pct(t.validated, t.nominated)} dari usulan`),
    kpi("assigned", "Mendapat kuota", num(t.assigned), `dari ${num(t.seats)} kuota (${pct(t.assigned, t.seats)}) · ${num(t.waitlisted)} menunggu`),
    kpi("enrolled", "Terdaftar BPJS", num(t.enrolled), `${num(t.failed)} gagal daftar${t.in_arrears ? ` · ${num(t.in_arrears)} menunggak` : ""}`, "good"),
    kpi("committed", "Anggaran terikat", rp(b.committed), `${pct(b.committed, b.cap)} dari ${rp(b.cap)}`, "money"),
    kpi("paid", "Iuran dibayar", rp(b.paid), `${pct(b.paid, b.cap)} dari ${data.scope.regency ? "alokasi" : "pagu"}`, "money"),
    kpi("claims", "Klaim dibayar BPJS", num(t.claims), `${rp(t.claims_amount)} · ${num(t.claims_flagged)} ditandai`, "claims"),
  );
}

// ---- the map ----------------------------------------------------------------------------------
async function geometry(key) {
  if (!state.maps[key]) {
    state.maps[key] = getJSON(key === "regencies" ? "/api/geo/regencies" : `/api/geo/kecamatan/${encodeURIComponent(key)}`)
      .catch((err) => { delete state.maps[key]; throw err; });
  }
  return state.maps[key];
}

// The chosen figure; on a kecamatan map, seat holders where the figure is only counted per regency.
function figure(kecamatan = false) {
  const f = MAP_FIGURES.find((x) => x.key === state.mapFigure) || MAP_FIGURES[0];
  return kecamatan && f.regencyOnly ? MAP_FIGURES.find((x) => x.key === "assigned") : f;
}

// Five equal classes from 0 to the largest value (shares: 0 to 100%).
function classes(values, share) {
  const top = share ? 1 : Math.max(0, ...values.filter((v) => v !== null));
  if (!(top > 0)) return [];
  return [1, 2, 3, 4, 5].map((i) => (top * i) / 5);
}
function classOf(value, breaks) {
  if (value === null || value === undefined || !breaks.length) return -1;
  const i = breaks.findIndex((b) => value <= b + 1e-12);
  return i < 0 ? breaks.length - 1 : i;
}
function breakText(v, f) {
  if (f.share) return `${Math.round(v * 100)}%`;
  if (f.money) return rpShort(v);
  return f.key === "claims_per_1000" ? decimal(v) : num(v);
}

// The map of the scope: the 33 regencies province-wide, a regency's kecamatan within it. The SVG is
// kept between refreshes (only colours change) so a focused region keeps its focus.
async function renderMap(data) {
  const regency = data.scope.regency;
  const key = regency || "regencies";
  const f = figure(Boolean(regency));
  let geo;
  try {
    geo = await geometry(key);
  } catch (err) {
    mount("map", empty(`Peta tidak dapat dimuat: ${err.message}`));
    return;
  }
  if (state.data !== data) return; // a newer summary has been drawn meanwhile
  const host = document.getElementById("map");
  let root = host.querySelector("svg");
  if (state.mapKey !== key || !root) {
    root = svg("svg", { viewBox: `0 0 ${geo.width} ${geo.height}`, role: "group", "data-level": regency ? "kecamatan" : "regency",
      "aria-label": regency ? `Peta kecamatan ${data.scope.name}` : "Peta 33 kabupaten/kota Sumatera Utara" });
    for (const a of geo.areas) {
      const path = svg("path", { d: a.path, "data-code": a.code, tabindex: 0, role: "button", "fill-rule": "evenodd", class: "area" });
      path.append(svg("title"));
      path.addEventListener("click", () => chooseArea(a.code));
      path.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); chooseArea(a.code); } });
      root.append(path);
    }
    host.replaceChildren(root);
    state.mapKey = key;
    state.kecamatan = null;
    host.classList.toggle("tall", geo.height > geo.width * 1.25);
  }
  // Figures per area: the regency rows province-wide; per kecamatan where the API gives them.
  const rows = regency ? (data.kecamatan || []) : data.regencies;
  const byCode = Object.fromEntries(rows.map((r) => [r.code, r]));
  const values = geo.areas.map((a) => (byCode[a.code] ? f.value(byCode[a.code]) : null));
  const breaks = classes(values, f.share);
  geo.areas.forEach((a, i) => {
    const path = root.querySelector(`path[data-code="${a.code}"]`);
    const row = byCode[a.code];
    const c = classOf(values[i], breaks);
    path.setAttribute("fill", c < 0 ? MAP_NONE : MAP_CLASSES[c]);
    const name = regency ? `Kecamatan ${a.name}` : a.name;
    const text = row ? `${name}: ${f.label} ${f.text(row)}` : `${name}${regency ? "" : ": belum ada data"}`;
    path.setAttribute("aria-label", text);
    path.firstChild.textContent = text;
    path.classList.toggle("chosen", a.code === state.kecamatan);
  });
  renderLegend(f, breaks, regency && !rows.length);
  document.getElementById("map-back").hidden = !(regency && state.me.province_wide && !regencyProgramme(data));
  document.getElementById("map-title").textContent = regency ? `Peta kecamatan · ${data.scope.name}` : "Peta kabupaten/kota";
  document.getElementById("map-hint").textContent = regency
    ? "Pilih kecamatan (klik atau Enter) untuk melihat namanya" + (villageCap(data) ? " dan daftar desanya" : "")
    : "Klik atau tekan Enter pada wilayah untuk melihat kecamatannya";
  renderMapDetail(data, geo);
  document.body.dataset.map = key; // for tests: which map is drawn
}

function renderLegend(f, breaks, noFigures) {
  const box = document.getElementById("map-legend");
  if (noFigures) {
    box.replaceChildren(el("p", { class: "hint", text: "Angka per kecamatan belum tersedia; angka kabupaten/kota ada di kartu lain halaman ini." }));
    return;
  }
  const items = breaks.map((b, i) => {
    const from = i === 0 ? (f.share ? "0%" : "0") : breakText(breaks[i - 1], f);
    return el("li", {}, el("span", { class: "swatch", "data-colour": MAP_CLASSES[i] }), `${from} – ${breakText(b, f)}`);
  });
  items.push(el("li", {}, el("span", { class: "swatch", "data-colour": MAP_NONE }), "tidak ada data"));
  box.replaceChildren(el("p", { class: "legend-title", text: f.label }), el("ul", {}, ...items));
  // Colours set through the CSSOM: the page's CSP allows no inline style attributes.
  box.querySelectorAll(".swatch").forEach((s) => { s.style.background = s.dataset.colour; });
}

function chooseArea(code) {
  const data = state.data;
  if (!data) return;
  if (!data.scope.regency) {
    if (state.me.province_wide) selectRegency(code);
    return;
  }
  state.kecamatan = code;
  document.querySelectorAll("#map path.area").forEach((p) => p.classList.toggle("chosen", p.dataset.code === code));
  geometry(data.scope.regency).then((geo) => renderMapDetail(data, geo));
}

function villageCap(data) { return (data.scope && data.scope.per_village_cap) || data.programme.village_cap || null; }

function renderMapDetail(data, geo) {
  const box = document.getElementById("map-detail");
  if (!data.scope.regency) {
    box.replaceChildren(el("p", { class: "hint", text: `${geo.areas.length} kabupaten/kota. Warna menurut ${lowerFirst(figure().label)}.` }));
    return;
  }
  const area = geo.areas.find((a) => a.code === state.kecamatan);
  if (!area) {
    const unknown = (data.kecamatan || []).find((k) => k.code === UNKNOWN_KECAMATAN);
    const parts = [el("p", { class: "hint", text: `${geo.areas.length} kecamatan di ${data.scope.name}.`
      + (unknown ? ` Kecamatan tidak diketahui: ${num(unknown.nominated)} usulan, ${num(unknown.assigned)} pemegang kuota.` : "") })];
    const cap = villageCap(data);
    if (cap && data.villages) {
      parts.push(el("h4", { text: `Kursi per desa (batas ${num(cap)})` }), el("div", { class: "table-wrap tall" },
        table([["Desa/kelurahan", "text"], ["Terisi"], ["Batas"]], data.villages.map((v) => el("tr", { "data-desa": v.code },
          el("td", { class: "text", text: v.name }), el("td", { class: v.full ? "warn" : "", text: num(v.assigned) }), el("td", { text: num(v.cap) }))))));
    }
    box.replaceChildren(...parts);
    return;
  }
  const villages = (geo.villages || {})[area.code] || [];
  const parts = [el("h4", { text: `Kecamatan ${area.name}` }), el("p", { class: "hint", text: `Kode ${area.code} · ${num(villages.length)} desa/kelurahan` })];
  const row = (data.kecamatan || []).find((k) => k.code === area.code);
  if (row) {
    parts.push(el("p", { class: "kecamatan-figures", text: `Diusulkan ${num(row.nominated)} · lolos ${num(row.validated)} · `
      + `pemegang kuota ${num(row.assigned)} · terdaftar BPJS ${num(row.enrolled)}` }));
  }
  const cap = villageCap(data);
  if (cap) {
    const seated = Object.fromEntries((data.villages || []).map((v) => [v.code, v]));
    parts.push(el("p", { class: "hint", text: `Program ini membatasi ${num(cap)} pekerja per desa: kursi terisi per desa.` }),
      el("div", { class: "table-wrap tall" }, table([["Desa/kelurahan", "text"], ["Terisi"], ["Batas"]],
        villages.map((v) => {
          const held = seated[v.code] ? seated[v.code].assigned : 0;
          return el("tr", { "data-desa": v.code }, el("td", { class: "text", text: `${v.kind === "kelurahan" ? "Kel." : "Desa"} ${v.name}` }),
            el("td", { class: held >= cap ? "warn" : "", text: num(held) }), el("td", { text: num(cap) }));
        }))));
  }
  box.replaceChildren(...parts);
}

// ---- rendering --------------------------------------------------------------------------------
function regencyProgramme(data) {
  const j = data.programme.jurisdiction;
  return j && j !== PROVINCE ? j : null;
}

function render(data, force = false) {
  // The page polls: an unchanged answer redraws nothing (keeps focus and scroll where they are).
  const key = JSON.stringify({ ...data, as_of: null });
  state.data = data;
  if (!force && key === state.drawnKey) { setUpdated(data); return; }
  state.drawnKey = key;
  const p = data.programme;
  document.getElementById("scope-name").textContent = data.scope.name;
  document.getElementById("brand-scope").textContent = regencyProgramme(data) ? data.scope.name : "Provinsi Sumatera Utara";
  document.getElementById("programme-line").textContent =
    `${p.name} · ${p.funder_label} · masa perlindungan ${p.coverage_start} s.d. ${p.coverage_end} · ${rp(p.premium_per_month)} per pekerja per bulan`;
  renderKpis(data);
  renderIdentities(data);
  drawCharts(data);
  replaceTable("table-sectors", sectorTable(data));
  document.getElementById("decree-line").textContent = decreeLine(data);
  replaceTable("table-rejections", reasonTable(data.rejections, data.totals.rejected, { title: "Alasan penolakan" }));
  replaceTable("table-stages", stagesTable(data));
  renderReasons(data);
  replaceTable("table-decrees", decreesTable(data));
  replaceTable("table-premiums", premiumsTable(data));
  replaceTable("table-claims", claimsTable(data));
  const kinds = (data.claims.kinds || []).map((k) => ({ code: `${k.type}:${k.kind}`, label: k.label, count: k.claims, amount: k.amount }));
  replaceTable("table-claim-kinds", reasonTable(kinds, data.totals.claims, { title: "Jenis", money: true }));
  replaceTable("table-claim-flags", reasonTable(data.claims.flags, data.totals.claims, { title: "Tanda" }));
  document.getElementById("overview-title").textContent =
    data.scope.regency ? `Ikhtisar ${data.scope.name}` : `Ikhtisar ${data.regencies.length} kabupaten/kota`;
  replaceTable("table-regencies", overviewTable(data));
  renderMap(data);
  setUpdated(data);
  document.body.dataset.programme = p.code;
  document.body.dataset.regency = data.scope.regency || "";
  document.body.dataset.ready = "1";
}

// Charts depend on their box's width: drawn again when the window changes size.
function drawCharts(data) {
  mount("chart-funnel", funnelChart(data, widthOf("chart-funnel")));
  mount("chart-budget", budgetChart(data, widthOf("chart-budget")));
  mount("chart-sectors", quotaRows(data.sectors.map((s) => ({ ...s, label: s.label })), widthOf("chart-sectors"),
    { rowH: 40, labelW: 110, title: "Kuota per sektor" }));
  mount("chart-rejections", hbars(rejectionItems(data), widthOf("chart-rejections"), { labelW: 250, valueW: 110, title: "Alasan penolakan" }));
  mount("chart-claims", claimsChart(data, widthOf("chart-claims")));
  const regencyCard = document.getElementById("card-regency-chart");
  regencyCard.hidden = !!data.scope.regency;
  if (!data.scope.regency) {
    mount("chart-regencies", quotaRows(data.regencies.filter((r) => r.seats > 0 || r.assigned > 0)
      .map((r) => ({ ...r, label: shortName(r.name) })), widthOf("chart-regencies"),
    { labelW: 190, valueW: 160, rowH: 22, title: "Pemanfaatan kuota per kabupaten/kota" }));
  }
}

function setUpdated(data) {
  const last = data.last_event_at ? ` · peristiwa terakhir diterima ${wib(data.last_event_at)}` : "";
  setStatus(`Diperbarui ${wib(data.as_of)}${last} · otomatis tiap ${state.me.poll_seconds} detik`, "live");
  document.body.dataset.asOf = data.as_of;
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

// The regency the summary is asked for: the chosen one, else a regency programme's own regency.
function scopeRegency() {
  if (state.regency) return state.regency;
  const p = state.programmes.find((x) => x.code === state.programme);
  return p && p.jurisdiction && p.jurisdiction !== PROVINCE ? p.jurisdiction : null;
}

function query() {
  const r = scopeRegency();
  return r ? `?regency=${encodeURIComponent(r)}` : "";
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
  const own = scopeRegency();
  const current = state.programmes.find((x) => x.code === state.programme);
  const regencyOnly = current && current.jurisdiction && current.jurisdiction !== PROVINCE;
  if (state.me.province_wide && !regencyOnly) {
    fillSelect(regencySelect, [["", "Seluruh Sumatera Utara"], ...REGIONS.map(([code, name]) => [code, `${code} ${name}`])], state.regency || "");
    regencySelect.disabled = false;
  } else {
    const code = state.me.province_wide ? own : state.me.regency;
    const name = (REGIONS.find(([c]) => c === code) || [code, state.me.regency_name])[1];
    fillSelect(regencySelect, [[code, `${code} ${name}`]], code);
    regencySelect.disabled = true;
  }
  const base = state.programme ? `/reports/${encodeURIComponent(state.programme)}` : "#";
  document.getElementById("dl-pdf").href = `${base}.pdf${query()}`;
  document.getElementById("dl-xlsx").href = `${base}.xlsx${query()}`;
  writeHash();
}

function fillMapFigures() {
  const select = document.getElementById("map-figure");
  fillSelect(select, MAP_FIGURES.map((f) => [f.key, f.label]), state.mapFigure);
  select.addEventListener("change", (e) => {
    state.mapFigure = e.target.value;
    if (state.data) renderMap(state.data);
  });
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
  const geo = await geometry("regencies");
  REGIONS = geo.areas.map((a) => [a.code, shortName(a.name)]);
  fillMapFigures();
  renderFilters();
  await refresh();
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
  document.getElementById("map-back").addEventListener("click", () => selectRegency(null));
  // The skip link moves focus without touching the hash (the hash names the programme).
  document.querySelector(".skip").addEventListener("click", (e) => {
    e.preventDefault();
    document.getElementById("main").focus();
  });
  // A link to another programme or regency (#programme=...&regency=...) opened on this page.
  window.addEventListener("hashchange", () => {
    const asked = readHash();
    const p = state.programmes.find((x) => x.code === asked.programme);
    if (p) { state.programme = p.code; state.year = p.year; }
    state.regency = state.me.province_wide ? asked.regency : state.me.regency;
    renderFilters();
    refresh();
  });
  let resizing = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => { if (state.data) drawCharts(state.data); }, 120);
  });
  state.timer = setInterval(refresh, state.me.poll_seconds * 1000);
}

start();
