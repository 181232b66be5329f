# Switchboard: install the production dependencies, copy the sources, run the server with tsx
# (with the Node.js flags of server/runtime.ts).
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=3000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY server ./server
COPY channels ./channels
COPY routing ./routing
COPY shared ./shared
USER node
EXPOSE 3000
# Healthy when it can serve: /readyz answers 503 while the store (Redis) does not answer, /healthz only that the
# process is alive.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "--max-semi-space-size=64", "--import", "tsx", "server/main.ts"]
