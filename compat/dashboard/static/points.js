// The point browser: scroll with a filter, page by page.

import { collPath, result } from './api.js';
import { h } from './dom.js';
import { tabs } from './collections.js';
import { errorBox } from './auth.js';

// shortVector shows the first components of a vector and its size: dense,
// sparse ({indices, values}) or multi (a list of vectors).
export function shortVector(v, n = 6) {
  if (Array.isArray(v)) {
    if (v.length > 0 && Array.isArray(v[0])) {
      return v.length + ' × ' + shortVector(v[0], n);
    }
    const head = v.slice(0, n).map((x) => (typeof x === 'number' ? Number(x.toPrecision(4)) : x));
    return '[' + head.join(', ') + (v.length > n ? ', …' : '') + '] (' + v.length + ')';
  }
  if (v && Array.isArray(v.indices)) {
    const head = v.indices.slice(0, n).map((ix, i) => ix + ':' + Number(v.values[i].toPrecision(4)));
    return 'sparse {' + head.join(', ') + (v.indices.length > n ? ', …' : '') + '} (' + v.indices.length + ' nonzero)';
  }
  if (v && typeof v === 'object') {
    return Object.entries(v).map(([k, x]) => (k || '(default)') + ': ' + shortVector(x, n)).join('\n');
  }
  return String(v);
}

// shortJSON is a payload as one line of JSON, cut to max characters.
export function shortJSON(v, max = 600) {
  if (v === undefined || v === null) {
    return '';
  }
  const s = JSON.stringify(v);
  return s.length > max ? s.slice(0, max) + ' …' : s;
}

export async function render(box, name) {
  const filter = h('textarea', { id: 'points-filter', placeholder: '{"must": [{"key": "color", "match": {"value": "red"}}]}', rows: 4 });
  const limit = h('input', { type: 'number', id: 'points-limit', value: 20, min: 1, max: 1000 });
  const withVectors = h('input', { type: 'checkbox', id: 'points-vectors', checked: true });
  const out = h('div', { id: 'points-out' });
  const prev = h('button', { type: 'button', class: 'plain', id: 'points-prev', disabled: true }, '← Previous');
  const next = h('button', { type: 'button', class: 'plain', id: 'points-next', disabled: true }, 'Next →');
  const pageInfo = h('span', { class: 'muted', id: 'points-page' });
  // offsets[i] is the offset of page i; the first page has none.
  let offsets = [null];

  async function load(page) {
    let f;
    const text = filter.value.trim();
    if (text) {
      try {
        f = JSON.parse(text);
      } catch (err) {
        out.replaceChildren(h('p', { class: 'error' }, 'The filter is not JSON: ' + err.message));
        return;
      }
    }
    const body = { limit: Number(limit.value) || 20, with_payload: true, with_vector: withVectors.checked };
    if (f) {
      body.filter = f;
    }
    if (offsets[page] !== null) {
      body.offset = offsets[page];
    }
    let res;
    try {
      res = await result('POST', collPath(name) + '/points/scroll', body);
    } catch (err) {
      out.replaceChildren(errorBox(err));
      return;
    }
    offsets = offsets.slice(0, page + 1);
    if (res.next_page_offset !== null && res.next_page_offset !== undefined) {
      offsets.push(res.next_page_offset);
    }
    prev.disabled = page === 0;
    next.disabled = offsets.length <= page + 1;
    next.onclick = () => load(page + 1);
    prev.onclick = () => load(page - 1);
    pageInfo.textContent = 'Page ' + (page + 1) + ', ' + res.points.length + ' points' + (next.disabled ? ' (last page)' : '');
    if (res.points.length === 0) {
      out.replaceChildren(h('p', { class: 'muted' }, 'No points.'));
      return;
    }
    const rows = res.points.map((p) => h('tr', { class: 'point-row' },
      h('td', { class: 'mono' }, String(p.id)),
      h('td', {}, h('pre', {}, shortJSON(p.payload))),
      withVectors.checked ? h('td', {}, h('pre', {}, p.vector === undefined ? '' : shortVector(p.vector))) : null));
    out.replaceChildren(h('table', { id: 'points-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'ID'), h('th', {}, 'Payload'), withVectors.checked ? h('th', {}, 'Vectors') : null)),
      h('tbody', {}, rows)));
  }

  const run = () => {
    offsets = [null];
    load(0);
  };
  box.append(...tabs(name, 'points'),
    h('label', {}, 'Filter (JSON, optional)'), filter,
    h('div', { class: 'row' },
      h('label', {}, 'Page size ', limit),
      h('label', {}, withVectors, ' with vectors'),
      h('button', { type: 'button', id: 'points-load', onclick: run }, 'Scroll'),
      prev, next, pageInfo),
    out);
  run();
}
