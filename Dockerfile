# codedeploy-notify daemon image: `docker build -t codedeploy-notify .`
# Registrations are read from /app/registrations (mount or COPY your own over the examples).

# --- build: compile TypeScript with the full dependency set ---
FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY schema ./schema
COPY src ./src
RUN npm run build

# --- runtime: production dependencies only, non-root ---
FROM node:20-slim
# Bounded memory: a 256 MB V8 old generation and 1 MB young-generation semi-spaces instead of letting
# V8 defer collection, and two glibc malloc arenas instead of one per thread (the SDK, GC and libuv
# threads otherwise each keep their own). About 140 MB RSS with 5,000 registrations (bench/RESULTS.md,
# section memory). Raise --max-old-space-size for more than about 15,000 registrations.
ENV NODE_OPTIONS="--max-old-space-size=256 --max-semi-space-size=1"
ENV MALLOC_ARENA_MAX=2
ENV NODE_ENV=production \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true \
    CODEDEPLOY_NOTIFY_DIR=/app/registrations \
    CODEDEPLOY_NOTIFY_HTTP_PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force \
    && ln -s /app/dist/cli.js /usr/local/bin/codedeploy-notify
COPY --from=build /src/dist ./dist
COPY schema ./schema
COPY registrations ./registrations
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.CODEDEPLOY_NOTIFY_HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["codedeploy-notify", "run"]
