#!/usr/bin/env bash
# Builds qlite's container image from the Dockerfile with buildah, without a
# registry, and checks what the image holds and that it serves.
#
# Base images cannot be pulled where no registry is reachable, so the build
# stage's image (GO_IMAGE, golang:1.26-bookworm by default) is replaced by a
# local one made of a static busybox, into whose builds this machine's Go
# toolchain (GOROOT) and its module and build caches (GOMODCACHE, GOCACHE)
# are mounted, so that a second run compiles little and downloads nothing;
# the runtime stage is FROM scratch and needs nothing.
# Every other instruction of the Dockerfile runs as written.
#
# Checks: the image's configuration (user 1000:1000, ports 6333 and 6334,
# the /qdrant/storage volume and QDRANT__STORAGE__STORAGE_PATH, RUN_MODE,
# the health check, entrypoint and command); its files (a static binary
# built with -trimpath and CGO_ENABLED=0 that reports the build date, the
# storage directory owned by the user, /etc/passwd, CA certificates, /tmp,
# nothing else); and, run as the image's user, that qlite serve reads
# /qdrant/config/production.yaml, answers, and stores a collection under
# /qdrant/storage and nothing elsewhere, and that the image's health check command passes while
# it serves and fails once it has stopped.
#
# Needs root, buildah, busybox (static), go, file, curl and python3. Exits 0 after the checks,
# 1 when one fails, 2 when a tool is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in buildah go curl python3 file; do
  command -v "$tool" >/dev/null || { echo "check-image: $tool not installed" >&2; exit 2; }
done
busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
  echo "check-image: a static busybox is needed (Debian: busybox-static)" >&2
  exit 2
fi
export BUILDAH_ISOLATION=chroot
# One run at a time: runs share the images' names.
exec 9>"${TMPDIR:-/tmp}/qlite-check-image.lock"
flock 9
tag=localhost/qlite:check
base=localhost/qlite-check-go:latest
fail() { echo "check-image: FAIL: $*" >&2; exit 1; }

ctrs=()
serve_pid=
storage=
buildtmp=
cleanup() {
  if [ -n "$buildtmp" ]; then rm -rf "$buildtmp"; fi
  if [ -n "$serve_pid" ]; then kill -TERM -- "-$serve_pid" 2>/dev/null || true; fi
  if [ -n "$storage" ]; then rm -rf "$storage"; fi
  for c in "${ctrs[@]}"; do buildah rm "$c" >/dev/null 2>&1 || true; done
  # The images take 340 MB: a run leaves none behind.
  buildah rmi "$tag" "$base" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# The images of an earlier run.
buildah rmi "$tag" "$base" >/dev/null 2>&1 || true

echo "== the build stage's base: $base (busybox; this machine's Go $(go env GOVERSION) mounted)"
c=$(buildah from scratch); ctrs+=("$c")
mnt=$(buildah mount "$c")
mkdir -p "$mnt/bin" "$mnt/usr/local" "$mnt/etc/ssl/certs" "$mnt/tmp" "$mnt/root" "$mnt/go"
chmod 1777 "$mnt/tmp"
cp "$busybox" "$mnt/bin/busybox"
for app in $("$busybox" --list); do [ -e "$mnt/bin/$app" ] || ln -s busybox "$mnt/bin/$app"; done
mkdir "$mnt/usr/local/go"
cp /etc/ssl/certs/ca-certificates.crt "$mnt/etc/ssl/certs/"
buildah umount "$c" >/dev/null
buildah config --env PATH=/usr/local/go/bin:/go/bin:/bin --env GOPATH=/go --env GOTOOLCHAIN=local \
  --env HOME=/root --env GOMODCACHE=/host/gomodcache --env GOCACHE=/host/gocache "$c"
buildah commit -q "$c" "$base" >/dev/null

echo "== buildah bud (the Dockerfile, GO_IMAGE=$base)"
# A linked git worktree has a .git file that points outside the context.
buildvcs=auto
[ -d .git ] || buildvcs=false
date=2026-01-02T03:04:05Z
# The Dockerfile's cache mounts (unused here) go to a directory removed at
# exit rather than /var/tmp.
buildtmp=$(mktemp -d)
mkdir -p "$(go env GOMODCACHE)" "$(go env GOCACHE)"
TMPDIR="$buildtmp" buildah bud --format docker --layers=false -t "$tag" \
  --build-arg GO_IMAGE="$base" --build-arg TARGETARCH="$(go env GOARCH)" --build-arg BUILDVCS="$buildvcs" \
  --build-arg BUILD_DATE="$date" \
  -v "$(go env GOROOT):/usr/local/go:ro" -v "$(go env GOMODCACHE):/host/gomodcache" -v "$(go env GOCACHE):/host/gocache" .
buildah rmi "$base" >/dev/null

echo "== the image's configuration"
cfg=$(buildah inspect --type image "$tag")
python3 - "$cfg" <<'PY' || fail "configuration"
import json, sys
c = json.loads(sys.argv[1])["Docker"]["config"]
want = {
    "User": "1000:1000",
    "WorkingDir": "/qdrant",
    "ExposedPorts": {"6333/tcp": {}, "6334/tcp": {}},
    "Volumes": {"/qdrant/storage": {}},
    "Entrypoint": ["/qdrant/qlite"],
    "Cmd": ["serve"],
}
bad = [f"{k}: {c.get(k)!r}, want {v!r}" for k, v in want.items() if c.get(k) != v]
for env in ["QDRANT__STORAGE__STORAGE_PATH=/qdrant/storage", "RUN_MODE=production"]:
    if env not in (c.get("Env") or []):
        bad.append(f"Env: {c.get('Env')!r} lacks {env}")
hc = c.get("Healthcheck") or {}
if hc.get("Test") != ["CMD", "/qdrant/qlite", "healthcheck"]:
    bad.append(f"Healthcheck: {hc!r}")
for b in bad:
    print("  ", b)
sys.exit(1 if bad else 0)
PY
echo "ok: user, workdir, ports, volume, env, healthcheck, entrypoint"

echo "== the image's files"
c=$(buildah from "$tag"); ctrs+=("$c")
mnt=$(buildah mount "$c")
top=$(cd "$mnt" && ls -A | sort | tr '\n' ' ')
[ "$top" = "etc qdrant tmp " ] || fail "top-level entries: $top"
file "$mnt/qdrant/qlite" | grep -q 'statically linked' || fail "binary not static: $(file "$mnt/qdrant/qlite")"
info=$(go version -m "$mnt/qdrant/qlite")
for want in 'CGO_ENABLED=0' '-trimpath=true'; do
  grep -qF -- "$want" <<<"$info" || fail "build info lacks $want"
done
[ "$(stat -c %u:%g "$mnt/qdrant/storage")" = 1000:1000 ] || fail "/qdrant/storage owned by $(stat -c %u:%g "$mnt/qdrant/storage")"
[ "$(stat -c %u "$mnt/qdrant/qlite")" = 0 ] || fail "the binary is not root's: the user could replace it"
[ "$(stat -c %a "$mnt/tmp")" = 1777 ] || fail "/tmp mode $(stat -c %a "$mnt/tmp")"
grep -q '^qlite:x:1000:1000:' "$mnt/etc/passwd" || fail "no qlite user in /etc/passwd"
[ -s "$mnt/etc/ssl/certs/ca-certificates.crt" ] || fail "no CA certificates"
echo "ok: $(cd "$mnt" && find . -mindepth 1 | sort | tr '\n' ' ')"
# -trimpath leaves -ldflags out of the build info: ask the binary.
version=$(buildah run --user 1000:1000 "$c" /qdrant/qlite version --json)
grep -qF "\"build_date\": \"$date\"" <<<"$version" || fail "qlite version --json: $version"
echo "ok: $(grep -F -e 'CGO_ENABLED' -e '-trimpath' <<<"$info" | tr -s '\t ' ' ' | tr '\n' ';') $(tr -d '\n' <<<"$version" | tr -s ' ')"

echo "== qlite serve in the image, as its user"
# chroot isolation shares the host's network: free ports of this machine.
read -r http grpc < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
# The storage is a directory of this machine the image's user owns, as with
# docker run -v DIR:/qdrant/storage; the address is set in a config file
# mounted where qdrant/qdrant reads one, and the health check finds it there
# too.
storage=$(mktemp -d)
mkdir "$storage/config" "$storage/data"
chown 1000:1000 "$storage/data"
printf 'service:\n  host: 127.0.0.1\n  http_port: %s\n  grpc_port: %s\n' "$http" "$grpc" > "$storage/config/production.yaml"
chmod -R a+rX "$storage"
env=(-v "$storage/data:/qdrant/storage" -v "$storage/config:/qdrant/config:ro")
# buildah run mounts an anonymous copy of each VOLUME of the image, and when
# -v names the same path, which of the two ends up mounted depends on how its
# (unstable) sort orders the machine's other mounts. The working container
# forgets the VOLUME (the image's own configuration was checked above), so
# that the directory given with -v is the one mounted, as with docker run.
buildah config --volume /qdrant/storage- "$c"
# What the root file system holds once buildah has made its mount points:
# serving must add nothing to it (Kubernetes runs it read-only).
buildah run --user 1000:1000 "${env[@]}" "$c" /qdrant/qlite version >/dev/null
rootfs_before=$(cd "$mnt" && find . | sort)
setsid buildah run --user 1000:1000 "${env[@]}" "$c" /qdrant/qlite serve > /tmp/qlite-check-image.log 2>&1 &
serve_pid=$!
hc() { buildah run --user 1000:1000 "${env[@]}" "$c" /qdrant/qlite healthcheck; }
for _ in $(seq 100); do hc >/dev/null 2>&1 && break; sleep 0.2; done
hc || { cat /tmp/qlite-check-image.log; fail "the health check does not pass while serving"; }
curl -fsS -X PUT "http://127.0.0.1:$http/collections/check" -H 'Content-Type: application/json' \
  -d '{"vectors":{"size":2,"distance":"Cosine"}}' >/dev/null || fail "create a collection"
curl -fsS -X PUT "http://127.0.0.1:$http/collections/check/points?wait=true" -H 'Content-Type: application/json' \
  -d '{"points":[{"id":1,"vector":[0.6,0.8]}]}' >/dev/null || fail "upsert a point"
n=$(curl -fsS -X POST "http://127.0.0.1:$http/collections/check/points/count" -H 'Content-Type: application/json' -d '{}')
grep -q '"count":1' <<<"$n" || fail "count: $n"
kill -TERM -- "-$serve_pid"
wait "$serve_pid" || true
serve_pid=
written=$(find "$storage/data" -mindepth 1 | wc -l)
if [ "$written" = 0 ]; then
  cat /tmp/qlite-check-image.log
  echo "the container's /qdrant: $(cd "$mnt/qdrant" && find . | tr '\n' ' ')"
  fail "nothing written under /qdrant/storage"
fi
others=$(find "$storage/data" ! -uid 1000 | wc -l)
[ "$others" = 0 ] || fail "files under /qdrant/storage not owned by uid 1000"
if hc >/dev/null 2>&1; then fail "the health check passes with the server stopped"; fi
rootfs_after=$(cd "$mnt" && find . | sort)
[ "$rootfs_before" = "$rootfs_after" ] || fail "serving wrote to the root file system: $(diff <(echo "$rootfs_before") <(echo "$rootfs_after") | tr '\n' ' ')"
for want in /qdrant/storage config/production.yaml; do
  grep -q "$want" /tmp/qlite-check-image.log || { cat /tmp/qlite-check-image.log; fail "serve does not mention $want"; }
done
echo "ok: served on 127.0.0.1:$http (from /qdrant/config/production.yaml), health check passed, stored $written files as uid 1000 under /qdrant/storage and nothing elsewhere, health check failed after stop"
buildah umount "$c" >/dev/null
echo "check-image: all checks passed"
