# syntax=docker/dockerfile:1
# Multi-stage build: compile TypeScript with the dev dependencies, ship only the runtime ones.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-slim AS runtime
# Mount your rollback plans and authority policies at /config (a file or a folder of YAML files).
ENV NODE_ENV=production \
    PORT=3000 \
    ROLLBACK_CONFIG=/config
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY manifests ./manifests
# The image runs as the unprivileged user that node images ship with.
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
