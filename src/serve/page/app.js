"use strict";
// The page of `kapok serve`: the ranking of the state in the URL, drawn at once from the
// embedded JSON, then re-scored by the server on every change of a weight, method or period.
// DOM contract (relied on by the browser tests): body[data-state="loading|ready|error"],
// body[data-query], #ranking .unit[data-unit][data-rank][data-score],
// input[type=range|number][data-node], select#normalize/#aggregate/#period, #lang, #reset,
// #export, .interval, .reach.
(function () {
  // Every text of the page, in both languages.
  const TEXT = {
    zh: {
      skip: "跳到排名",
      subtitle: "{fw} · 调整权重，排名即时更新",
      period: "时期",
      lang: "English",
      langTitle: "Switch to English",
      weights: "权重",
      weightsHint: "拖动滑块或输入数值。权重是同一层级之间的相对值，百分比为在上一级中的占比。",
      expand: "展开 {name} 的指标权重",
      collapse: "收起 {name} 的指标权重",
      weightOf: "{name} 的权重",
      official: "官方 {w}",
      methods: "方法",
      normalize: "标准化",
      aggregate: "汇总",
      frameworks: "框架设定：",
      reset: "恢复官方设置",
      resetTitle: "恢复框架的官方权重、标准化与汇总方法",
      copyLink: "复制链接",
      copied: "已复制",
      copyFailed: "无法复制，请手动选择文本",
      shareHint: "网址就是当前的设置：刷新或分享链接，看到的是同一个排名。",
      exportH: "导出",
      command: "命令",
      options: "命令行选项",
      toml: "TOML 片段（追加到框架文件）",
      copy: "复制",
      csv: "下载 CSV",
      xlsx: "下载 XLSX",
      ranking: "排名",
      colRank: "名次",
      colChange: "变化",
      colUnit: "单位",
      colScore: "得分",
      colScoreFrom: "得分（条形从 {lo} 起）",
      colInterval: "名次区间",
      colReach: "可达范围",
      up: "比官方设置上升 {n} 位",
      down: "比官方设置下降 {n} 位",
      same: "与官方设置名次相同",
      noRank: "没有名次",
      screened: "已筛除",
      missing: "缺少数据",
      loading: "计算中…",
      computing: "计算中…",
      units: "{n} 个单位",
      intervalTitle: "官方权重下的不确定性分析（{runs} 次）：中位名次 {median}，5%–95% 区间 {q5}–{q95}，最好 {best}，最差 {worst}",
      intervalNone: "无区间",
      intervalFailed: "名次区间无法计算：{msg}",
      reachAsk: "{name} 的名次最多能移动多远？",
      reachShow: "{best}–{worst}",
      reachTitle: "在声明的权重范围内，{name} 最好第 {best} 名，最差第 {worst} 名",
      reachNote: "“可达范围”：在框架声明的权重范围（{ranges}）内搜索了 {n} 组权重（{corners} 个角点和 {points} 个 Sobol 点），采用当前的标准化与汇总方法，得到每个单位的最好与最差名次。",
      reachFailed: "无法计算可达范围：{msg}",
      methodsNow: "{normalize} · {aggregate}",
      badNumber: "请输入 0 到 {max} 之间的数",
      netError: "服务器没有回应：{msg}",
      badUrl: "网址中的设置有误，显示的是官方排名：",
      badUrlDropped: "网址中有一项设置有误，已略去；显示的是其余设置的排名：",
    },
    en: {
      skip: "Skip to the ranking",
      subtitle: "{fw} · move a weight, the ranking follows",
      period: "Period",
      lang: "中文",
      langTitle: "切换到中文",
      weights: "Weights",
      weightsHint: "Drag a slider or type a number. Weights are relative among siblings; the percentage is the share within the parent.",
      expand: "Show the indicator weights of {name}",
      collapse: "Hide the indicator weights of {name}",
      weightOf: "Weight of {name}",
      official: "official {w}",
      methods: "Methods",
      normalize: "Normalisation",
      aggregate: "Aggregation",
      frameworks: "framework's: ",
      reset: "Reset to official",
      resetTitle: "Back to the framework's official weights, normalisation and aggregation",
      copyLink: "Copy link",
      copied: "Copied",
      copyFailed: "Could not copy; select the text instead",
      shareHint: "The address holds these settings: a reload or a shared link shows the same ranking.",
      exportH: "Export",
      command: "Command",
      options: "Command-line options",
      toml: "TOML fragment (append to the framework)",
      copy: "Copy",
      csv: "Download CSV",
      xlsx: "Download XLSX",
      ranking: "Ranking",
      colRank: "Rank",
      colChange: "Change",
      colUnit: "Unit",
      colScore: "Score",
      colScoreFrom: "Score (bars from {lo})",
      colInterval: "Rank interval",
      colReach: "Reach",
      up: "{n} places higher than with the official settings",
      down: "{n} places lower than with the official settings",
      same: "same rank as with the official settings",
      noRank: "no rank",
      screened: "screened out",
      missing: "missing data",
      loading: "computing…",
      computing: "computing…",
      units: "{n} units",
      intervalTitle: "Uncertainty analysis of the official weights ({runs} runs): median rank {median}, 5%–95% {q5}–{q95}, best {best}, worst {worst}",
      intervalNone: "no interval",
      intervalFailed: "Rank intervals could not be computed: {msg}",
      reachAsk: "How far can {name} move?",
      reachShow: "{best}–{worst}",
      reachTitle: "Within the declared weight ranges, {name} ranks at best {best} and at worst {worst}",
      reachNote: "Reach: {n} weightings searched ({corners} corners and {points} Sobol points) within the framework's declared weight ranges ({ranges}), with the current normalisation and aggregation; each unit's best and worst rank.",
      reachFailed: "The reach could not be computed: {msg}",
      methodsNow: "{normalize} · {aggregate}",
      badNumber: "Type a number from 0 to {max}",
      netError: "No answer from the server: {msg}",
      badUrl: "The address's settings are wrong; the official ranking is shown: ",
      badUrlDropped: "A setting of the address was wrong and is left out; the ranking of the others is shown: ",
    },
  };

  const init = JSON.parse(document.getElementById("kapok-init").textContent);
  const meta = init.meta;
  const LANG = meta.lang === "en" ? "en" : "zh";
  const T = TEXT[LANG];
  const fmt = (s, v) => s.replace(/\{(\w+)\}/g, (_, k) => (k in v ? String(v[k]) : ""));
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  };
  const body = document.body;
  const hasPeriods = !(meta.periods.length === 1 && meta.periods[0] === "");
  const uncertain = meta.uncertainty != null;
  const reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  // The framework's tree.
  const nodes = meta.nodes;
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const kids = new Map(nodes.map((n) => [n.id, []]));
  for (const n of nodes) if (n.parent != null) kids.get(n.parent).push(n);
  const indexId = nodes[0].id;

  // The state the URL describes: null = the framework's own.
  const state = { period: null, normalize: null, aggregate: null, weights: new Map() };
  let score = init.score;

  /** Rounds a weight as the page writes it (6 decimals). */
  const roundW = (w) => Math.round(w * 1e6) / 1e6;
  const officialW = (id) => byId.get(id).weight;
  const weightOf = (id) => (state.weights.has(id) ? state.weights.get(id) : officialW(id));

  function readUrl() {
    const p = new URLSearchParams(location.search);
    for (const [k, v] of p) {
      if (k === "period") state.period = v;
      else if (k === "normalize") state.normalize = v;
      else if (k === "aggregate") state.aggregate = v;
      else if (k.startsWith("w.")) {
        const id = k.slice(2);
        const w = Number(v);
        if (byId.has(id) && id !== indexId && v.trim() !== "" && Number.isFinite(w) && w >= 0) {
          state.weights.set(id, w);
        }
      }
    }
  }

  /** The query string of the state, in the server's canonical order. */
  function queryString() {
    const p = new URLSearchParams();
    if (state.period != null) p.append("period", state.period);
    if (state.normalize != null) p.append("normalize", state.normalize);
    if (state.aggregate != null) p.append("aggregate", state.aggregate);
    for (const n of nodes) {
      if (state.weights.has(n.id)) p.append("w." + n.id, String(roundW(state.weights.get(n.id))));
    }
    if (LANG === "en") p.append("lang", "en");
    return p.toString();
  }

  /** The same query in the other language (for the #lang link). */
  function otherLangQuery(q) {
    const p = new URLSearchParams(q);
    p.delete("lang");
    if (LANG === "zh") p.append("lang", "en");
    return p.toString();
  }

  const withoutLang = (q) => {
    const p = new URLSearchParams(q);
    p.delete("lang");
    return p.toString();
  };

  /** A method's text made short for a select: `{ method = "zscore", mean = 50 }` → `zscore, mean = 50`. */
  function methodLabel(m) {
    const t = m.trim();
    if (!t.startsWith("{")) return t;
    return t
      .replace(/^\{\s*|\s*\}$/g, "")
      .replace(/\bmethod\s*=\s*/, "")
      .replace(/"/g, "");
  }

  const numText = (w) => {
    const r = roundW(w);
    return String(r);
  };

  // ---------- errors ----------
  function clearErrors() {
    for (const e of document.querySelectorAll(".err")) {
      e.hidden = true;
      e.textContent = "";
    }
    for (const e of document.querySelectorAll("[aria-invalid]")) e.removeAttribute("aria-invalid");
    $("banner").hidden = true;
    $("banner").textContent = "";
  }

  /** Shows an API error next to the control its `param` names (or on top of the page). */
  function showError(err, prefix) {
    const param = err && err.param;
    const msg = (prefix || "") + ((err && err.error) || String(err));
    let slot = null;
    let control = null;
    if (param && param.startsWith("w.") && byId.has(param.slice(2))) {
      const id = param.slice(2);
      openTo(id);
      const row = rowOf.get(id);
      slot = row.querySelector(":scope > .err");
      control = row.querySelector("input[type=number]");
    } else if (param === "period" || param === "normalize" || param === "aggregate") {
      slot = document.querySelector('.err[data-for="' + param + '"]');
      control = $(param);
    }
    if (slot) {
      slot.textContent = msg;
      slot.hidden = false;
      if (control) control.setAttribute("aria-invalid", "true");
    } else {
      $("banner").textContent = msg;
      $("banner").hidden = false;
    }
  }

  // ---------- the weights panel ----------
  const rowOf = new Map();
  let nodeSeq = 0;

  function sliderMax(id) {
    const sib = kids.get(byId.get(id).parent) || [];
    const top = Math.max(1, ...sib.map((s) => s.weight));
    return Math.max(5, Math.ceil(top * 2), Math.ceil(weightOf(id)));
  }

  function buildNode(n) {
    const k = nodeSeq++;
    const row = el("div", "node depth-" + Math.min(n.depth, 3) + (n.kind === "indicator" ? " indicator" : ""));
    row.dataset.id = n.id;
    const head = el("div", "node-head");
    const children = kids.get(n.id);
    let box = null;
    if (children.length) {
      const tg = el("button", "toggle");
      tg.type = "button";
      tg.setAttribute("aria-expanded", "false");
      tg.setAttribute("aria-controls", "kids-" + k);
      tg.setAttribute("aria-label", fmt(T.expand, { name: n.name }));
      tg.title = tg.getAttribute("aria-label");
      tg.addEventListener("click", () => setOpen(row, tg.getAttribute("aria-expanded") !== "true"));
      head.appendChild(tg);
    } else {
      head.appendChild(el("span", "toggle-space"));
    }
    const label = el("label", "node-name", n.name);
    label.htmlFor = "w-" + k;
    label.title = n.id;
    head.appendChild(label);
    const off = el("span", "official");
    head.appendChild(off);
    const share = el("span", "share");
    head.appendChild(share);
    row.appendChild(head);

    const inputs = el("div", "node-inputs");
    const range = el("input");
    range.type = "range";
    range.id = "w-" + k;
    range.dataset.node = n.id;
    range.min = "0";
    range.max = String(sliderMax(n.id));
    range.step = "0.1";
    range.value = String(weightOf(n.id));
    const num = el("input");
    num.type = "number";
    num.dataset.node = n.id;
    num.min = "0";
    num.max = String(meta.max_weight);
    num.step = "any";
    num.inputMode = "decimal";
    num.value = numText(weightOf(n.id));
    num.setAttribute("aria-label", fmt(T.weightOf, { name: n.name }));
    inputs.appendChild(range);
    inputs.appendChild(num);
    row.appendChild(inputs);
    const err = el("p", "err");
    err.setAttribute("role", "alert");
    err.hidden = true;
    row.appendChild(err);

    range.addEventListener("input", () => {
      setWeight(n.id, Number(range.value));
      num.value = numText(weightOf(n.id));
      schedule();
    });
    num.addEventListener("input", () => {
      const v = num.value.trim();
      const w = Number(v);
      if (v === "") return; // being typed; checked on change
      if (!Number.isFinite(w) || w < 0 || w > meta.max_weight) {
        err.textContent = fmt(T.badNumber, { max: meta.max_weight });
        err.hidden = false;
        num.setAttribute("aria-invalid", "true");
        return;
      }
      err.hidden = true;
      num.removeAttribute("aria-invalid");
      setWeight(n.id, w);
      if (w > Number(range.max)) range.max = String(Math.ceil(w));
      range.value = String(w);
      schedule();
    });

    num.addEventListener("change", () => {
      if (num.value.trim() !== "") return;
      err.textContent = fmt(T.badNumber, { max: meta.max_weight });
      err.hidden = false;
      num.setAttribute("aria-invalid", "true");
    });

    if (children.length) {
      box = el("div", "kids");
      box.id = "kids-" + k;
      box.hidden = true;
      for (const c of children) box.appendChild(buildNode(c));
      row.appendChild(box);
    }
    rowOf.set(n.id, row);
    return row;
  }

  function setOpen(row, open) {
    const tg = row.querySelector(":scope > .node-head > .toggle");
    const box = row.querySelector(":scope > .kids");
    if (!tg || !box) return;
    tg.setAttribute("aria-expanded", open ? "true" : "false");
    const name = byId.get(row.dataset.id).name;
    tg.setAttribute("aria-label", fmt(open ? T.collapse : T.expand, { name }));
    tg.title = tg.getAttribute("aria-label");
    box.hidden = !open;
  }

  /** Opens every dimension above node `id`. */
  function openTo(id) {
    let p = byId.get(id).parent;
    while (p != null && p !== indexId) {
      setOpen(rowOf.get(p), true);
      p = byId.get(p).parent;
    }
  }

  function setWeight(id, w) {
    w = roundW(w);
    if (w === officialW(id)) state.weights.delete(id);
    else state.weights.set(id, w);
    refreshWeights();
  }

  /** The shares, the "official" marks and the inputs' values. */
  function refreshWeights(inputsToo) {
    for (const n of nodes) {
      if (n.id === indexId) continue;
      const row = rowOf.get(n.id);
      const sib = kids.get(n.parent);
      const total = sib.reduce((a, s) => a + weightOf(s.id), 0);
      const w = weightOf(n.id);
      const share = total > 0 ? (100 * w) / total : 0;
      row.querySelector(":scope > .node-head > .share").textContent =
        (share >= 10 || share === 0 ? share.toFixed(0) : share.toFixed(1)) + "%";
      const changed = state.weights.has(n.id);
      row.classList.toggle("changed", changed);
      row.querySelector(":scope > .node-head > .official").textContent = changed
        ? fmt(T.official, { w: numText(officialW(n.id)) })
        : "";
      if (inputsToo) {
        const range = row.querySelector(":scope > .node-inputs > input[type=range]");
        range.max = String(sliderMax(n.id));
        range.value = String(w);
        row.querySelector(":scope > .node-inputs > input[type=number]").value = numText(w);
      }
    }
  }

  // ---------- selects ----------
  function fillSelect(sel, options, current) {
    sel.textContent = "";
    for (const o of options) {
      const opt = el("option", null, o.label);
      opt.value = o.value;
      if (o.title) opt.title = o.title;
      if (o.value === current) opt.selected = true;
      sel.appendChild(opt);
    }
  }

  function methodOptions(kind) {
    const official = meta.official[kind];
    const list = meta.choices[kind].slice();
    const cur = state[kind];
    if (cur != null && !list.includes(cur)) list.push(cur);
    return list.map((m) => ({
      value: m,
      label: (m === official ? T.frameworks : "") + methodLabel(m),
      title: m,
    }));
  }

  function refreshSelects() {
    if (hasPeriods) {
      const ps = meta.periods.slice().reverse();
      const cur = state.period != null ? state.period : score ? score.period : meta.latest;
      const opts = ps.map((p) => ({ value: p, label: p }));
      if (!ps.includes(cur)) opts.unshift({ value: cur, label: cur });
      fillSelect($("period"), opts, cur);
    } else {
      fillSelect($("period"), [{ value: "", label: "–" }], "");
    }
    for (const kind of ["normalize", "aggregate"]) {
      const cur = state[kind] != null ? state[kind] : meta.official[kind];
      fillSelect($(kind), methodOptions(kind), cur);
    }
  }

  // ---------- the ranking ----------
  const unitRows = new Map();
  let intervals = null; // {units: Map, runs} | {error}
  let reach = null; // {key, data: Map, info} | {key, error} | {key, pending}
  const revealed = new Set();

  function unitRow(u) {
    let li = unitRows.get(u.unit);
    if (li) return li;
    li = el("li", "unit");
    li.dataset.unit = u.unit;
    li.appendChild(el("span", "rank"));
    li.appendChild(el("span", "chg"));
    const name = el("span", "name");
    li.appendChild(name);
    const bar = el("span", "bar");
    bar.setAttribute("aria-hidden", "true");
    bar.appendChild(el("span", "fill"));
    li.appendChild(bar);
    li.appendChild(el("span", "score"));
    if (uncertain) {
      const iv = el("span", "interval");
      iv.appendChild(el("span", "iv-text"));
      const track = el("span", "iv-track");
      track.setAttribute("aria-hidden", "true");
      track.appendChild(el("span", "iv-seg"));
      track.appendChild(el("span", "iv-dot"));
      iv.appendChild(track);
      li.appendChild(iv);
      const b = el("button", "reach", "↕");
      b.type = "button";
      b.addEventListener("click", () => askReach(u.unit));
      li.appendChild(b);
    }
    unitRows.set(u.unit, li);
    return li;
  }

  /** Where the bars start: 0, or (when every score is far above 0) a round number below the
   * lowest score, so that close scores still look different; the column header says which. */
  function barBase(scored, hi) {
    if (!scored.length) return 0;
    const min = Math.min(...scored);
    if (min <= 0) return min;
    if (min < hi * 0.5) return 0;
    const step = Math.pow(10, Math.floor(Math.log10(Math.max(hi - min, 1e-9))));
    return Math.max(0, Math.floor((min - (hi - min) * 0.1) / step) * step);
  }

  function renderRanking() {
    const list = $("ranking");
    const units = score.units;
    const before = new Map();
    if (!reduceMotion && list.childElementCount) {
      for (const [k, li] of unitRows) before.set(k, li.getBoundingClientRect().top);
    }
    const scored = units.filter((u) => u.score != null).map((u) => u.score);
    const hi = Math.max(0, ...scored);
    const lo = barBase(scored, hi);
    const span = hi - lo || 1;
    $("col-score").textContent = lo === 0 ? T.colScore : fmt(T.colScoreFrom, { lo: +lo.toFixed(6) });
    const frag = document.createDocumentFragment();
    for (const u of units) {
      const li = unitRow(u);
      li.dataset.rank = u.rank == null ? "" : String(u.rank);
      li.dataset.score = u.score == null ? "" : String(u.score);
      li.dataset.status = u.status;
      li.children[0].textContent = u.rank == null ? "–" : String(u.rank);
      const chg = li.children[1];
      const c = u.change;
      chg.className = "chg " + (c > 0 ? "up" : c < 0 ? "down" : "same");
      chg.textContent = c > 0 ? "↑" + c : c < 0 ? "↓" + -c : "–";
      chg.title = u.rank == null ? T.noRank : c > 0 ? fmt(T.up, { n: c }) : c < 0 ? fmt(T.down, { n: -c }) : T.same;
      chg.setAttribute("aria-label", chg.title);
      li.children[2].textContent = u.name;
      li.children[2].title = u.unit;
      const fill = li.children[3].firstChild;
      fill.style.width = u.score == null ? "0" : ((100 * (u.score - lo)) / span).toFixed(2) + "%";
      li.children[4].textContent =
        u.score == null ? (u.status === "screened" ? T.screened : T.missing) : u.score.toFixed(2);
      frag.appendChild(li);
    }
    list.appendChild(frag);
    // Units no longer in the answer (none expected) leave the list.
    for (const [k, li] of unitRows) {
      if (!units.some((u) => u.unit === k)) {
        li.remove();
        unitRows.delete(k);
      }
    }
    if (before.size) {
      for (const [k, li] of unitRows) {
        const b = before.get(k);
        if (b == null) continue;
        const d = b - li.getBoundingClientRect().top;
        if (Math.abs(d) < 1) continue;
        li.style.transition = "none";
        li.style.transform = "translateY(" + d + "px)";
      }
      requestAnimationFrame(() => {
        for (const li of unitRows.values()) {
          if (!li.style.transform) continue;
          li.style.transition = "";
          li.style.transform = "";
        }
      });
    }
    renderIntervals();
    renderReach();
  }

  function renderIntervals() {
    if (!uncertain) return;
    const n = score.units.length;
    for (const [k, li] of unitRows) {
      const iv = li.querySelector(".interval");
      const text = iv.firstChild;
      const seg = iv.querySelector(".iv-seg");
      const dot = iv.querySelector(".iv-dot");
      iv.classList.toggle("pending", intervals == null);
      if (intervals == null) {
        text.textContent = T.computing;
        iv.title = "";
        seg.style.width = "0";
        dot.hidden = true;
        continue;
      }
      const s = intervals.units && intervals.units.get(k);
      if (!s) {
        text.textContent = "–";
        iv.title = intervals.error ? fmt(T.intervalFailed, { msg: intervals.error }) : T.intervalNone;
        seg.style.width = "0";
        dot.hidden = true;
        continue;
      }
      const r = (x) => Math.round(x);
      text.textContent = r(s.q5) + "–" + r(s.q95);
      iv.title = fmt(T.intervalTitle, {
        runs: intervals.runs,
        median: r(s.median),
        q5: r(s.q5),
        q95: r(s.q95),
        best: s.best,
        worst: s.worst,
      });
      const pos = (x) => (n > 1 ? ((x - 1) / (n - 1)) * 100 : 0);
      seg.style.left = pos(s.q5).toFixed(2) + "%";
      seg.style.width = Math.max(1.5, pos(s.q95) - pos(s.q5)).toFixed(2) + "%";
      const rank = li.dataset.rank;
      dot.hidden = rank === "";
      if (rank !== "") dot.style.left = pos(Number(rank)).toFixed(2) + "%";
    }
  }

  function reachKey() {
    return [score.period, state.normalize || "", state.aggregate || ""].join("\u0000");
  }

  function renderReach() {
    if (!uncertain) return;
    const current = reach && reach.key === reachKey() ? reach : null;
    for (const [k, li] of unitRows) {
      const b = li.querySelector(".reach");
      const name = li.children[2].textContent;
      const ask = fmt(T.reachAsk, { name });
      const s = current && current.data && current.data.get(k);
      if (revealed.has(k) && current && current.pending) {
        b.textContent = "…";
        b.classList.add("shown");
        b.title = ask;
        b.setAttribute("aria-label", ask + " " + T.computing);
      } else if (revealed.has(k) && s) {
        b.textContent = fmt(T.reachShow, s);
        b.classList.add("shown");
        b.title = fmt(T.reachTitle, { name, best: s.best, worst: s.worst });
        b.setAttribute("aria-label", b.title);
      } else {
        b.textContent = "↕";
        b.classList.remove("shown");
        b.title = ask;
        b.setAttribute("aria-label", ask);
      }
    }
    const note = $("reach-note");
    if (current && current.info) {
      const ranges = current.info.ranges
        .map((r) => (byId.has(r.id) ? byId.get(r.id).name : r.id) + " " + numText(r.low) + "–" + numText(r.high))
        .join(LANG === "zh" ? "，" : ", ");
      note.textContent = fmt(T.reachNote, {
        n: current.info.weightings,
        corners: current.info.corners,
        points: current.info.weightings - current.info.corners,
        ranges,
      });
      note.hidden = false;
    } else if (current && current.error) {
      note.textContent = fmt(T.reachFailed, { msg: current.error });
      note.hidden = false;
    } else {
      note.hidden = true;
    }
  }

  function askReach(unit) {
    revealed.add(unit);
    fetchReach();
  }

  /** Fetches the reach of the current period and methods unless it is known or on its way. */
  function fetchReach() {
    const key = reachKey();
    if (reach && reach.key === key && !reach.error) {
      renderReach();
      return;
    }
    const p = new URLSearchParams();
    if (score.period) p.append("period", score.period);
    if (state.normalize != null) p.append("normalize", state.normalize);
    if (state.aggregate != null) p.append("aggregate", state.aggregate);
    reach = { key, pending: true };
    renderReach();
    getJson("/api/reach?" + p.toString()).then(
      (d) => {
        if (!reach || reach.key !== key) return;
        reach = { key, data: new Map(d.units.map((x) => [x.unit, x])), info: d };
        renderReach();
      },
      (e) => {
        if (!reach || reach.key !== key) return;
        reach = { key, error: e.error || String(e) };
        renderReach();
      }
    );
  }

  let intervalsPeriod = null;
  function loadIntervals() {
    if (!uncertain || !score) return;
    const period = score.period;
    if (intervalsPeriod === period) return;
    intervalsPeriod = period;
    intervals = null;
    renderIntervals();
    const p = new URLSearchParams();
    if (period) p.append("period", period);
    getJson("/api/intervals?" + p.toString()).then(
      (d) => {
        if (intervalsPeriod !== period) return;
        intervals = { runs: d.runs, units: new Map(d.units.map((x) => [x.unit, x])) };
        renderIntervals();
      },
      (e) => {
        if (intervalsPeriod !== period) return;
        intervals = { error: e.error || String(e), units: null };
        renderIntervals();
      }
    );
  }

  // ---------- the export area, the links ----------
  function renderExport() {
    if (!score) return;
    $("cmd-text").textContent = score.export.command;
    $("opt-text").textContent = score.export.options || "–";
    $("toml-text").textContent = score.export.toml;
    const q = withoutLang(score.query);
    $("csv").href = "/api/ranking.csv" + (q ? "?" + q : "");
    $("xlsx").href = "/api/ranking.xlsx" + (q ? "?" + q : "");
    $("methods-now").textContent = fmt(T.methodsNow, {
      normalize: methodLabel(score.normalize),
      aggregate: methodLabel(score.aggregate),
    });
    $("status").textContent = fmt(T.units, { n: score.units.length });
  }

  function setLangLink(q) {
    const o = otherLangQuery(q);
    $("lang").href = "/" + (o ? "?" + o : "");
  }

  // ---------- talking to the server ----------
  /** GET a JSON answer; rejects with the API's {error, param} on a 4xx/5xx. */
  function getJson(url, signal) {
    return fetch(url, { signal, headers: { Accept: "application/json" } }).then(
      (r) =>
        r.text().then((t) => {
          let d;
          try {
            d = JSON.parse(t);
          } catch (_) {
            d = { error: t || r.status + " " + r.statusText, param: null };
          }
          if (!r.ok) throw d;
          return d;
        }),
      (e) => {
        if (e && e.name === "AbortError") throw e;
        throw { error: fmt(T.netError, { msg: e && e.message ? e.message : String(e) }), param: null };
      }
    );
  }

  let seq = 0;
  let timer = 0;
  let urlError = null;
  let inflight = null;

  /** Re-scores soon (one request per ~50 ms while a slider moves). */
  function schedule() {
    body.dataset.state = "loading";
    const q = queryString();
    history.replaceState(null, "", "/" + (q ? "?" + q : ""));
    setLangLink(q);
    if (timer) return;
    timer = setTimeout(() => {
      timer = 0;
      rescore();
    }, 50);
  }

  function rescore() {
    const q = queryString();
    const mine = ++seq;
    if (inflight) inflight.abort();
    inflight = typeof AbortController === "function" ? new AbortController() : null;
    body.dataset.state = "loading";
    $("status").textContent = T.loading;
    getJson("/api/score" + (q ? "?" + q : ""), inflight && inflight.signal).then(
      (d) => {
        if (mine !== seq) return; // a newer change is on its way
        inflight = null;
        clearErrors();
        if (urlError) {
          // The address's mistake, left out of this (first) answer, stays said once.
          showError(urlError, T.badUrlDropped);
          urlError = null;
        }
        const periodChanged = !score || d.period !== score.period;
        score = d;
        renderRanking();
        renderExport();
        body.dataset.query = d.query;
        if (periodChanged) loadIntervals();
        // Units whose reach is shown keep it shown for the new period or methods.
        if (uncertain && revealed.size) fetchReach();
        // Ready only when no newer change waits: the ranking shown is the URL's.
        if (timer || queryString() !== q) return;
        history.replaceState(null, "", "/" + (d.query ? "?" + d.query : ""));
        setLangLink(d.query);
        body.dataset.state = "ready";
      },
      (e) => {
        if (mine !== seq || (e && e.name === "AbortError")) return;
        inflight = null;
        clearErrors();
        showError(e);
        $("status").textContent = fmt(T.units, { n: score ? score.units.length : 0 });
        if (timer || queryString() !== q) return;
        body.dataset.state = "error";
      }
    );
  }

  // ---------- copying ----------
  function copyText(text, button) {
    const done = (ok) => {
      const old = button.dataset.label || button.textContent;
      button.dataset.label = old;
      button.textContent = ok ? T.copied : T.copyFailed;
      setTimeout(() => (button.textContent = old), 1600);
    };
    const fallback = () => {
      const ta = el("textarea");
      ta.value = text;
      ta.setAttribute("readonly", "");
      ta.style.position = "fixed";
      ta.style.opacity = "0";
      document.body.appendChild(ta);
      ta.select();
      let ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (_) {
        ok = false;
      }
      ta.remove();
      done(ok);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(() => done(true), fallback);
    } else {
      fallback();
    }
  }

  // ---------- first paint ----------
  document.title = meta.index.name + " · kapok";
  $("title").textContent = meta.index.name;
  $("subtitle").textContent = fmt(T.subtitle, { fw: meta.framework });
  $("skip").textContent = T.skip;
  $("period-label").textContent = T.period;
  $("period-field").hidden = !hasPeriods;
  $("lang").textContent = T.lang;
  $("lang").title = T.langTitle;
  $("lang").hreflang = LANG === "zh" ? "en" : "zh";
  $("lang").lang = LANG === "zh" ? "en" : "zh";
  $("controls-h").textContent = T.weights;
  $("weights-hint").textContent = T.weightsHint;
  $("methods-h").textContent = T.methods;
  $("normalize-label").textContent = T.normalize;
  $("aggregate-label").textContent = T.aggregate;
  $("reset").textContent = T.reset;
  $("reset").title = T.resetTitle;
  $("copy-link").textContent = T.copyLink;
  $("share-hint").textContent = T.shareHint;
  $("export-h").textContent = T.exportH;
  $("cmd-label").textContent = T.command;
  $("opt-label").textContent = T.options;
  $("toml-label").textContent = T.toml;
  for (const b of document.querySelectorAll("button.copy")) b.textContent = T.copy;
  $("csv").textContent = T.csv;
  $("xlsx").textContent = T.xlsx;
  $("ranking-h").textContent = T.ranking;
  $("col-rank").textContent = T.colRank;
  $("col-change").textContent = T.colChange;
  $("col-unit").textContent = T.colUnit;
  $("col-score").textContent = T.colScore;
  $("col-interval").textContent = uncertain ? T.colInterval : "";
  $("col-reach").textContent = uncertain ? T.colReach : "";
  body.classList.toggle("uncertain", uncertain);

  readUrl();
  const weightsBox = $("weights");
  for (const c of kids.get(indexId)) weightsBox.appendChild(buildNode(c));
  refreshWeights(true);
  refreshSelects();

  if (score) {
    renderRanking();
    renderExport();
    body.dataset.query = score.query;
  }
  setLangLink(location.search.replace(/^\?/, ""));
  if (init.error) {
    showError(init.error, T.badUrl);
    body.dataset.state = "error";
    // What the page could read of the address (unknown ids and non-numbers left out) is
    // re-scored at once, so that the ranking matches the controls.
    const q = queryString();
    if (q !== location.search.replace(/^\?/, "")) {
      urlError = init.error;
      schedule();
    }
  } else {
    body.dataset.state = "ready";
  }

  // ---------- events ----------
  $("period").addEventListener("change", (e) => {
    state.period = e.target.value || null;
    schedule();
  });
  for (const kind of ["normalize", "aggregate"]) {
    $(kind).addEventListener("change", (e) => {
      const v = e.target.value;
      state[kind] = v === meta.official[kind] ? null : v;
      schedule();
    });
  }
  $("reset").addEventListener("click", () => {
    state.weights.clear();
    state.normalize = null;
    state.aggregate = null;
    refreshWeights(true);
    refreshSelects();
    clearErrors();
    schedule();
  });
  $("copy-link").addEventListener("click", (e) => copyText(location.href, e.currentTarget));
  for (const b of document.querySelectorAll("button.copy")) {
    b.addEventListener("click", () => copyText($(b.dataset.copy).textContent, b));
  }

  // Rank intervals after the first paint.
  if (uncertain) {
    requestAnimationFrame(() => setTimeout(loadIntervals, 0));
  }
})();
