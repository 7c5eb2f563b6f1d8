# One image for both production roles: `api` (node dist/src/api-main.js) and `worker` (dist/src/worker-main.js).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# patches/ first: npm's postinstall applies them (patch-package) to the installed SDK.
COPY patches ./patches
# npm install, not npm ci: see scripts/ensure-deps.sh (the lockfile carries only Linux optional builds).
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY drizzle ./drizzle
COPY scripts ./scripts
RUN npm run build \
 && cp -r drizzle/migrations dist/drizzle/migrations \
 && node dist/scripts/build-workflow-bundle.js dist/workflow-bundle.js

FROM node:20-bookworm-slim
# jemalloc instead of glibc's malloc, which fragments under the Temporal SDK's native threads: a worker
# holding 1,000 cached workflows uses about a third of the memory (docs/performance.md).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libjemalloc2 \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s "$(ls /usr/lib/*-linux-gnu/libjemalloc.so.2)" /usr/local/lib/libjemalloc.so.2
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js \
    LD_PRELOAD=/usr/local/lib/libjemalloc.so.2
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
CMD ["node", "dist/src/api-main.js"]
