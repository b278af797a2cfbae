// A small element builder: text is always set as text, never as HTML.

// h builds an element: attrs sets properties (class, href, on* handlers,
// dataset entries under data-*), children are nodes, strings or arrays.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) {
      continue;
    }
    if (k.startsWith('on')) {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'class') {
      el.className = v;
    } else if (k.startsWith('data-')) {
      el.dataset[k.slice(5).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = v;
    } else if (k in el) {
      el[k] = v;
    } else {
      el.setAttribute(k, v);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) {
      continue;
    }
    if (Array.isArray(c)) {
      append(el, c);
    } else {
      el.append(c instanceof Node ? c : String(c));
    }
  }
}

// table builds a table of the given column heads and rows of cells; a
// head starting with '#' is a numeric column.
export function table(heads, rows) {
  const num = heads.map((hd) => hd.startsWith('#'));
  return h('table', {},
    h('thead', {}, h('tr', {}, heads.map((hd, i) => h('th', { class: num[i] ? 'num' : '' }, num[i] ? hd.slice(1) : hd)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) => h('td', { class: num[i] ? 'num' : '' }, c))))));
}

// bytes formats a byte count.
export function bytes(n) {
  if (n === undefined || n === null || Number.isNaN(n)) {
    return '–';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = Number(n);
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return (i === 0 ? v.toFixed(0) : v.toFixed(1)) + ' ' + units[i];
}

// num formats a count with thousands separators.
export function num(n) {
  if (n === undefined || n === null) {
    return '–';
  }
  return Number(n).toLocaleString('en-US');
}

// json pretty-prints v.
export function json(v) {
  return JSON.stringify(v, null, 2);
}
