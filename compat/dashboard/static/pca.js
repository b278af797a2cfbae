// Principal component analysis by power iteration, for the projection
// view: no library, no covariance matrix (each step multiplies by the
// centred data twice, O(n·d)).

// pca2 projects rows (arrays of d numbers) onto their first two principal
// components. It returns {coords: [[x, y], ...], components: [v1, v2],
// variances: [λ1, λ2], total: the total variance, steps: the iterations
// run}; variances are those of the data along each component (the
// covariance's eigenvalues). A component is found by power iteration with
// the ones before it projected out, stopping when the variance along it
// changes by less than a relative tol from one step to the next, or after
// maxIter steps: where two eigenvalues are nearly equal the direction
// converges slowly, and any direction in their plane shows the data as
// well. The start vector is fixed, so the result is reproducible.
export function pca2(rows, { maxIter = 100, tol = 1e-9 } = {}) {
  const n = rows.length;
  const d = n > 0 ? rows[0].length : 0;
  const x = new Float64Array(n * d);
  const mean = new Float64Array(d);
  for (const r of rows) {
    for (let j = 0; j < d; j++) {
      mean[j] += r[j] / n;
    }
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = rows[i][j] - mean[j];
      x[i * d + j] = v;
      total += v * v;
    }
  }
  const denom = Math.max(n - 1, 1);
  total /= denom;

  const components = [];
  const variances = [];
  let steps = 0;
  const xv = new Float64Array(n);
  for (let c = 0; c < Math.min(2, d); c++) {
    // A fixed start that is not orthogonal to any axis.
    let v = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      v[j] = 1 + ((j * 7919 + c * 104729) % 97) / 97;
    }
    deflate(v, components);
    normalize(v);
    let lambda = 0;
    for (let it = 0; it < maxIter; it++) {
      steps++;
      // w = Xᵀ X v / (n - 1)
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) {
          s += x[i * d + j] * v[j];
        }
        xv[i] = s;
      }
      const w = new Float64Array(d);
      for (let i = 0; i < n; i++) {
        const s = xv[i];
        if (s === 0) {
          continue;
        }
        for (let j = 0; j < d; j++) {
          w[j] += x[i * d + j] * s;
        }
      }
      for (let j = 0; j < d; j++) {
        w[j] /= denom;
      }
      deflate(w, components);
      const prev = lambda;
      lambda = normalize(w);
      if (lambda === 0) {
        break; // no variance left
      }
      v = w;
      if (Math.abs(lambda - prev) <= tol * lambda) {
        break;
      }
    }
    components.push(v);
    variances.push(lambda);
  }
  while (components.length < 2) {
    components.push(new Float64Array(d));
    variances.push(0);
  }
  const coords = new Array(n);
  for (let i = 0; i < n; i++) {
    let a = 0;
    let b = 0;
    for (let j = 0; j < d; j++) {
      a += x[i * d + j] * components[0][j];
      b += x[i * d + j] * components[1][j];
    }
    coords[i] = [a, b];
  }
  return { coords, components: components.map((v) => Array.from(v)), variances, total, steps };
}

// deflate removes from v its parts along the unit vectors of basis.
function deflate(v, basis) {
  for (const u of basis) {
    let dot = 0;
    for (let j = 0; j < v.length; j++) {
      dot += v[j] * u[j];
    }
    for (let j = 0; j < v.length; j++) {
      v[j] -= dot * u[j];
    }
  }
}

// normalize scales v to unit length and returns its former length.
function normalize(v) {
  let s = 0;
  for (let j = 0; j < v.length; j++) {
    s += v[j] * v[j];
  }
  s = Math.sqrt(s);
  if (s > 0) {
    for (let j = 0; j < v.length; j++) {
      v[j] /= s;
    }
  }
  return s;
}
