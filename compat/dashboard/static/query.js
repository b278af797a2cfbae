// The query console: a universal query in, its results, timing and plan
// out.

import { collPath, request, result } from './api.js';
import { h, json, table } from './dom.js';
import { tabs } from './collections.js';
import { errorBox } from './auth.js';
import { shortJSON } from './points.js';

// planLabels describe the figures of the Qlite-Query-Plan header, keyed by
// the trace attributes they come from.
const planLabels = [
  ['qlite.plan', 'Plan (how the segments were searched)'],
  ['qlite.segments', 'Segments searched'],
  ['qlite.vectors_scored', 'Vectors scored'],
  ['qlite.ef', 'Graph ef'],
  ['qlite.limit', 'Limit'],
  ['qlite.filter.estimated_cardinality', 'Filter: estimated matching points'],
  ['qlite.filter.actual_candidates', 'Filter: candidates from payload indexes'],
];

// defaultQuery is a first query for the collection: the nearest points to
// its first point, on its first vector.
async function defaultQuery(name) {
  const q = { query: 0, limit: 5, with_payload: true };
  try {
    const page = await result('POST', collPath(name) + '/points/scroll', { limit: 1, with_payload: false, with_vector: false });
    if (page.points.length > 0) {
      q.query = page.points[0].id;
    }
    const info = await result('GET', collPath(name));
    const vectors = info.config.params.vectors;
    if (vectors && vectors.size === undefined) {
      const names = Object.keys(vectors);
      if (names.length > 0) {
        q.using = names[0];
      }
    }
  } catch {
    // The console still works with the plain default.
  }
  return q;
}

export async function render(box, name) {
  const input = h('textarea', { id: 'query-input', rows: 10, spellcheck: false });
  const out = h('div', { id: 'query-out' });
  const runButton = h('button', { type: 'button', id: 'query-run' }, 'Run');
  box.append(...tabs(name, 'query'),
    h('p', { class: 'muted' }, 'A request body for POST ', h('code', {}, '/collections/' + name + '/points/query'),
      '. Ctrl+Enter runs it.'),
    input, h('div', { class: 'row' }, runButton), out);
  input.value = json(await defaultQuery(name));

  async function run() {
    runButton.disabled = true;
    out.replaceChildren(h('p', { class: 'muted' }, 'Running…'));
    try {
      const r = await request('POST', collPath(name) + '/points/query', input.value, { 'Qlite-Explain': '1' });
      out.replaceChildren(...answer(r));
    } catch (err) {
      out.replaceChildren(errorBox(err));
    } finally {
      runButton.disabled = false;
    }
  }
  runButton.addEventListener('click', run);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      run();
    }
  });
}

// answer shows a query's answer: timing, plan, results and the raw body.
function answer(r) {
  const pts = (r.body.result && r.body.result.points) || [];
  const parts = [h('p', { id: 'query-timing' },
    h('b', {}, pts.length + ' results'), ' · server ', (r.body.time * 1000).toFixed(2), ' ms · round trip ', r.ms.toFixed(1), ' ms')];
  const planText = r.headers.get('Qlite-Query-Plan');
  if (planText) {
    const plan = JSON.parse(planText);
    parts.push(h('h2', {}, 'Plan'));
    if (!plan['qlite.segments']) {
      parts.push(h('p', { class: 'muted', id: 'query-plan' }, 'No vector search ran (a scroll, a sample, or an empty collection).'));
    } else {
      parts.push(h('div', { id: 'query-plan' }, table(['Figure', '#Value'],
        planLabels.filter(([k]) => plan[k] !== undefined).map(([k, label]) => [h('span', { title: k }, label), String(plan[k])]))));
    }
  }
  parts.push(h('h2', {}, 'Results'));
  if (pts.length === 0) {
    parts.push(h('p', { class: 'muted' }, 'No points.'));
  } else {
    parts.push(h('table', { id: 'query-results' },
      h('thead', {}, h('tr', {}, h('th', { class: 'num' }, '#'), h('th', {}, 'ID'), h('th', { class: 'num' }, 'Score'), h('th', {}, 'Payload'))),
      h('tbody', {}, pts.map((p, i) => h('tr', { class: 'result-row' },
        h('td', { class: 'num' }, String(i + 1)),
        h('td', { class: 'mono' }, String(p.id)),
        h('td', { class: 'num' }, p.score === undefined ? '' : String(p.score)),
        h('td', {}, h('pre', {}, shortJSON(p.payload))))))));
  }
  parts.push(h('details', {}, h('summary', {}, 'Raw answer'), h('pre', {}, json(r.body))));
  return parts;
}
