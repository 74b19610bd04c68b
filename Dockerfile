# The demo-launcher controller as a small image: the build stage bundles the controller (tools/bundle.ts) and strips
# Node.js; the final stage holds only Node.js, the shared libraries it links, the bundle and the files it reads
# (templates, nginx snippets, the Compose schema), run as the unprivileged `node` user. No shell, no package manager,
# no nginx: those stay on the host. Run it on the host network (its readiness checks reach demos on 127.0.0.1) with
# the Docker socket and the routes dir mounted; see docs/getting-started/controller-in-docker.md.
# BASE: any Debian-based image with Node.js 22+ and npm; scripts/ensure-controller-image.sh makes one locally where
# no registry can be reached.
ARG BASE=node:26-bookworm-slim
FROM ${BASE} AS build
# binutils for strip: the official Node.js binary carries its debug symbols (144 MB, 117 MB without).
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends binutils >/dev/null && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY tools/bundle.ts ./tools/
COPY src ./src
COPY templates ./templates
COPY nginx ./nginx
COPY examples ./examples
COPY vendor ./vendor
RUN npx tsx tools/bundle.ts /out/opt/demo-launcher
# The root file system of the final stage: node, the libraries `ldd` names, a passwd naming `node`, a /tmp.
RUN mkdir -p /out/usr/local/bin /out/tmp /out/etc && chmod 1777 /out/tmp \
 && strip -o /out/usr/local/bin/node "$(command -v node)" \
 && ldd "$(command -v node)" | grep -o '/[^ ]*' | xargs -I{} cp --parents -L {} /out \
 && printf 'root:x:0:0:root:/root:/sbin/nologin\nnode:x:1000:1000:node:/tmp:/sbin/nologin\n' >/out/etc/passwd \
 && printf 'root:x:0:\nnode:x:1000:\n' >/out/etc/group \
 && /out/usr/local/bin/node --version

FROM scratch
COPY --from=build /out /
ENV NODE_ENV=production
WORKDIR /opt/demo-launcher
USER node
# The controller's own /healthz, from inside (the container shares the host's network); DEMO_LAUNCHER_HEALTHZ names
# another address when `listen:` is not the default one.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["/usr/local/bin/node", "-e", "fetch(process.env.DEMO_LAUNCHER_HEALTHZ || 'http://127.0.0.1:8081/healthz', { signal: AbortSignal.timeout(4000) }).then((answer) => process.exit(answer.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/local/bin/node", "/opt/demo-launcher/dist/cli/main.js"]
CMD ["--config", "/etc/demo-launcher/config.yaml", "serve"]
