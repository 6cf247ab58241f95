# syntax=docker/dockerfile:1
#
# livestem server images, models baked in (models/ from the build context).
#   CPU (default target):  docker build -t livestem:cpu .
#   GPU (CUDA 12 EP):      docker build --target gpu -t livestem:gpu .
# Both run `node --import tsx server/main.ts` as the unprivileged user `node` (uid 1000) on port 8080, with a
# HEALTHCHECK on /healthz and SIGTERM → graceful drain (LIVESTEM_DRAIN_TIMEOUT_MS, default 30 s).

ARG NODE_IMAGE=node:20-bookworm-slim
ARG CUDA_IMAGE=nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04

# ---- dependencies (CPU): onnxruntime-node's bundled CPU binaries only ----
FROM ${NODE_IMAGE} AS deps-cpu
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# --omit=optional: tfjs-node-gpu is for training only and downloads libtensorflow.
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=optional --no-audit --no-fund \
 && npm cache clean --force

# ---- dependencies (GPU): onnxruntime-node fetches its CUDA 12 execution provider at install ----
FROM ${NODE_IMAGE} AS deps-gpu
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci --omit=optional --no-audit --no-fund \
 && npm cache clean --force

# ---- CPU runtime ----
FROM ${NODE_IMAGE} AS cpu
ENV NODE_ENV=production \
    PORT=8080 \
    LIVESTEM_MODELS_DIR=/app/models \
    LIVESTEM_EXECUTION_PROVIDER=cpu
WORKDIR /app
COPY --from=deps-cpu --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json tsconfig.json ./
COPY --chown=node:node server ./server
COPY --chown=node:node client-sdk/src ./client-sdk/src
COPY --chown=node:node models ./models
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--import", "tsx", "server/main.ts"]

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
COPY --chown=node:node package.json tsconfig.json ./
COPY --chown=node:node server ./server
COPY --chown=node:node client-sdk/src ./client-sdk/src
COPY --chown=node:node models ./models
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--import", "tsx", "server/main.ts"]

# `docker build .` without --target builds the last stage; keep CPU the default.
FROM cpu AS default
