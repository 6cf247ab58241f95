#!/usr/bin/env bash
# Measures what the Docker image's runtime stage adds on top of its base image, without a Docker engine: the same
# production install as the Dockerfile's deps-cpu stage (npm ci --omit=dev --omit=optional, onnxruntime-node pruned
# to this platform's binaries), dist/ from `npm run build`, models/ without checkpoints and golden vectors, assembled
# in a temporary /app-like folder. Then starts `node dist/server/main.js` from there, with no dev dependency in reach,
# and checks /healthz and the prebuilt SDK bundle.
#   bash scripts/image-payload.sh            (needs the npm registry; leaves nothing behind)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
app=$(mktemp -d "${TMPDIR:-/tmp}/livestem-payload-XXXXXX")
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$app"' EXIT

node_modules/.bin/tsx scripts/build.ts --if-stale
cp package.json package-lock.json .npmrc "$app/"
(
  cd "$app"
  npm ci --omit=dev --omit=optional --no-audit --no-fund --loglevel=error >/dev/null
  keep="linux/$(node -p process.arch)"
  cd node_modules/onnxruntime-node/bin/napi-v6
  for d in */*; do [ "$d" = "$keep" ] || rm -rf "$d"; done
)
rm "$app/package-lock.json" "$app/.npmrc"
cp -r dist "$app/dist"
tar cf - --exclude='models/*/checkpoint' --exclude='models/*/golden' models | tar xf - -C "$app"

echo "payload of the runtime stage (on top of the base image):"
(cd "$app" && du -sh node_modules dist models package.json && du -sch node_modules dist models package.json | tail -n 1)
echo "production packages: $(cd "$app" && npm ls --omit=dev --omit=optional --parseable --all 2>/dev/null | tail -n +2 | wc -l)"

port=$((20000 + RANDOM % 20000))
(cd "$app" && NODE_ENV=production exec node dist/server/main.js --port "$port" --host 127.0.0.1 >/dev/null 2>&1) &
pid=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "http://127.0.0.1:$port/healthz" >/dev/null
curl -fs "http://127.0.0.1:$port/sdk/livestem.js" | tail -n 1 | grep -q 'sourceMappingURL=livestem.js.map'
echo "node dist/server/main.js from the payload alone: /healthz ok, prebuilt /sdk/livestem.js ok"
