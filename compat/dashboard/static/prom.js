// A reader of the Prometheus text format, enough for the metrics view.

// parse returns the samples of a /metrics answer as {name, labels, value},
// skipping comments; a line it cannot read is skipped too.
export function parse(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) {
      continue;
    }
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/);
    if (!m) {
      continue;
    }
    out.push({ name: m[1], labels: m[3] ? labels(m[3]) : {}, value: Number(m[4] === '+Inf' ? Infinity : m[4]) });
  }
  return out;
}

// labels reads name="value" pairs, with \" \\ and \n escapes.
function labels(s) {
  const out = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  let m;
  while ((m = re.exec(s)) !== null) {
    out[m[1]] = m[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
  }
  return out;
}
