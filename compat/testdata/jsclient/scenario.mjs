// A CRUD + search + filter + scroll scenario through the official REST
// client, against the qlite server at QLITE_URL. Every result is checked
// against what the scenario wrote (brute force in JavaScript); the first
// difference throws and the process exits with status 1.
import { QdrantClient } from "@qdrant/js-client-rest";

const url = process.env.QLITE_URL;
const client = new QdrantClient({ url, checkCompatibility: false });
const name = "js_scenario";
const dim = 4;

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const rand = rng(7);
const vec = () => Array.from({ length: dim }, () => rand() * 2 - 1);
const dist = (a, b) => Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0));

if ((await client.collectionExists(name)).exists) await client.deleteCollection(name);
assert(await client.createCollection(name, { vectors: { size: dim, distance: "Euclid" } }), "create");

const points = [];
for (let i = 1; i <= 120; i++) {
  points.push({ id: i, vector: vec(), payload: { i, group: i % 3, name: `p${i}`, tags: i % 2 ? ["odd"] : ["even"] } });
}
const up = await client.upsert(name, { wait: true, points });
assert(up.status === "completed", "upsert status " + up.status);

// Retrieve, count.
const got = await client.retrieve(name, { ids: [1, 2, 500], with_payload: true });
assert(got.length === 2 && got[0].payload.name === "p1", "retrieve " + JSON.stringify(got));
const cnt = await client.count(name, { filter: { must: [{ key: "group", match: { value: 1 } }] }, exact: true });
assert(cnt.count === points.filter((p) => p.payload.group === 1).length, "count " + cnt.count);

// Search (legacy and query API) against brute force.
const q = vec();
const want = points.map((p) => ({ id: p.id, d: dist(q, p.vector) })).sort((a, b) => a.d - b.d).slice(0, 5);
const res = await client.search(name, { vector: q, limit: 5, params: { exact: true } });
assert(res.map((r) => r.id).join() === want.map((w) => w.id).join(), "search ids " + JSON.stringify(res));
res.forEach((r, i) => assert(Math.abs(r.score - want[i].d) < 1e-4, `score ${r.score} vs ${want[i].d}`));
const qr = await client.query(name, { query: q, limit: 5, params: { exact: true }, filter: { must: [{ key: "tags", match: { value: "odd" } }] } });
const wantOdd = points.filter((p) => p.payload.i % 2).map((p) => ({ id: p.id, d: dist(q, p.vector) })).sort((a, b) => a.d - b.d).slice(0, 5);
assert(qr.points.map((r) => r.id).join() === wantOdd.map((w) => w.id).join(), "query filter " + JSON.stringify(qr.points));

// Scroll in pages.
let offset = undefined;
const seen = [];
do {
  const page = await client.scroll(name, { limit: 25, offset, with_payload: false });
  page.points.forEach((p) => seen.push(p.id));
  offset = page.next_page_offset ?? undefined;
} while (offset !== undefined);
assert(seen.length === 120 && seen.every((id, i) => id === i + 1), "scroll " + seen.join());

// Payload update and delete.
await client.setPayload(name, { payload: { flag: true }, points: [1, 2, 3], wait: true });
const f = await client.count(name, { filter: { must: [{ key: "flag", match: { value: true } }] } });
assert(f.count === 3, "set_payload count " + f.count);
await client.delete(name, { points: [1, 2], wait: true });
const after = await client.count(name, {});
assert(after.count === 118, "delete count " + after.count);

// Errors.
let threw = false;
try {
  await client.upsert(name, { wait: true, points: [{ id: 5, vector: [1, 2] }] });
} catch (e) {
  threw = e.status === 400 && /dimension/i.test(JSON.stringify(e.data ?? e.message));
}
assert(threw, "wrong dimension must be a 400 naming the dimension");
threw = false;
try {
  await client.getCollection("no_such_collection");
} catch (e) {
  threw = e.status === 404;
}
assert(threw, "unknown collection must be a 404");

// Exact ids beyond 2^53. The client sends and reads BigInt ids where the
// runtime has JSON.rawJSON (Node 21+); elsewhere the same check goes through
// fetch with the JSON text the client would send.
const big = 9007199254740993n; // 2^53 + 1
if ("rawJSON" in JSON) {
  await client.upsert(name, { wait: true, points: [{ id: big, vector: vec(), payload: { big: true } }] });
  const gb = await client.retrieve(name, { ids: [big] });
  assert(gb.length === 1 && BigInt(gb[0].id) === big, "big id " + JSON.stringify(gb.map((p) => String(p.id))));
} else {
  const v = JSON.stringify(vec());
  const put = await fetch(`${url}/collections/${name}/points?wait=true`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: `{"points":[{"id":${big},"vector":${v},"payload":{"big":true}}]}`,
  });
  assert(put.status === 200, "upsert big id: " + put.status);
  const r = await fetch(`${url}/collections/${name}/points`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: `{"ids":[${big}],"with_payload":true}`,
  });
  const text = await r.text();
  assert(text.includes(`"id":${big}`), "big id not exact: " + text);
}

await client.deleteCollection(name);
console.log("ok: js-client-rest scenario");
