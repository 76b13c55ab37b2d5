// serve_ticks.js PAGE.html — the dashboard's chart code (drawChart and the
// functions it calls, taken from the page) run on a stub DOM: the y-axis
// labels of a chart must be distinct, start at 0 B and reach the data's
// maximum, for all-zero data and for maxima from 1 byte to TiB (issue 9:
// all-zero data drew "1 B, 1 B, 1 B, 0 B").
"use strict";
const fs = require("fs");
const html = fs.readFileSync(process.argv[2], "utf8");
const fn = name => {
  const m = html.match(new RegExp("\\nfunction " + name + "\\([^]*?\\n}\\n"));
  return m ? m[0] : "";
};
if (!fn("drawChart") || !fn("fmtBytes") || !fn("el")) {
  console.error("drawChart, fmtBytes or el not found in the page");
  process.exit(1);
}
function node(tag) {
  return {tag, attrs: {}, children: [], dataset: {}, textContent: "",
          setAttribute(k, v) { this.attrs[k] = v; },
          appendChild(c) { this.children.push(c); return c; },
          removeChild(c) { this.children.splice(this.children.indexOf(c), 1); },
          get firstChild() { return this.children[0] || null; }};
}
const document = {createElementNS: (ns, t) => node(t), createElement: t => node(t)};
const COLORS = ["#000"], SVGNS = "svg";
const drawChart = new Function("document", "COLORS", "SVGNS",
  fn("fmtBytes") + fn("yAxis") + fn("el") + fn("drawChart") + "return drawChart;")(document, COLORS, SVGNS);
const parse = s => {
  const m = s.match(/^([0-9.]+) (B|KiB|MiB|GiB|TiB)$/);
  if (!m) throw new Error("bad label " + s);
  return Number(m[1]) * 1024 ** ["B", "KiB", "MiB", "GiB", "TiB"].indexOf(m[2]);
};
let bad = 0;
for (const max of [0, 1, 2, 3, 5, 7, 10, 100, 999, 1023, 1024, 1030, 1500, 5000, 65536,
                   1e6, 3e9, 5e12]) {
  const svg = node("svg"), legend = node("div");
  drawChart(svg, legend, [0, 1000, 2000], [{name: "a", values: [0, max / 2, max]},
                                          {name: "b", values: [0, 0, 0]}]);
  const labels = svg.children.filter(c => c.tag === "text" && c.attrs["text-anchor"] === "end" &&
                                        / B$|iB$/.test(c.textContent)).map(c => c.textContent);
  const vals = labels.map(parse);
  const ok = labels.length >= 2 && new Set(labels).size === labels.length && vals[0] === 0 &&
             Math.max(...vals) >= max * 0.99 && labels.length <= 8;
  console.log((ok ? "ok   " : "BAD  ") + "max " + max + ": " + labels.join(", "));
  if (!ok) bad++;
}
process.exit(bad ? 1 : 0);
