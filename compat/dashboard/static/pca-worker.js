// Runs pca2 off the page's thread: a message of rows is answered with
// pca2's result, or {error}.

import { pca2 } from './pca.js';

self.onmessage = (e) => {
  try {
    self.postMessage(pca2(e.data));
  } catch (err) {
    self.postMessage({ error: String(err) });
  }
};
