// Live view page: listens to the server's event stream (/events) and draws what arrives.
// Plain DOM/SVG, no libraries, nothing fetched from anywhere but this server.
"use strict";

(() => {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const TRACE_POINTS = 48;       // windows in the fading trail
  const TIMELINE_S = 60;         // seconds shown in the timeline
  const LOG_LINES = 40;
  // Circumplex plot area in SVG units; ratings 1..5 map onto it.
  const X0 = 70, X1 = 530, Y0 = 30, Y1 = 490;
  const UNIT = (X1 - X0) / 4;    // SVG units per rating point

  const $ = (id) => document.getElementById(id);
  const svgEl = (tag, attrs, parent) => {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (parent) parent.appendChild(el);
    return el;
  };
  const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));
  const xOf = (valence) => X0 + (clamp(valence, 1, 5) - 1) * UNIT;
  const yOf = (arousal) => Y1 - (clamp(arousal, 1, 5) - 1) * UNIT;
  const finite = (x) => typeof x === "number" && Number.isFinite(x);
  const qualityClass = (q) => (!finite(q) ? "na" : q >= 0.8 ? "good" : q >= 0.5 ? "warn" : "bad");
  const qualityColor = { good: "var(--good)", warn: "var(--warn)", bad: "var(--bad)", na: "var(--muted)" };

  const view = {
    count: 0,            // predictions received (snapshot included)
    trace: [],           // recent finite points {v, a}
    timeline: [],        // {t, v, a} within the last TIMELINE_S of LSL time
    ageBase: null,       // age (s) of the last update when ageAt was taken
    ageAt: 0,            // performance.now() at that moment
    state: "searching",
    names: null,
    qualityLabels: "",
  };

  function drawGrid() {
    const g = $("grid");
    const mid = xOf(3), midY = yOf(3);
    svgEl("rect", { class: "quad q-lvha", x: X0, y: Y0, width: mid - X0, height: midY - Y0 }, g);
    svgEl("rect", { class: "quad q-hvha", x: mid, y: Y0, width: X1 - mid, height: midY - Y0 }, g);
    svgEl("rect", { class: "quad q-lvla", x: X0, y: midY, width: mid - X0, height: Y1 - midY }, g);
    svgEl("rect", { class: "quad q-hvla", x: mid, y: midY, width: X1 - mid, height: Y1 - midY }, g);
    for (let r = 1.5; r < 5; r += 0.5) {
      const cls = r === 3 ? "midline" : "gridline";
      svgEl("line", { class: cls, x1: xOf(r), x2: xOf(r), y1: Y0, y2: Y1, "stroke-opacity": Number.isInteger(r) ? 1 : 0.45 }, g);
      svgEl("line", { class: cls, x1: X0, x2: X1, y1: yOf(r), y2: yOf(r), "stroke-opacity": Number.isInteger(r) ? 1 : 0.45 }, g);
    }
    svgEl("rect", { class: "frame", x: X0, y: Y0, width: X1 - X0, height: Y1 - Y0, rx: 6 }, g);
    for (let r = 1; r <= 5; r++) {
      svgEl("text", { class: "tick", x: xOf(r), y: Y1 + 20, "text-anchor": "middle" }, g).textContent = r;
      svgEl("text", { class: "tick", x: X0 - 12, y: yOf(r) + 4, "text-anchor": "end" }, g).textContent = r;
    }
    svgEl("text", { class: "axis-title", x: (X0 + X1) / 2, y: Y1 + 48, "text-anchor": "middle" }, g).textContent = "valence →";
    svgEl("text", { class: "axis-title", x: 22, y: (Y0 + Y1) / 2, "text-anchor": "middle",
      transform: `rotate(-90 22 ${(Y0 + Y1) / 2})` }, g).textContent = "arousal →";
    const labels = [
      [X0 + 14, Y0 + 26, "start", "tense · angry", "LV · HA"],
      [X1 - 14, Y0 + 26, "end", "excited · happy", "HV · HA"],
      [X0 + 14, Y1 - 30, "start", "sad · bored", "LV · LA"],
      [X1 - 14, Y1 - 30, "end", "calm · relaxed", "HV · LA"],
    ];
    for (const [x, y, anchor, text, code] of labels) {
      svgEl("text", { class: "quad-label", x, y, "text-anchor": anchor }, g).textContent = text;
      svgEl("text", { class: "quad-code", x, y: y + 17, "text-anchor": anchor }, g).textContent = code;
    }
    $("affect-point").classList.add("empty");
  }

  function drawTimelineGrid() {
    const g = $("timeline-grid");
    for (let r = 1; r <= 5; r++) {
      const y = 160 - ((r - 1) / 4) * 160;
      svgEl("line", { class: "gridline", x1: 0, x2: 1000, y1: y, y2: y, "stroke-opacity": r === 3 ? 1 : 0.55 }, g);
    }
    for (let s = 0; s <= TIMELINE_S; s += 10) {
      const x = (s / TIMELINE_S) * 1000;
      svgEl("line", { class: "gridline", x1: x, x2: x, y1: 0, y2: 160, "stroke-opacity": 0.35 }, g);
    }
  }

  function quadrantName(v, a) {
    if (Math.abs(v - 3) < 0.25 && Math.abs(a - 3) < 0.25) return "neutral";
    if (a >= 3) return v >= 3 ? "excited · happy" : "tense · angry";
    return v >= 3 ? "calm · relaxed" : "sad · bored";
  }

  function fmt(x, digits) { return finite(x) ? x.toFixed(digits) : "—"; }

  function setMeter(id, value) {
    $(id).style.width = finite(value) ? `${clamp(value, 0, 1) * 100}%` : "0%";
  }

  // Record one prediction; drawing happens once per batch in render().
  function addAffect(p) {
    view.count += 1;
    view.last = p;
    view.ageBase = 0;
    view.ageAt = performance.now();
    if (finite(p.valence) && finite(p.arousal)) {
      view.trace.push({ v: p.valence, a: p.arousal });
      if (view.trace.length > TRACE_POINTS) view.trace.shift();
      view.timeline.push({ t: p.t, v: p.valence, a: p.arousal });
    }
    const horizon = p.t - TIMELINE_S;
    while (view.timeline.length && view.timeline[0].t < horizon) view.timeline.shift();
  }

  function render() {
    const svg = $("circumplex");
    svg.dataset.count = String(view.count);
    $("status-count").textContent = String(view.count);
    const p = view.last;
    if (!p) return;

    const trace = $("trace");
    trace.replaceChildren();
    const n = view.trace.length;
    for (let i = 1; i < n; i++) {
      const age = (n - 1 - i) / TRACE_POINTS;           // 0 for the newest segment
      const a = view.trace[i - 1], b = view.trace[i];
      svgEl("line", { class: "trace-seg", x1: xOf(a.v), y1: yOf(a.a), x2: xOf(b.v), y2: yOf(b.a),
        "stroke-opacity": (0.85 * (1 - age) ** 2).toFixed(3), "stroke-width": (1 + 3 * (1 - age)).toFixed(2) }, trace);
    }
    for (let i = 0; i < n - 1; i++) {
      const age = (n - 1 - i) / TRACE_POINTS;
      svgEl("circle", { class: "trace-dot", cx: xOf(view.trace[i].v), cy: yOf(view.trace[i].a), r: 2.2,
        "fill-opacity": (0.7 * (1 - age) ** 2).toFixed(3) }, trace);
    }

    const point = $("affect-point"), halo = $("affect-halo");
    if (n) {
      const cur = view.trace[n - 1];
      const cx = xOf(cur.v).toFixed(2), cy = yOf(cur.a).toFixed(2);
      point.classList.remove("empty");
      point.setAttribute("cx", cx);
      point.setAttribute("cy", cy);
      point.dataset.valence = String(cur.v);
      point.dataset.arousal = String(cur.a);
      point.style.fill = qualityColor[qualityClass(p.quality)];
      halo.setAttribute("cx", cx);
      halo.setAttribute("cy", cy);
      const vc = finite(p.valence_confidence) ? clamp(p.valence_confidence, 0, 1) : 0;
      const ac = finite(p.arousal_confidence) ? clamp(p.arousal_confidence, 0, 1) : 0;
      halo.setAttribute("rx", Math.max(12, (1 - vc) * UNIT).toFixed(1));
      halo.setAttribute("ry", Math.max(12, (1 - ac) * UNIT).toFixed(1));
    }

    const hasEstimate = finite(p.valence) && finite(p.arousal);
    $("valence-value").textContent = fmt(p.valence, 2);
    $("arousal-value").textContent = fmt(p.arousal, 2);
    $("quadrant").textContent = hasEstimate ? quadrantName(p.valence, p.arousal) : "no estimate for this window";
    $("valence-confidence-text").textContent = `confidence ${fmt(p.valence_confidence, 2)}`;
    $("arousal-confidence-text").textContent = `confidence ${fmt(p.arousal_confidence, 2)}`;
    $("window-quality-value").textContent = fmt(p.quality, 2);
    setMeter("valence-confidence", p.valence_confidence);
    setMeter("arousal-confidence", p.arousal_confidence);
    setMeter("window-quality", p.quality);
    $("window-quality").style.background = qualityColor[qualityClass(p.quality)];
    $("status-latency").textContent = finite(p.latency_s) ? `${Math.round(p.latency_s * 1000)} ms` : "—";

    const tNow = p.t;
    const toPoints = (key) => view.timeline
      .map((q) => `${(1000 * (1 - (tNow - q.t) / TIMELINE_S)).toFixed(1)},${(160 - ((clamp(q[key], 1, 5) - 1) / 4) * 160).toFixed(1)}`)
      .join(" ");
    $("timeline-valence").setAttribute("points", toPoints("v"));
    $("timeline-arousal").setAttribute("points", toPoints("a"));
  }

  function setStatus(s) {
    if (!s) return;
    view.state = s.state;
    view.names = s.names;
    document.body.dataset.state = s.state;
    $("status").dataset.state = s.state;
    $("status-state").textContent = s.state;
    $("status-message").textContent = s.message || "";
    view.ageBase = finite(s.age_s) ? s.age_s : null;
    view.ageAt = performance.now();
    $("status-rate").textContent = finite(s.rate_hz) ? `${s.rate_hz.toFixed(1)} /s` : "—";
    if (finite(s.latency_s)) $("status-latency").textContent = `${Math.round(s.latency_s * 1000)} ms`;
    const st = s.stream;
    $("status-stream").textContent = st ? `${st.name} · ${st.hostname}${st.source_id ? " · " + st.source_id : ""}` : (s.names ? s.names.affect : "—");
    if (!$("quality-bars").childElementCount && s.names) {
      $("quality-missing").textContent = `No per-channel quality stream (${s.names.quality}); the window quality is shown above.`;
    }
    tickAge();
  }

  function setQuality(q) {
    const bars = $("quality-bars");
    if (!q) return;
    $("quality-missing").hidden = true;
    const key = q.labels.join("\u0000");
    if (key !== view.qualityLabels) {
      view.qualityLabels = key;
      bars.replaceChildren();
      for (const label of q.labels) {
        const row = document.createElement("div");
        row.className = "qrow na";
        row.dataset.channel = label;
        row.innerHTML = '<span class="qlabel"></span><div class="qbar"><div class="qfill"></div></div><span class="qval"></span>';
        row.querySelector(".qlabel").textContent = label;
        bars.appendChild(row);
      }
    }
    q.values.forEach((value, i) => {
      const row = bars.children[i];
      row.className = `qrow ${qualityClass(value)}`;
      row.dataset.quality = finite(value) ? String(value) : "";
      row.querySelector(".qfill").style.width = finite(value) ? `${clamp(value, 0, 1) * 100}%` : "100%";
      row.querySelector(".qval").textContent = fmt(value, 2);
    });
    bars.classList.toggle("stale", Boolean(q.stale));
    $("quality-note").textContent = q.stale ? "stale: no update" : `${q.labels.length} channels`;
  }

  function addLog(entry) {
    const li = document.createElement("li");
    li.className = entry.level;
    const time = new Date(entry.wall * 1000);
    li.innerHTML = '<span class="time"></span><span class="source"></span><span class="text"></span>';
    li.querySelector(".time").textContent = time.toLocaleTimeString([], { hour12: false });
    li.querySelector(".source").textContent = entry.source;
    li.querySelector(".text").textContent = entry.text;
    if (entry.marker) li.title = entry.marker; // the structured form, on hover
    const log = $("log");
    log.prepend(li);
    while (log.childElementCount > LOG_LINES) log.lastElementChild.remove();
  }

  function tickAge() {
    const el = $("status-age");
    if (view.ageBase === null) { el.textContent = "—"; return; }
    const age = view.ageBase + (performance.now() - view.ageAt) / 1000;
    el.textContent = age < 10 ? `${age.toFixed(1)} s ago` : `${Math.round(age)} s ago`;
  }

  function setLink(state, text) {
    document.body.dataset.link = state;
    $("link").textContent = text;
  }

  drawGrid();
  drawTimelineGrid();

  const events = new EventSource("/events");
  events.addEventListener("open", () => setLink("online", "server online"));
  events.addEventListener("error", () => setLink("offline", "server offline · retrying"));
  events.addEventListener("snapshot", (e) => {
    const s = JSON.parse(e.data);
    Object.assign(view, { count: 0, trace: [], timeline: [], last: undefined });
    $("log").replaceChildren();
    for (const p of s.trace) addAffect(p);
    render();
    setStatus(s.status);
    setQuality(s.quality);
    for (const entry of s.log) addLog(entry);
  });
  events.addEventListener("affect", (e) => { addAffect(JSON.parse(e.data)); render(); });
  events.addEventListener("status", (e) => setStatus(JSON.parse(e.data)));
  events.addEventListener("quality", (e) => setQuality(JSON.parse(e.data)));
  events.addEventListener("log", (e) => addLog(JSON.parse(e.data)));
  setInterval(tickAge, 250);
})();
