// A 2-D projection of a sample of a collection's vectors: their first two
// principal components, drawn on a canvas and coloured by a payload key.

import { collPath, result } from './api.js';
import { h } from './dom.js';
import { tabs } from './collections.js';
import { errorBox } from './auth.js';

const palette = ['#3461c1', '#d1495b', '#2a9d8f', '#e9a03b', '#7b4fb2', '#5c946e', '#c05299', '#6b7a8f', '#b5651d', '#1f9bd1'];
const otherColour = '#b8bcc6';

// denseVectors lists the collection's dense single vectors by name ("" the
// unnamed one).
function denseVectors(info) {
  const v = info.config.params.vectors;
  if (!v) {
    return [];
  }
  if (v.size !== undefined) {
    return v.multivector_config ? [] : [''];
  }
  return Object.entries(v).filter(([, p]) => !p.multivector_config).map(([k]) => k);
}

// sample fetches up to n points with the named vector and payloads: the
// first by id (scroll) or a random sample (a query with sample: random).
async function sample(name, vector, n, random) {
  const withVector = vector === '' ? true : [vector];
  if (random) {
    const r = await result('POST', collPath(name) + '/points/query',
      { query: { sample: 'random' }, limit: n, with_payload: true, with_vector: withVector, using: vector || undefined });
    return r.points;
  }
  const pts = [];
  let offset = null;
  while (pts.length < n) {
    const body = { limit: Math.min(250, n - pts.length), with_payload: true, with_vector: withVector };
    if (offset !== null) {
      body.offset = offset;
    }
    const page = await result('POST', collPath(name) + '/points/scroll', body);
    pts.push(...page.points);
    offset = page.next_page_offset;
    if (offset === null || offset === undefined) {
      break;
    }
  }
  return pts;
}

// vectorOf returns a point's vector of the given name, or null.
function vectorOf(p, vector) {
  const v = Array.isArray(p.vector) ? (vector === '' ? p.vector : null) : p.vector && p.vector[vector];
  return Array.isArray(v) && typeof v[0] === 'number' ? v : null;
}

// colouring maps each point's value of key to a colour: numbers on a
// blue-to-red scale, other values by their ten most frequent values.
function colouring(points, key) {
  const vals = points.map((p) => (key && p.payload ? p.payload[key] : undefined));
  if (!key) {
    return { colours: vals.map(() => palette[0]), legend: [] };
  }
  const present = vals.filter((v) => v !== undefined && v !== null);
  if (present.length > 0 && present.every((v) => typeof v === 'number')) {
    const lo = Math.min(...present);
    const hi = Math.max(...present);
    const at = (v) => {
      const t = hi === lo ? 0.5 : (v - lo) / (hi - lo);
      return 'rgb(' + Math.round(52 + t * (209 - 52)) + ',' + Math.round(97 - t * 24) + ',' + Math.round(193 - t * 102) + ')';
    };
    return {
      colours: vals.map((v) => (typeof v === 'number' ? at(v) : otherColour)),
      legend: [[at(lo), key + ' = ' + lo], [at(hi), key + ' = ' + hi]],
    };
  }
  const label = (v) => (v === undefined || v === null ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));
  const counts = new Map();
  for (const v of vals) {
    counts.set(label(v), (counts.get(label(v)) || 0) + 1);
  }
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, palette.length).map(([l]) => l);
  const colourOf = new Map(top.map((l, i) => [l, palette[i]]));
  const legend = top.map((l) => [colourOf.get(l), l + ' (' + counts.get(l) + ')']);
  if (counts.size > top.length) {
    legend.push([otherColour, 'other']);
  }
  return { colours: vals.map((v) => colourOf.get(label(v)) || otherColour), legend };
}

// inWorker runs pca2 on rows in a worker, so that the page stays
// responsive while it runs (a second or more for large vectors).
function inWorker(rows) {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./pca-worker.js', import.meta.url), { type: 'module' });
    w.onmessage = (e) => {
      w.terminate();
      if (e.data.error) {
        reject(new Error(e.data.error));
      } else {
        resolve(e.data);
      }
    };
    w.onerror = (e) => {
      w.terminate();
      reject(new Error(e.message || 'the PCA worker failed'));
    };
    w.postMessage(rows);
  });
}

export async function render(box, name) {
  const info = await result('GET', collPath(name));
  const names = denseVectors(info);
  box.append(...tabs(name, 'projection'));
  if (names.length === 0) {
    box.append(h('p', { class: 'muted' }, 'This collection has no dense vectors to project.'));
    return;
  }
  const vectorSel = h('select', { id: 'projection-vector' }, names.map((n) => h('option', { value: n }, n || '(default)')));
  const sizeIn = h('input', { type: 'number', id: 'projection-size', value: 500, min: 2, max: 1000 });
  const randomSel = h('select', { id: 'projection-sample' }, h('option', { value: 'first' }, 'first points by id'), h('option', { value: 'random' }, 'random points'));
  const keySel = h('select', { id: 'projection-key' }, h('option', { value: '' }, '(none)'));
  const status = h('p', { class: 'muted', id: 'projection-status' });
  const canvas = h('canvas', { id: 'projection-canvas', width: 720, height: 480 });
  const legend = h('div', { class: 'legend', id: 'projection-legend' });
  const hover = h('p', { class: 'muted mono', id: 'projection-hover' }, ' ');
  const runButton = h('button', { type: 'button', id: 'projection-run' }, 'Project');
  box.append(h('div', { class: 'row' },
    h('label', {}, 'Vector ', vectorSel), h('label', {}, 'Sample ', sizeIn), randomSel, runButton,
    h('label', {}, 'Colour by ', keySel)), status, canvas, legend, hover);

  let pts = [];
  let xy = [];
  function draw() {
    const { colours, legend: items } = colouring(pts, keySel.value);
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const xs = xy.map((p) => p[0]);
    const ys = xy.map((p) => p[1]);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const pad = 16;
    const sx = (v) => pad + (x1 === x0 ? 0.5 : (v - x0) / (x1 - x0)) * (canvas.width - 2 * pad);
    const sy = (v) => canvas.height - pad - (y1 === y0 ? 0.5 : (v - y0) / (y1 - y0)) * (canvas.height - 2 * pad);
    const screen = xy.map(([a, b]) => [sx(a), sy(b)]);
    for (let i = 0; i < screen.length; i++) {
      ctx.fillStyle = colours[i];
      ctx.beginPath();
      ctx.arc(screen[i][0], screen[i][1], 3, 0, 2 * Math.PI);
      ctx.fill();
    }
    legend.replaceChildren(...items.map(([c, l]) => {
      const sw = h('span', { class: 'swatch' });
      sw.style.background = c;
      return h('span', {}, sw, l);
    }));
    canvas.onmousemove = (e) => {
      const r = canvas.getBoundingClientRect();
      const mx = (e.clientX - r.left) * (canvas.width / r.width);
      const my = (e.clientY - r.top) * (canvas.height / r.height);
      let best = -1;
      let bestD = 36;
      for (let i = 0; i < screen.length; i++) {
        const d = (screen[i][0] - mx) ** 2 + (screen[i][1] - my) ** 2;
        if (d < bestD) {
          best = i;
          bestD = d;
        }
      }
      const key = keySel.value;
      hover.textContent = best < 0 ? ' ' : 'id ' + pts[best].id + (key && pts[best].payload ? ' · ' + key + ' = ' + JSON.stringify(pts[best].payload[key]) : '');
    };
    canvas.dataset.points = String(screen.length);
  }

  async function run() {
    delete canvas.dataset.points;
    status.textContent = 'Fetching…';
    const n = Math.min(1000, Math.max(2, Number(sizeIn.value) || 500));
    const vector = vectorSel.value;
    let got;
    try {
      got = await sample(name, vector, n, randomSel.value === 'random');
    } catch (err) {
      status.replaceChildren(errorBox(err));
      return;
    }
    pts = got.filter((p) => vectorOf(p, vector));
    if (pts.length < 2) {
      status.textContent = 'Fewer than two points have this vector.';
      return;
    }
    status.textContent = 'Computing the components of ' + pts.length + ' points…';
    const t0 = performance.now();
    let res;
    try {
      res = await inWorker(pts.map((p) => vectorOf(p, vector)));
    } catch (err) {
      status.textContent = 'PCA failed: ' + err.message;
      return;
    }
    const ms = performance.now() - t0;
    xy = res.coords;
    const share = (v) => (res.total > 0 ? ((100 * v) / res.total).toFixed(1) + '%' : '–');
    status.textContent = pts.length + ' points of dimension ' + res.components[0].length + '; PC1 ' + share(res.variances[0]) +
      ' and PC2 ' + share(res.variances[1]) + ' of the variance; PCA took ' + ms.toFixed(0) + ' ms (' + res.steps + ' steps).';
    const keys = new Set();
    for (const p of pts) {
      for (const k of Object.keys(p.payload || {})) {
        keys.add(k);
      }
    }
    const keep = keySel.value;
    keySel.replaceChildren(h('option', { value: '' }, '(none)'), ...[...keys].sort().map((k) => h('option', { value: k }, k)));
    keySel.value = keys.has(keep) ? keep : '';
    draw();
  }
  runButton.addEventListener('click', run);
  keySel.addEventListener('change', () => {
    if (pts.length > 0) {
      draw();
    }
  });
  await run();
}
