# The Gas Town app server (GitHub App + Slack), one image for one instance or several
# replicas. docs/deploy.md says what state lives where and which settings matter; this
# image is not built in CI (see there), but test/app/dockerfile-start.test.ts runs its
# start command, working directory and environment from a built tree.

# Build: compile with every dependency, then keep only the production ones.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency's code runs at install time (esbuild needs no postinstall).
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts

# Run: Node 20 LTS, git (the ledger mirrors are git repositories), a non-root user.
FROM node:20-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends git ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json app.yml slack-manifest.yml ./
COPY bin ./bin
COPY hooks ./hooks
COPY templates ./templates
# The ledger mirrors (one bare repository per GitHub repository) live in the volume; they
# are a cache of the refs on GitHub and can be rebuilt, but keeping them saves a full fetch.
RUN mkdir -p /data && chown node:node /data
ENV NODE_ENV=production \
    GASTOWN_DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=3000 \
    NO_SMEE_SETUP=true \
    LOG_FORMAT=json
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/gastown/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "bin/start.js"]
