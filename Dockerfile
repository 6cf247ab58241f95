# syntax=docker/dockerfile:1
#
# livestem server images, models baked in (models/ from the build context, without training checkpoints).
#   CPU (default target):  docker build -t livestem:cpu .
#   GPU (CUDA 12 EP):      docker build --target gpu -t livestem:gpu .
# Both run the compiled server, `node dist/server/main.js` (no tsx, no TypeScript, no dev dependencies), as the
# unprivileged user `node` (uid 1000) on port 8080, with a HEALTHCHECK on /healthz and SIGTERM → graceful drain
# (LIVESTEM_DRAIN_TIMEOUT_MS, default 30 s). The runtime stages hold only package.json, production node_modules,
# dist/ and models/.
#
# .npmrc sets ignore-scripts=true: no dependency install script runs, so nothing is downloaded besides the npm
# tarballs; onnxruntime-node's CUDA provider is fetched explicitly in deps-gpu.

ARG NODE_IMAGE=node:20-bookworm-slim
ARG CUDA_IMAGE=nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04

# ---- build: every dependency, then `npm run build` → dist/ (tsc-compiled server + prebuilt browser bundles) ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.ts ./scripts/
COPY server ./server
COPY client-sdk/src ./client-sdk/src
RUN npm run build

# ---- production dependencies (CPU) ----
# --omit=dev: no training/test/build packages (tfjs, vega, playwright-core, spessasynth, tap, tsx, typescript,
# esbuild …). --omit=optional: @tensorflow/tfjs-node-gpu (training only). onnxruntime-node ships binaries for five
# platforms (~290 MB); keep this one's (~45 MB).
FROM ${NODE_IMAGE} AS deps-cpu
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund \
 && npm cache clean --force \
 && keep="linux/$(node -p process.arch)" \
 && cd node_modules/onnxruntime-node/bin/napi-v6 \
 && for d in */*; do [ "$d" = "$keep" ] || rm -rf "$d"; done \
 && test -f "$keep/onnxruntime_binding.node"

# ---- production dependencies (GPU): + onnxruntime-node's CUDA 12 execution provider, fetched at build time ----
FROM deps-cpu AS deps-gpu
RUN ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js

# ---- CPU runtime ----
FROM ${NODE_IMAGE} AS cpu
ENV NODE_ENV=production \
    PORT=8080 \
    LIVESTEM_MODELS_DIR=/app/models \
    LIVESTEM_EXECUTION_PROVIDER=cpu
WORKDIR /app
COPY --from=deps-cpu --chown=node:node /app/node_modules ./node_modules
# package.json: "type": "module" makes dist/**/*.js ES modules.
COPY --chown=node:node package.json ./
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node models ./models
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
# Small semi-spaces: frequent cheap scavenges free output buffers before external memory forces full GCs (worker-pool.ts).
ENTRYPOINT ["node", "--max-semi-space-size=4", "dist/server/main.js"]

# ---- GPU runtime: CUDA 12 + cuDNN 9 user-space libraries; the driver comes from the host (--gpus) ----
FROM ${CUDA_IMAGE} AS gpu
COPY --from=deps-cpu /usr/local/bin/node /usr/local/bin/node
RUN groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --create-home --shell /usr/sbin/nologin node
ENV NODE_ENV=production \
    PORT=8080 \
    LIVESTEM_MODELS_DIR=/app/models \
    LIVESTEM_EXECUTION_PROVIDER=cuda
WORKDIR /app
COPY --from=deps-gpu --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json ./
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node models ./models
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
# Small semi-spaces: frequent cheap scavenges free output buffers before external memory forces full GCs (worker-pool.ts).
ENTRYPOINT ["node", "--max-semi-space-size=4", "dist/server/main.js"]

# `docker build .` without --target builds the last stage; keep CPU the default.
FROM cpu AS default
