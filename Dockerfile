# redismp in an image for cron jobs and sidecars (README: "Kubernetes CronJob").
# The build stage packs the CLI exactly as `npm pack` does (test/install.test.ts
# installs that same tarball into an empty prefix and runs it); the image holds
# only that install: production dependencies, dist/ and the oclif manifest.
FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json oclif.manifest.json ./
COPY bin ./bin
COPY src ./src
RUN npm run build && npm pack --ignore-scripts --pack-destination /tmp && mv /tmp/redismp-*.tgz /tmp/redismp.tgz

FROM node:20-slim
ENV NODE_ENV=production NO_UPDATE_NOTIFIER=1
COPY --from=build /tmp/redismp.tgz /tmp/redismp.tgz
RUN npm install --global --omit=dev --no-audit --no-fund /tmp/redismp.tgz \
 && rm /tmp/redismp.tgz \
 && npm cache clean --force
# The image's unprivileged user (uid 1000): redismp needs no file system, only the network.
USER node
WORKDIR /home/node
ENTRYPOINT ["redismp"]
CMD ["health"]
