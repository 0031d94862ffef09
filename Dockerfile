# syntax=docker/dockerfile:1
#
# rollback-bot. Three stages: `build` compiles the TypeScript with every dependency, `deps` installs
# the runtime dependencies only, `runtime` is what ships: Node 24 LTS on Debian 13, the programs the
# executors start, tini as PID 1 and an unprivileged user. test/unit/deploy/dockerfile.test.ts holds
# this file to that (each executor's `programs`, the user, the init).
#
#   docker build -t rollback-bot .                  # --build-arg PG_MAJOR=19 for newer databases
#   docker run --env-file .env -v "$PWD/plans:/config:ro" -p 3000:3000 rollback-bot
#   docker run --rm -v "$PWD/plans:/config:ro" rollback-bot node bin/rollback-bot.js validate /config
#
# Plans: mount a file or a folder of YAML manifests at /config (ROLLBACK_CONFIG); they are read at
# start-up, so restart the container after changing them. deploy/kubernetes/ does this with a
# ConfigMap whose name changes with its content.
#
# Environment (docs/operations/configuration.md says, for each, what it does, its default and what a
# bad value does; a bad or missing required value stops start-up with one line per problem):
#   SLACK_BOT_TOKEN        required, xoxb-... (OAuth & Permissions)
#   SLACK_SIGNING_SECRET   required (Basic Information)
#   SLACK_APP_TOKEN        xapp-...: Socket Mode, a single replica only; unset for HTTP mode
#   SLACK_API_URL          Web API base (default https://slack.com/api/)
#   PORT                   HTTP port (default 3000 here)
#   REDIS_URL              redis://, rediss://, redis+sentinel:// or a cluster list; required in production
#   NODE_ENV               production here
#   ROLLBACK_CONFIG        plans: a file or a folder (default /config here)
#   ALERT_WEBHOOK_TOKEN    bearer token of /alerts/*
#   API_TOKEN              bearer token of /api/*
#   STATUSPAGE_API_KEY     Statuspage key; unset: no status page
#   STATUSPAGE_API_URL     Statuspage API base (default https://api.statuspage.io/v1)
#   AWS_REGION             region of the SNS publisher (credentials: the AWS SDK's own chain)
#   STEP_TIMEOUT_MAX       the longest any step may run (default 60m); validate refuses longer timeouts
#   SNS_TOPIC_ARNS         SNS topics /alerts/sns accepts (comma-separated)
#   SNS_CERT_URL_PREFIXES  extra SNS certificate URL prefixes (local stacks only)
#   SNS_CA_FILE            extra CAs for SNS certificates (local stacks only)
#   LOG_LEVEL              pino level (default info)
# Read by libraries, not by the bot: the AWS SDK's AWS_* (AWS_ENDPOINT_URL_<SERVICE>, credentials,
# AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE), KUBECONFIG (unset in a pod: the service account).
# A `command` step's program gets PATH only, plus what its `inheritEnv` names.

ARG NODE_IMAGE=node:24-trixie-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
# pg_dump refuses to dump a server of a newer major than its own, and reads every older one back
# to 9.2: set this to the newest major your databases run. Debian's own postgresql-client lags
# behind, so the client comes from the PostgreSQL project's apt repository (PGDG).
ARG PG_MAJOR=18
ADD --chmod=644 https://www.postgresql.org/media/keys/ACCC4CF8.asc /usr/share/keyrings/pgdg.asc
# ca-certificates: TLS to databases (sslmode=verify-full), the AWS CLI and any program a command step
# starts; Node has its own CA list, they do not. tini: PID 1 (see ENTRYPOINT).
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates; \
    . /etc/os-release; \
    echo "deb [signed-by=/usr/share/keyrings/pgdg.asc] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" \
      > /etc/apt/sources.list.d/pgdg.list; \
    apt-get update; \
    apt-get install -y --no-install-recommends tini "postgresql-client-${PG_MAJOR}"; \
    rm -rf /var/lib/apt/lists/*
# The programs the executors start (their `programs`): the build fails here, not an incident later.
RUN pg_dump --version && pg_restore --version && tini --version

ENV NODE_ENV=production \
    PORT=3000 \
    ROLLBACK_CONFIG=/config
WORKDIR /app
# The code stays owned by root, so the bot cannot rewrite itself; it writes only where it must:
# pg_dump files under ./backups (the postgres-backup default) or /var/backups (the examples).
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# The examples and the demo plan: `rollback-bot validate manifests/examples` and `demo` work here.
COPY manifests ./manifests
# No /config: without a mount the bot stops at start-up saying so, instead of running without plans.
RUN mkdir -p /app/backups && chown 1000:1000 /app/backups /var/backups
# The `node` user of the base image, by number: Kubernetes' runAsNonRoot can only verify a numeric
# user, and a name would make it refuse to start the pod.
USER 1000:1000
EXPOSE 3000
# The bot starts child processes (command steps, pg_dump) and kills their process groups on abort;
# grandchildren that outlive them are re-parented to PID 1, which must reap them, and Node does
# not. tini reaps them and passes SIGTERM on to the bot, which hands running steps back within 10 s.
ENTRYPOINT ["/usr/bin/tini", "--"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
