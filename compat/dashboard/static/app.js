// The UI's entry point: the hash router, the API key dialog and the
// server line in the header.

import { request } from './api.js';
import { errorBox, initKeyDialog } from './auth.js';
import { h } from './dom.js';
import * as collections from './collections.js';
import * as points from './points.js';
import * as query from './query.js';
import * as projection from './projection.js';
import * as metrics from './metrics.js';

// routes map a hash path to a view; the captured name is the collection's.
const routes = [
  [/^\/collections\/?$/, collections.renderList, 'collections'],
  [/^\/collections\/([^/]+)\/?$/, collections.renderInfo, 'collections'],
  [/^\/collections\/([^/]+)\/points$/, points.render, 'collections'],
  [/^\/collections\/([^/]+)\/query$/, query.render, 'collections'],
  [/^\/collections\/([^/]+)\/projection$/, projection.render, 'collections'],
  [/^\/metrics$/, metrics.render, 'metrics'],
];

const view = document.getElementById('view');

function route() {
  const path = location.hash.replace(/^#/, '') || '/collections';
  for (const [re, render, nav] of routes) {
    const m = path.match(re);
    if (m) {
      for (const a of document.querySelectorAll('header nav a')) {
        a.classList.toggle('active', a.dataset.nav === nav);
      }
      const args = m.slice(1).map(decodeURIComponent);
      show(render, args);
      return;
    }
  }
  view.replaceChildren(h('p', { class: 'error' }, 'No such page: ' + path));
}

// show renders a view into a fresh container, so that a view still
// loading when the user moves on writes into a detached node.
async function show(render, args) {
  const box = h('div', { class: 'page' });
  view.replaceChildren(box);
  try {
    await render(box, ...args);
  } catch (err) {
    box.replaceChildren(errorBox(err));
  }
}

initKeyDialog(() => {
  loadServer();
  route();
});

// loadServer shows the server's version in the header (GET / needs no key).
async function loadServer() {
  try {
    const r = await request('GET', '/');
    const q = r.body.qlite || {};
    const version = q.version && q.version !== '(devel)' ? q.version : 'devel';
    document.getElementById('server').textContent =
      'qlite ' + version + (q.commit ? ' ' + q.commit.slice(0, 12) : '') + ' · Qdrant API ' + r.body.version;
  } catch (err) {
    document.getElementById('server').textContent = 'server unreachable: ' + err.message;
  }
}

window.addEventListener('hashchange', route);
loadServer();
route();
