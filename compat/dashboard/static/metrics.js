// The server's metrics: key figures from GET /metrics.

import { request } from './api.js';
import { bytes, h, num, table } from './dom.js';
import { parse } from './prom.js';

export async function render(box) {
  box.append(h('h1', {}, 'Metrics'), h('p', { class: 'muted' }, 'Loading…'));
  const r = await request('GET', '/metrics');
  const samples = parse(r.body);
  const one = (name) => {
    const s = samples.find((x) => x.name === name);
    return s ? s.value : undefined;
  };
  const all = (name) => samples.filter((x) => x.name === name);
  const sum = (name) => all(name).reduce((a, s) => a + s.value, 0);

  const card = (label, value) => h('div', { class: 'card' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
  const info = all('app_info')[0];
  const responses = all('rest_responses_total');
  const errors = responses.filter((s) => Number(s.labels.status) >= 400).reduce((a, s) => a + s.value, 0);
  const grpc = sum('grpc_responses_total');
  const cards = h('div', { class: 'cards', id: 'metrics-cards' },
    card('Collections', num(one('collections_total'))),
    card('Vectors', num(one('collections_vector_total'))),
    card('REST responses', num(sum('rest_responses_total'))),
    card('REST errors (4xx, 5xx)', num(errors)),
    card('gRPC responses', num(grpc)),
    card('Resident memory', bytes(one('memory_resident_bytes'))),
    card('Heap allocated', bytes(one('memory_allocated_bytes'))),
    card('Goroutines', num(one('go_goroutines'))),
    card('Open files', num(one('process_open_fds'))));

  // Per endpoint: responses, errors and mean latency, summed over statuses.
  const ep = new Map();
  for (const s of responses) {
    const k = s.labels.method + ' ' + s.labels.endpoint;
    const e = ep.get(k) || { n: 0, err: 0, sum: 0 };
    e.n += s.value;
    if (Number(s.labels.status) >= 400) {
      e.err += s.value;
    }
    ep.set(k, e);
  }
  for (const s of all('rest_responses_duration_seconds_sum')) {
    const e = ep.get(s.labels.method + ' ' + s.labels.endpoint);
    if (e) {
      e.sum += s.value;
    }
  }
  const endpoints = [...ep.entries()].sort((a, b) => b[1].n - a[1].n)
    .map(([k, e]) => [h('code', {}, k), num(e.n), num(e.err), e.n > 0 ? ((1000 * e.sum) / e.n).toFixed(2) : '–']);

  // Per collection, from qlite's own series.
  const colls = new Map();
  const coll = (name) => {
    if (!colls.has(name)) {
      colls.set(name, { mem: 0 });
    }
    return colls.get(name);
  };
  for (const s of all('qlite_collection_points')) {
    coll(s.labels.collection).points = s.value;
  }
  for (const s of all('qlite_collection_segments')) {
    coll(s.labels.collection).segments = s.value;
  }
  for (const s of all('qlite_collection_memory_bytes')) {
    coll(s.labels.collection).mem += s.value;
  }
  for (const s of all('qlite_collection_disk_bytes')) {
    coll(s.labels.collection).disk = s.value;
  }
  const collRows = [...colls.entries()].sort().map(([n, c]) =>
    [h('a', { href: '#/collections/' + encodeURIComponent(n) }, n), num(c.points), num(c.segments), bytes(c.mem), bytes(c.disk)]);

  box.replaceChildren(h('h1', {}, 'Metrics'),
    info ? h('p', { class: 'muted' }, 'Reported as ' + info.labels.name + ' ' + info.labels.version + ' (Qdrant API).') : null,
    cards,
    h('h2', {}, 'REST endpoints'),
    endpoints.length ? table(['Endpoint', '#Responses', '#Errors', '#Mean ms'], endpoints) : h('p', { class: 'muted' }, 'No requests yet.'),
    h('h2', {}, 'Collections'),
    collRows.length ? table(['Collection', '#Points', '#Segments', '#Memory', '#Disk'], collRows) : h('p', { class: 'muted' }, 'None.'),
    h('details', {}, h('summary', {}, 'Raw /metrics (' + samples.length + ' samples)'), h('pre', { id: 'metrics-raw' }, r.body)));
}
