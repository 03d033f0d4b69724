// The Explorer's network graph: one plotly chart kept across reruns. Each rerun sends the
// figure as JSON (data.figure); Plotly.react diffs it into the chart that is already there,
// instead of the remount and fresh plot that st.plotly_chart does whenever its figure
// changes. A click on a neuron goes to Python as the trigger "pick": [layer, unit].
//
// Only changed traces travel: data.ids[i] is the digest of trace i, and a trace the figure
// before had is null in data.figure. It is taken from HELD, the last drawn figure's traces by
// digest (kept on the window, so a page switch and back keeps them): the same object, which
// Plotly.react sees unchanged. A trace is held with its arrays decoded, once, from plotly's
// typed-array specs ({dtype, bdata, shape}): Plotly.react compares arrays by identity, and a
// spec it decodes itself is a new array on every call, so every react recalculated and redrew
// every trace, even one with nothing changed (bench/RESULTS.md). A digest not held (a message lost) sends the trigger "resync",
// and Python sends the whole figure on the next run.
//
// The same script draws other charts of the page that should not be re-plotted on every rerun
// (the class kept-chart); only the network graph (data.keys) binds the keys. A click on a
// trace with meta.pick (the Convolution page's maps) sends "pick" too: that list and the
// point's index.
//
// The network graph also binds the Explorer's keys (a presentation clicker sends PageDown and
// PageUp): Right or PageDown = Next phase, Left or PageUp = Back, Space = Play/Pause, Enter =
// Complete step, ? = the list of keys. They click the page's own buttons by their label, and
// do nothing while a text or number field has focus.
//
// The neurons' colour bar is drawn as HTML under the chart, not by plotly: plotly lays out and
// redraws a colour bar on every react, whatever changed (a fifth of a react on 784-16-16-10,
// bench/RESULTS.md). The trace keeps its colorbar settings (title, fonts, thickness), read here.
//
// With data.fit (presenter mode) the chart takes the window's height below its own top, within
// [fit.min, fit.max], and again whenever the window is resized.
const KEYS = {
  ArrowRight: "Next phase",
  PageDown: "Next phase",
  ArrowLeft: "Back",
  PageUp: "Back",
  Enter: "Complete step",
  " ": "Play",
};
const HELP = [
  ["→ or Page Down", "Next phase"],
  ["← or Page Up", "Back"],
  ["Space", "Play / Pause"],
  ["Enter", "Complete step"],
  ["?", "show or hide these keys"],
];

const HELD = (window.__explorerGraphTraces ??= new Map()); // chart key -> digest -> trace
const TYPED = {
  i1: Int8Array,
  u1: Uint8Array,
  i2: Int16Array,
  u2: Uint16Array,
  i4: Int32Array,
  u4: Uint32Array,
  f4: Float32Array,
  f8: Float64Array,
};

const BARRED = new WeakSet(); // decoded traces whose colour bar this script draws

// A trace as it arrived, decoded; with ``drawsBars`` (the network graph) a colour bar it shows
// becomes this script's to draw.
function received(trace, drawsBars) {
  const own = decoded(trace);
  if (drawsBars && own.marker?.showscale && own.marker.colorbar) {
    own.marker.showscale = false;
    BARRED.add(own);
  }
  return own;
}

// ``value`` with every typed-array spec in it as the typed array (a 2-D one as its rows).
function decoded(value) {
  if (Array.isArray(value)) return value.map(decoded);
  if (value === null || typeof value !== "object") return value;
  if (typeof value.bdata === "string" && value.dtype in TYPED) {
    const bytes = Uint8Array.from(atob(value.bdata), (c) => c.charCodeAt(0));
    const flat = new TYPED[value.dtype](bytes.buffer);
    if (!value.shape) return flat;
    const [rows, cols, more] = String(value.shape).split(",").map(Number);
    if (more !== undefined) return value; // plotly's own decoding, for a shape not sent here
    return Array.from({ length: rows }, (_, r) => flat.subarray(r * cols, (r + 1) * cols));
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decoded(v)]));
}

// The figure's traces with the nulls filled in from what this chart drew last; null if one
// is not held.
function filledTraces(key, figure, ids, drawsBars) {
  const held = HELD.get(key) ?? new Map();
  const traces = figure.data.map((trace, i) =>
    trace === null ? held.get(ids[i]) : received(trace, drawsBars),
  );
  if (traces.some((trace) => trace === undefined)) return null;
  HELD.set(key, new Map(ids.map((id, i) => [id, traces[i]])));
  return traces;
}

// What a click on ``points`` picks: a neuron's [layer, unit] (its customdata), or for a trace
// with meta.pick (a heatmap's cell, a marker) that list followed by the point's index ([y, x]
// in a heatmap); null for anything else.
function picked(points) {
  for (const p of points) {
    if (p.data.name === "neurons") return [...p.customdata].map(Number);
    const pick = p.data.meta?.pick;
    if (Array.isArray(pick)) return [...pick, ...[p.pointNumber].flat()].map(Number);
  }
  return null;
}

function tick(v) {
  if (v === 0) return "0";
  const far = Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4;
  return far ? v.toExponential(1) : String(Number(v.toPrecision(2)));
}

// Into ``bar``, the colour bar of the trace in ``traces`` whose bar is ours (hidden if none).
function drawColourBar(bar, traces) {
  const trace = traces.find((t) => BARRED.has(t));
  bar.hidden = !trace;
  if (!trace) return;
  const { colorscale, cmin, cmax, colorbar } = trace.marker;
  const title = document.createElement("div");
  title.className = "cb-title cb-text";
  title.style.fontSize = `${colorbar.title?.font?.size ?? 12}px`;
  for (const line of String(colorbar.title?.text ?? "").split("<br>")) {
    title.appendChild(document.createElement("div")).textContent = line;
  }
  const ramp = document.createElement("div");
  ramp.className = "cb-ramp";
  ramp.style.height = `${colorbar.thickness ?? 10}px`;
  const stops = colorscale.map(([at, colour]) => `${colour} ${at * 100}%`).join(", ");
  ramp.style.background = `linear-gradient(to right, ${stops})`;
  const ticks = document.createElement("div");
  ticks.className = "cb-ticks";
  ticks.style.fontSize = `${colorbar.tickfont?.size ?? 11}px`;
  for (const v of [cmin, (cmin + cmax) / 2, cmax]) {
    const label = ticks.appendChild(document.createElement("span"));
    label.className = "cb-text";
    label.textContent = tick(v);
  }
  bar.replaceChildren(title, ramp, ticks);
}

function loadPlotly(src) {
  window.__explorerPlotly ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`plotly.js did not load from ${src}`));
    document.head.appendChild(script);
  });
  return window.__explorerPlotly;
}

function typing(target) {
  const tag = target?.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT" || target?.isContentEditable) return true;
  return tag === "INPUT" && !["checkbox", "radio", "button", "range"].includes(target.type);
}

function press(label) {
  if (label === "Play") {
    // The switch's own input: its label ignores a scripted click (react-aria's press events).
    document.querySelector('input[role="switch"][aria-label="Play"]')?.click();
    return;
  }
  const button = [...document.querySelectorAll("button")].find(
    (b) => b.innerText.trim().endsWith(label) && !b.disabled,
  );
  button?.click();
}

function toggleHelp() {
  let help = document.getElementById("explorer-keys");
  if (help) {
    help.remove();
    return;
  }
  help = document.createElement("div");
  help.id = "explorer-keys";
  help.setAttribute("role", "dialog");
  help.setAttribute("aria-label", "Keyboard shortcuts");
  help.innerHTML =
    "<b>Keys</b><table>" +
    HELP.map(([k, what]) => `<tr><td>${k}</td><td>${what}</td></tr>`).join("") +
    "</table><small>Esc or ? closes. Keys do nothing while a text field has focus.</small>";
  document.body.appendChild(help);
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  if (event.key === "?") {
    toggleHelp();
  } else if (event.key === "Escape") {
    document.getElementById("explorer-keys")?.remove();
    return;
  } else if (event.key in KEYS) {
    if (!event.repeat) press(KEYS[event.key]);
  } else {
    return;
  }
  // Space and Enter would also press whatever button has focus, and Space scroll the page.
  event.preventDefault();
}

function fittedHeight(chart, fit) {
  const top = chart.getBoundingClientRect().top + window.scrollY;
  const room = window.innerHeight - top - fit.below;
  return Math.round(Math.min(fit.max, Math.max(fit.min, room)));
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const chart = parentElement.querySelector("[data-chart]");
  const figure = JSON.parse(data.figure);
  const bar = parentElement.querySelector("[data-colorbar]");
  const traces = filledTraces(data.chart, figure, data.ids, Boolean(bar));
  const listening = new AbortController();
  if (data.keys) document.addEventListener("keydown", onKey, { signal: listening.signal });
  if (traces === null) {
    setTriggerValue("resync", true);
    return () => listening.abort();
  }
  // The same traces and layout as this chart drew last: nothing to do.
  const drawn = `${data.ids.join(",")} ${JSON.stringify(figure.layout)}`;
  if (chart.drawn === drawn && !data.fit) return () => listening.abort();
  chart.drawn = drawn;
  loadPlotly(data.plotly).then(() => {
    if (data.fit) figure.layout.height = fittedHeight(chart, data.fit);
    window.Plotly.react(chart, traces, figure.layout, {
      displayModeBar: false,
      responsive: true,
    });
    if (bar) drawColourBar(bar, traces);
    if (!chart.picking) {
      chart.picking = true;
      chart.on("plotly_click", (event) => {
        const pick = picked(event.points);
        if (pick) setTriggerValue("pick", pick);
      });
    }
    if (data.fit) {
      const refit = () => window.Plotly.relayout(chart, { height: fittedHeight(chart, data.fit) });
      window.addEventListener("resize", refit, { signal: listening.signal });
    }
  });
  return () => listening.abort();
}
