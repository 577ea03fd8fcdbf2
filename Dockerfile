# syntax=docker/dockerfile:1
# The crypto-mcp server (MCP over Streamable HTTP, the REST API, the alert worker, the CLI).
#
#   docker build -t crypto-intel/mcp-server .
#   docker run --rm -p 127.0.0.1:8080:8080 -e MCP_API_KEYS=<16+ chars> -v crypto-mcp-data:/data crypto-intel/mcp-server
#   docker run --rm crypto-intel/mcp-server analyze BTC/USDT --timeframe 4h
#
# The entrypoint is the `crypto-mcp` CLI: http (default), worker, migrate, stdio, analyze.
# Build context: the repository root (.dockerignore keeps it to the server's sources).

ARG NODE_VERSION=20

# --- build: every dependency of the workspace, then the TypeScript build ---------------------------
FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY mcp-server/package.json mcp-server/
# No install scripts: none of them is needed to compile (talib, a benchmark-only devDependency, would
# build native code; ccxt's only prints a message).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY mcp-server/tsconfig.json mcp-server/tsconfig.build.json mcp-server/
COPY mcp-server/src mcp-server/src
RUN npm run build --workspace mcp-server

# --- prod-deps: the server's runtime dependencies only, from the same lockfile ---------------------
# Native pieces come prebuilt from their packages (@resvg/resvg-js-linux-*-gnu, bufferutil's and
# msgpackr-extract's prebuilds or their JS fallbacks); PGlite is WASM; piscina is plain JS.
FROM node:${NODE_VERSION}-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY mcp-server/package.json mcp-server/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime ----------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    MCP_HOST=0.0.0.0 \
    MCP_PORT=8080 \
    DATA_DIR=/data
WORKDIR /app
# The PNG charts' font: resvg renders with the system's DejaVu Sans (chart-render.ts), and the slim image
# has no font at all, so every label would be missing.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY --from=prod-deps /app/package.json /app/package-lock.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY mcp-server/package.json mcp-server/
COPY mcp-server/bin mcp-server/bin
COPY mcp-server/migrations mcp-server/migrations
COPY mcp-server/data mcp-server/data
COPY --from=build /app/mcp-server/dist mcp-server/dist
COPY docker/mcp/healthcheck.mjs /app/healthcheck.mjs
# The embedded PGlite database lives in DATA_DIR when DATABASE_URL is unset: keep it on a volume.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "/app/healthcheck.mjs", "http"]
ENTRYPOINT ["node", "/app/mcp-server/bin/crypto-mcp.js"]
CMD ["http"]
