// Nabla's dashboard: plain JavaScript and <canvas>, no library, no network beyond this server (it works offline).
// Training: /api/watch streams the list of runs; /api/events?run=ID streams one run's events.jsonl, line by line,
// live while the run writes it. Explorer: POST /api/explorer computes the textbook's loops and autograd in Nabla.
'use strict';

const COLORS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#4b5563'];
const runs = new Map(); // id → { meta, steps, epochs, end, source, color, selected }
let focusId = null;
let userPickedFocus = false;
let drawPending = false;

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, children = []) => {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) e.append(c);
  return e;
};
const fmt = (v, d = 4) => (v === undefined || v === null || !isFinite(v)) ? '–' : Number(v).toFixed(d);

// ---------- tabs ----------
function showTab() {
  const explorer = location.hash === '#explorer';
  $('training-view').hidden = explorer;
  $('explorer-view').hidden = !explorer;
  $('tab-training').classList.toggle('active', !explorer);
  $('tab-explorer').classList.toggle('active', explorer);
  if (explorer && !explorerState) loadExample();
}
window.addEventListener('hashchange', showTab);

// ---------- runs ----------
function session(id) { return id.split('/')[0]; }

function updateRuns(list) {
  const newest = list.map((r) => session(r.id)).sort().pop();
  for (const meta of list) {
    let run = runs.get(meta.id);
    if (!run) {
      run = { meta, steps: [], epochs: [], end: null, source: null, color: COLORS[runs.size % COLORS.length], selected: session(meta.id) === newest };
      runs.set(meta.id, run);
    }
    run.meta = meta;
    if (run.selected) subscribe(meta.id);
  }
  renderRunList();
  scheduleDraw();
}

function subscribe(id) {
  const run = runs.get(id);
  if (run.source || run.end) return;
  // `from` resumes after what this page already has (the event ids are byte offsets into the run's file).
  const source = new EventSource('/api/events?run=' + encodeURIComponent(id) + '&from=' + (run.offset || 0));
  run.source = source;
  source.onerror = () => {
    // The server went away mid-run: stop retrying; the run is subscribed again when the server is back.
    source.close();
    run.source = null;
  };
  source.onmessage = (m) => {
    run.offset = Number(m.lastEventId) || run.offset;
    // One message holds the lines the server read in one pass, one JSON object each.
    for (const line of m.data.split('\n')) {
      let e;
      try { e = JSON.parse(line); } catch { continue; } // a damaged line: show the rest
      if (!e || typeof e !== 'object') continue;
      if (e.type === 'step') run.steps.push(e);
      else if (e.type === 'epoch') run.epochs.push(e);
      else if (e.type === 'end') {
        run.end = e;
        source.close(); // the run is over: no reconnect
        run.source = null;
      }
    }
    scheduleDraw();
  };
}

function renderRunList() {
  const ul = $('run-list');
  ul.replaceChildren();
  const select = $('focus');
  const keep = select.value;
  select.replaceChildren();
  for (const [id, run] of runs) {
    const box = el('input', { type: 'checkbox', checked: run.selected });
    box.dataset.run = id;
    box.addEventListener('change', () => {
      run.selected = box.checked;
      if (run.selected) subscribe(id);
      scheduleDraw();
    });
    const swatch = el('span', { className: 'swatch' });
    swatch.style.background = run.color;
    const status = run.end ? run.end.status : (run.meta.status || '?');
    const label = el('label', {}, [box, swatch, id + ' ', el('span', { className: 'status-' + status, textContent: '(' + status + ')' })]);
    ul.append(el('li', { title: `${run.meta.model || ''}, ${run.meta.optimizer || ''} lr ${run.meta.lr}, batch ${run.meta.batch_size}` }, [label]));
    select.append(el('option', { value: id, textContent: id }));
  }
  if (userPickedFocus) focusId = keep;
  autoFocus();
}

function autoFocus() {
  if (!userPickedFocus) {
    // The newest selected run with data (by start time: the textbook's Adam phase after its SGD), else the newest selected.
    const chosen = [...runs.entries()].filter(([, r]) => r.selected).sort(([, a], [, b]) => String(a.meta.started).localeCompare(String(b.meta.started)));
    const withData = chosen.filter(([, r]) => r.epochs.length > 0 || r.steps.length > 0);
    const pick = (withData.length ? withData : chosen).pop();
    focusId = pick ? pick[0] : null;
  }
  if (focusId) $('focus').value = focusId;
}
$('focus').addEventListener('change', () => { userPickedFocus = true; focusId = $('focus').value; scheduleDraw(); });

// ---------- drawing ----------
function scheduleDraw() {
  if (drawPending) return;
  drawPending = true;
  // At most one frame a second, none while the tab is hidden: a page left open must not take a core from training.
  setTimeout(() => requestAnimationFrame(() => { drawPending = false; if (!document.hidden) draw(); }), 1000);
}
document.addEventListener('visibilitychange', () => { if (!document.hidden) scheduleDraw(); });

function draw() {
  autoFocus();
  renderRunListStatusOnly();
  const selected = [...runs.values()].filter((r) => r.selected);
  const loss = [], acc = [], grad = [], lr = [];
  for (const run of selected) {
    const c = run.color, name = run.meta.id;
    loss.push({ label: name + ' step', color: c, width: 1, points: run.steps.filter((s) => s.loss !== undefined).map((s) => [s.epoch, s.loss]) });
    loss.push({ label: name + ' train', color: c, width: 0, dots: true, points: run.epochs.map((e) => [e.epoch, e.train_loss]) });
    loss.push({ label: name + ' validation', color: c, dash: [6, 4], dots: 2, points: run.epochs.filter((e) => e.val_loss !== undefined).map((e) => [e.epoch, e.val_loss]) });
    loss.push({ label: name + ' test', color: c, dash: [2, 3], dots: 2, points: run.epochs.filter((e) => e.test_loss !== undefined).map((e) => [e.epoch, e.test_loss]) });
    acc.push({ label: name + ' train', color: c, dots: true, points: run.epochs.filter((e) => e.train_accuracy !== undefined).map((e) => [e.epoch, 100 * e.train_accuracy]) });
    acc.push({ label: name + ' validation', color: c, dash: [6, 4], dots: 2, points: run.epochs.filter((e) => e.val_accuracy !== undefined).map((e) => [e.epoch, 100 * e.val_accuracy]) });
    acc.push({ label: name + ' test', color: c, dash: [2, 3], dots: 2, points: run.epochs.filter((e) => e.test_accuracy !== undefined).map((e) => [e.epoch, 100 * e.test_accuracy]) });
    const layers = run.steps.length ? (run.steps[run.steps.length - 1].grad_norms || []).length : 0;
    for (let l = 0; l < layers; l++) {
      grad.push({ label: `${name} layer ${l}`, color: c, dash: l === 0 ? [] : [[6, 3], [2, 2], [8, 2, 2, 2]][(l - 1) % 3],
        points: run.steps.filter((s) => s.grad_norms && s.grad_norms[l] > 0).map((s) => [s.epoch, s.grad_norms[l]]) });
    }
    lr.push({ label: name, color: c, points: run.steps.map((s) => [s.epoch, s.lr]) });
  }
  lineChart($('chart-loss'), loss, {});
  lineChart($('chart-accuracy'), acc, {});
  lineChart($('chart-grad'), grad, { logY: true });
  lineChart($('chart-lr'), lr, {});
  drawFocus();
}

function renderRunListStatusOnly() {
  for (const box of document.querySelectorAll('#run-list input')) {
    const run = runs.get(box.dataset.run);
    const span = box.parentElement.querySelector('span[class^=status]');
    const status = run.end ? run.end.status : (run.meta.status || '?');
    if (span && span.textContent !== '(' + status + ')') { span.textContent = '(' + status + ')'; span.className = 'status-' + status; }
  }
}

function lineChart(canvas, series, opts) {
  const ctx = canvas.getContext('2d');
  const W = canvas.width, H = canvas.height, L = 56, R = 10, T = 10, B = 28;
  ctx.clearRect(0, 0, W, H);
  const pts = series.flatMap((s) => s.points);
  canvas.dataset.points = String(pts.length);
  canvas.dataset.series = String(series.filter((s) => s.points.length).length);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#888';
  if (!pts.length) { ctx.fillText('waiting for data…', W / 2 - 40, H / 2); return; }
  const ty = (v) => opts.logY ? Math.log10(v) : v;
  let x0 = Math.min(...pts.map((p) => p[0])), x1 = Math.max(...pts.map((p) => p[0]));
  let y0 = Math.min(...pts.map((p) => ty(p[1]))), y1 = Math.max(...pts.map((p) => ty(p[1])));
  if (x0 === x1) { x0 -= 0.5; x1 += 0.5; }
  if (y0 === y1) { y0 -= opts.logY ? 0.5 : Math.abs(y0) * 0.1 + 1e-9; y1 += opts.logY ? 0.5 : Math.abs(y1) * 0.1 + 1e-9; }
  const pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad;
  const X = (x) => L + (x - x0) / (x1 - x0) * (W - L - R);
  const Y = (y) => T + (1 - (ty(y) - y0) / (y1 - y0)) * (H - T - B);
  // axes and ticks
  ctx.strokeStyle = '#ccc'; ctx.lineWidth = 1; ctx.setLineDash([]);
  ctx.beginPath(); ctx.moveTo(L, T); ctx.lineTo(L, H - B); ctx.lineTo(W - R, H - B); ctx.stroke();
  ctx.fillStyle = '#555';
  for (let i = 0; i <= 4; i++) {
    const v = y0 + (y1 - y0) * i / 4, y = T + (1 - i / 4) * (H - T - B);
    const label = opts.logY ? Math.pow(10, v).toExponential(1) : (Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(1) : v.toPrecision(3));
    ctx.fillText(label, 2, y + 4);
    ctx.strokeStyle = '#eee'; ctx.beginPath(); ctx.moveTo(L, y); ctx.lineTo(W - R, y); ctx.stroke();
  }
  const step = Math.max(1, Math.ceil((x1 - x0) / 10));
  for (let e = Math.ceil(x0); e <= x1; e += step) ctx.fillText(String(e), X(e) - 3, H - B + 14);
  ctx.fillText('epoch', W - R - 32, H - 4);
  for (const s of series) {
    if (!s.points.length) continue;
    ctx.strokeStyle = s.color; ctx.fillStyle = s.color;
    ctx.lineWidth = s.width === undefined ? 1.6 : Math.max(s.width, 0.8);
    ctx.setLineDash(s.dash || []);
    if (s.width !== 0) {
      ctx.beginPath();
      s.points.forEach((p, i) => (i ? ctx.lineTo(X(p[0]), Y(p[1])) : ctx.moveTo(X(p[0]), Y(p[1]))));
      ctx.stroke();
    }
    // Epoch values get dots (a single epoch is a point, not a line): 3 px for train, 2 for validation and test.
    if (s.dots) for (const p of s.points) { ctx.beginPath(); ctx.arc(X(p[0]), Y(p[1]), s.dots === true ? 3 : s.dots, 0, 7); ctx.fill(); }
  }
  ctx.setLineDash([]);
}

function drawFocus() {
  const run = focusId && runs.get(focusId);
  const stats = $('stats');
  stats.replaceChildren();
  if (!run) return;
  const last = run.steps[run.steps.length - 1], lastEpoch = run.epochs[run.epochs.length - 1];
  const status = run.end ? run.end.status : (run.meta.status || '?');
  const item = (label, value) => stats.append(el('div', {}, [el('b', { textContent: value }), label]));
  item('run', run.meta.id);
  item('status', status);
  item('model', run.meta.model || '?');
  item('optimizer', `${run.meta.optimizer} (lr ${run.meta.lr})`);
  item('epoch', last ? `${fmt(last.epoch - (run.meta.epoch_offset || 0), 2)} / ${run.meta.epochs}` : '–');
  item('samples/s', last ? Math.round(last.samples_per_second).toLocaleString('en') : '–');
  if (last && last.threads !== undefined) item('threads', `${last.threads}${last.threads_auto ? ' (auto)' : ''}`);
  item('time left', run.end ? '0 s' : last ? `${fmt(last.seconds_left, 1)} s` : '–');
  item('learning rate', last ? String(last.lr) : '–');
  item('loss (last steps)', last && last.loss !== undefined ? fmt(last.loss) : '–');
  if (run.end && run.end.test_accuracy !== undefined) item('test accuracy', fmt(100 * run.end.test_accuracy, 2) + ' %');
  else if (lastEpoch && lastEpoch.test_accuracy !== undefined) item('test accuracy (last epoch)', fmt(100 * lastEpoch.test_accuracy, 2) + ' %');
  // The run's files, as the page read them.
  const files = el('div', {}, ['files: ']);
  for (const name of ['log.csv', 'events.jsonl', 'run.json'])
    files.append(el('a', { href: `/api/file?run=${encodeURIComponent(run.meta.id)}&name=${name}`, textContent: name, download: name }), ' ');
  stats.append(files);

  const pick = $('epoch-pick');
  const n = run.epochs.length;
  const follow = Number(pick.value) >= Number(pick.max) || pick.dataset.run !== focusId;
  pick.max = String(Math.max(1, n));
  pick.dataset.run = focusId;
  if (follow) pick.value = String(Math.max(1, n));
  const e = run.epochs[Math.min(Number(pick.value), n) - 1];
  $('epoch-shown').textContent = e ? String(e.epoch) : '–';
  // The epoch's pictures change only with the run or the epoch shown: redraw them then, not on every step.
  const key = `${focusId}|${e ? e.epoch : '-'}|${run.meta.status}`;
  if ($('confusion').dataset.key === key) return;
  $('confusion').dataset.key = key;
  drawConfusion(run, e);
  drawMisclassified(run, e);
  drawUnits(run, e);
}
$('epoch-pick').addEventListener('input', scheduleDraw);

function drawConfusion(run, e) {
  const box = $('confusion');
  if (!e || !e.confusion) { box.replaceChildren(el('p', { className: 'hint', textContent: 'after the first epoch' })); return; }
  const names = run.meta.classes || [];
  const table = el('table', { className: 'confusion' });
  table.append(el('tr', {}, [el('th'), ...names.map((c, j) => el('th', { textContent: short(c) || String(j), title: c }))]));
  e.confusion.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    const tr = el('tr', {}, [el('th', { textContent: names[i] || String(i) })]);
    row.forEach((count, j) => {
      const td = el('td', { textContent: String(count) });
      const f = count / total;
      td.style.background = i === j ? `rgba(5,150,105,${f})` : `rgba(220,38,38,${Math.min(1, 3 * f)})`;
      if (f > 0.6) td.style.color = '#fff';
      tr.append(td);
    });
    table.append(tr);
  });
  box.replaceChildren(table);
}
const short = (s) => (s || '').slice(0, 5);

function grayCanvas(b64, h, w, scale, colorMap) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const canvas = el('canvas', { width: w, height: h });
  canvas.style.width = w * scale + 'px';
  canvas.style.height = h * scale + 'px';
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    const [r, g, b] = colorMap(bytes[i]);
    img.data[4 * i] = r; img.data[4 * i + 1] = g; img.data[4 * i + 2] = b; img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

function drawMisclassified(run, e) {
  const box = $('misclassified');
  const size = run.meta.image;
  if (!e || !e.misclassified || !size) { box.replaceChildren(el('p', { className: 'hint', textContent: size ? 'after the first epoch' : 'images only' })); return; }
  const names = run.meta.classes || [];
  box.replaceChildren(...e.misclassified.filter((m) => m.pixels).map((m) =>
    el('figure', { title: `test image ${m.index}` }, [grayCanvas(m.pixels, size[0], size[1], 2, (v) => [v, v, v]),
      el('span', { textContent: `${short(names[m.label])} → ${short(names[m.predicted])}` })])));
}

function drawUnits(run, e) {
  const box = $('units');
  const size = run.meta.image;
  if (!e || !e.units || !size) { box.replaceChildren(el('p', { className: 'hint', textContent: size ? 'after the first epoch' : 'image models only' })); return; }
  // 128 is a zero weight (white); 0 and 255 the unit's largest negative and positive weights (blue, red).
  const diverging = (v) => v >= 128 ? [255, 255 - 2 * (v - 128), 255 - 2 * (v - 128)] : [255 - 2 * (128 - v), 255 - 2 * (128 - v), 255];
  const scale = e.units.length > 128 ? 1 : 2; // a wide layer's hundreds of units at their own size
  box.replaceChildren(...e.units.map((u, i) => el('figure', { title: `unit ${i}` }, [grayCanvas(u, size[0], size[1], scale, diverging), el('span', { textContent: String(i) })])));
}

// ---------- explorer ----------
let explorerState = null; // { x, y, weights }
let explorerResult = null;
let visibleSteps = Infinity;
let pendingCompute = null;

async function loadExample() {
  const r = await fetch('/api/explorer/example');
  const body = await r.json();
  explorerState = body.network;
  visibleSteps = Infinity;
  renderInputs();
  showResult(body);
}

function randomNetwork() {
  const widths = $('widths').value.split('-').map((s) => parseInt(s, 10));
  if (widths.length < 2 || widths.some((w) => !(w >= 1 && w <= 8))) { $('explorer-error').textContent = 'Widths: 2 to 5 numbers between 1 and 8, e.g. 3-2-2.'; return; }
  const r = () => Math.round((Math.random() * 4 - 2) * 10) / 10;
  const weights = [];
  for (let i = 0; i + 1 < widths.length; i++) weights.push(Array.from({ length: widths[i + 1] }, () => Array.from({ length: widths[i] }, r)));
  const y = Array(widths[widths.length - 1]).fill(0); y[0] = 1;
  explorerState = { x: Array.from({ length: widths[0] }, r), y, weights };
  visibleSteps = Infinity;
  renderInputs();
  compute();
}

function matrixTable(rows, idPrefix, editable, onEdit) {
  const table = el('table', { className: 'matrix' });
  if (idPrefix) table.id = idPrefix;
  rows.forEach((row, i) => {
    const tr = el('tr');
    row.forEach((v, j) => {
      const td = el('td');
      td.dataset.value = String(v);
      if (editable) {
        const input = el('input', { type: 'number', step: '0.1', value: String(v), id: `${idPrefix}-${i}-${j}` });
        input.addEventListener('input', () => { const n = parseFloat(input.value); if (isFinite(n)) onEdit(i, j, n); });
        td.append(input);
      } else td.textContent = fmt(v);
      tr.append(td);
    });
    table.append(tr);
  });
  return table;
}
const column = (v) => v.map((x) => [x]);

function block(title, eq, content, step) {
  const b = el('div', { className: 'block' }, [el('h3', { innerHTML: title }), el('div', { className: 'eq', textContent: eq }), ...content]);
  b.dataset.step = String(step);
  return b;
}

function renderInputs() {
  const s = explorerState;
  const box = $('explorer-inputs');
  box.replaceChildren(
    block('x = z<sub>0</sub>', 'the input', [matrixTable(column(s.x), 'x', true, (i, _, v) => { s.x[i] = v; compute(); })], -1),
    block('y', 'the target (one-hot)', [matrixTable(column(s.y), 'y', true, (i, _, v) => { s.y[i] = v; compute(); })], -1),
    ...s.weights.map((w, k) => block(`W<sub>${k}</sub>`, `${w.length} × ${w[0].length}`, [matrixTable(w, `w-${k}`, true, (i, j, v) => { w[i][j] = v; compute(); })], -1)));
}

function compute() {
  clearTimeout(pendingCompute);
  pendingCompute = setTimeout(async () => {
    const r = await fetch('/api/explorer', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(explorerState) });
    const body = await r.json();
    if (!r.ok) { $('explorer-error').textContent = body.error; return; }
    showResult(body);
  }, 120);
}

function showResult(res) {
  explorerResult = res;
  $('explorer-error').textContent = '';
  const L = res.q.length; // weight matrices W_0 … W_{L-1}
  const fwd = [];
  for (let i = 0; i < L; i++) {
    const last = i === L - 1;
    fwd.push(block(`Forward ${i + 1}: z<sub>${i + 1}</sub>, A<sub>${i}</sub>, B<sub>${i}</sub>`,
      last ? `z${i + 1} = γ(W${i} z${i});  A${i} = C̃ = [diag(γ) − γγᵀ] W${i};  B${i} = D̃ = [diag(γ) − γγᵀ] ⊗ z${i}ᵀ`
           : `z${i + 1} = σ(W${i} z${i});  A${i} = Ã = diag(σ′) W${i};  B${i} = B̃ = diag(σ′) ⊗ z${i}ᵀ`,
      [el('div', { className: 'pair' }, [
        el('div', {}, [el('div', { className: 'label', innerHTML: `z<sub>${i + 1}</sub>` }), matrixTable(column(res.z[i + 1]), `z-${i + 1}`)]),
        el('div', {}, [el('div', { className: 'label', innerHTML: `A<sub>${i}</sub>` }), matrixTable(res.A[i], `a-${i}`)]),
        el('div', {}, [el('div', { className: 'label', innerHTML: `B<sub>${i}</sub>` }), matrixTable(res.B[i], `b-${i}`)])])], i));
  }
  const loss = block('Loss', 'f = −⟨log ŷ, y⟩', [el('b', { id: 'ex-loss', textContent: fmt(res.loss) })], L);
  loss.querySelector('b').dataset.value = String(res.loss);
  fwd.push(loss);
  $('explorer-forward').replaceChildren(...fwd);
  const back = [block(`Backward: p<sub>${L}</sub>`, `p${L} = ∇ℓ(ŷ) = −y ⊘ ŷ`, [matrixTable(column(res.p[L]), `p-${L}`)], L + 1)];
  for (let i = L - 1; i >= 0; i--) {
    back.push(block(`Backward ${L - i}: p<sub>${i}</sub>, q<sub>${i}</sub>`, `p${i} = A${i}ᵀ p${i + 1};  q${i} = B${i}ᵀ p${i + 1} (= ∇W${i} f)`,
      [el('div', { className: 'pair' }, [
        el('div', {}, [el('div', { className: 'label', innerHTML: `p<sub>${i}</sub>` }), matrixTable(column(res.p[i]), `p-${i}`)]),
        el('div', {}, [el('div', { className: 'label', innerHTML: `q<sub>${i}</sub> (backward loop)` }), matrixTable(res.q[i], `q-${i}`)]),
        el('div', {}, [el('div', { className: 'label', innerHTML: `W<sub>${i}</sub>.grad (autograd)` }), matrixTable(res.autograd[i], `autograd-${i}`)])])], L + 2 + (L - 1 - i)));
  }
  back.push(block('Check', 'largest |q_i − autograd|', [el('b', { id: 'ex-difference', textContent: Number(res.max_difference).toExponential(2) })], 2 * L + 2));
  $('explorer-backward').replaceChildren(...back);
  applySteps();
}

function applySteps() {
  for (const b of document.querySelectorAll('#explorer-forward .block, #explorer-backward .block'))
    b.classList.toggle('later', Number(b.dataset.step) > visibleSteps);
}
const lastStep = () => explorerResult ? 2 * explorerResult.q.length + 2 : 0;
$('step-next').addEventListener('click', () => { visibleSteps = visibleSteps === Infinity ? 0 : Math.min(visibleSteps + 1, lastStep()); applySteps(); });
$('step-back').addEventListener('click', () => { visibleSteps = visibleSteps === Infinity ? lastStep() - 1 : Math.max(visibleSteps - 1, 0); applySteps(); });
$('step-all').addEventListener('click', () => { visibleSteps = Infinity; applySteps(); });
$('load-example').addEventListener('click', loadExample);
$('random-network').addEventListener('click', randomNetwork);

// ---------- start ----------
// When the server stops (its run ended), the page checks back every 5 s instead of letting each EventSource retry on
// its own: an idle page must cost nothing.
function connect() {
  const watch = new EventSource('/api/watch');
  watch.addEventListener('runs', (m) => { $('connection').textContent = 'connected'; updateRuns(JSON.parse(m.data)); });
  watch.onerror = () => {
    watch.close(); // each run's stream ends on its own, after its last lines
    $('connection').textContent = 'server stopped (the run has ended); what it sent stays on the page';
    setTimeout(connect, 5000);
  };
}
connect();
showTab();
