// The collections list and one collection's information.

import { collPath, result } from './api.js';
import { bytes, h, json, num, table } from './dom.js';

export async function renderList(box) {
  box.append(h('h1', {}, 'Collections'), h('p', { class: 'muted' }, 'Loading…'));
  const list = await result('GET', '/collections');
  const names = list.collections.map((c) => c.name).sort();
  const infos = await Promise.all(names.map((n) => result('GET', collPath(n)).catch((err) => ({ error: err.message }))));
  const rows = names.map((n, i) => {
    const info = infos[i];
    if (info.error) {
      return [h('a', { href: '#/collections/' + encodeURIComponent(n) }, n), h('span', { class: 'error' }, info.error), '', '', '', ''];
    }
    const q = info.qlite || {};
    return [
      h('a', { href: '#/collections/' + encodeURIComponent(n), class: 'collection-link' }, n),
      h('span', { class: 'status-' + info.status }, info.status),
      num(info.points_count),
      num(info.segments_count),
      bytes(q.ram_bytes && q.ram_bytes.total),
      bytes(q.disk_bytes),
    ];
  });
  box.replaceChildren(h('h1', {}, 'Collections'),
    names.length === 0 ? h('p', { class: 'muted', id: 'no-collections' }, 'No collections yet.')
      : table(['Name', 'Status', '#Points', '#Segments', '#Memory', '#Disk'], rows));
}

// tabs is the bar of a collection's views.
export function tabs(name, active) {
  const base = '#/collections/' + encodeURIComponent(name);
  const items = [['info', 'Info', ''], ['points', 'Points', '/points'], ['query', 'Query', '/query'], ['projection', 'Projection', '/projection']];
  return [
    h('h1', {}, h('a', { href: '#/collections' }, 'Collections'), ' / ', name),
    h('nav', { class: 'tabs' }, items.map(([id, label, suffix]) =>
      h('a', { href: base + suffix, class: id === active ? 'active' : '', 'data-tab': id }, label))),
  ];
}

export async function renderInfo(box, name) {
  box.append(...tabs(name, 'info'), h('p', { class: 'muted' }, 'Loading…'));
  const info = await result('GET', collPath(name));
  const q = info.qlite || {};
  const card = (label, value, cls) => h('div', { class: 'card' }, h('div', { class: 'label' }, label), h('div', { class: 'value ' + (cls || '') }, value));
  const cards = h('div', { class: 'cards', id: 'collection-cards' },
    card('Status', info.status, 'status-' + info.status),
    card('Optimizer', typeof info.optimizer_status === 'string' ? info.optimizer_status : 'error'),
    card('Points', num(info.points_count)),
    card('Indexed vectors', num(info.indexed_vectors_count)),
    card('Segments', num(info.segments_count)),
    card('Memory', bytes(q.ram_bytes && q.ram_bytes.total)),
    card('Disk', bytes(q.disk_bytes)));
  const parts = [...tabs(name, 'info'), cards];
  if (info.optimizer_status && info.optimizer_status.error) {
    parts.push(h('p', { class: 'error' }, 'Optimizer: ' + info.optimizer_status.error));
  }
  if (q.ram_bytes) {
    const kinds = Object.entries(q.ram_bytes).filter(([k]) => k !== 'total');
    const disk = [['vectors on disk', q.vectors_on_disk_bytes], ['graph on disk', q.graph_on_disk_bytes],
      ['quantized on disk', q.quantized_on_disk_bytes], ['store on disk', q.disk_bytes]];
    parts.push(h('h2', {}, 'Memory and disk'),
      table(['Part', '#Memory'], kinds.map(([k, v]) => [k.replace(/_/g, ' '), bytes(v)])),
      h('p', {}),
      table(['File', '#Bytes'], disk.filter(([, v]) => v !== undefined).map(([k, v]) => [k, bytes(v)])));
    if (q.payload_cache) {
      parts.push(h('p', { class: 'muted' }, 'Payload cache: ' + num(q.payload_cache.hits) + ' hits, ' + num(q.payload_cache.misses) + ' misses.'));
    }
  }
  const schema = Object.entries(info.payload_schema || {});
  parts.push(h('h2', {}, 'Payload indexes'),
    schema.length === 0 ? h('p', { class: 'muted' }, 'None.')
      : table(['Field', 'Type', '#Points'], schema.map(([k, v]) => [k, v.data_type + (v.params ? ' ' + JSON.stringify(v.params) : ''), num(v.points)])));
  parts.push(h('h2', {}, 'Configuration'), h('pre', { id: 'collection-config' }, json(info.config)));
  box.replaceChildren(...parts);
}
