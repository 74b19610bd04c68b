# The demo-launcher controller as an image: multi-stage build, runs as the unprivileged `node` user.
# Run it on the host network (its readiness checks reach demos on 127.0.0.1) with the Docker socket
# and the routes dir mounted; see README "Controller in Docker".
# BASE: any Debian-based image with Node.js 22+ and npm, and a `node` user; scripts/ensure-controller-image.sh
# makes one locally where no registry can be reached.
ARG BASE=node:26-bookworm-slim
FROM ${BASE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM ${BASE}
ENV NODE_ENV=production
WORKDIR /opt/demo-launcher
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json README.md ./
COPY templates ./templates
COPY nginx ./nginx
COPY examples ./examples
USER node
ENTRYPOINT ["node", "/opt/demo-launcher/dist/cli/main.js"]
CMD ["--config", "/etc/demo-launcher/config.yaml", "serve"]
