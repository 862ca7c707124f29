# The example worker of docker-compose.yml, built from this repository.
FROM node:20.19.5-bookworm-slim
WORKDIR /app
# onnxruntime-node's install script would download CUDA binaries; Silero runs on the CPU build.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ENV OPENRTC_METRICS_PORT=9464
EXPOSE 9464
CMD ["node", "--import", "tsx", "examples/agency/compose_worker.ts"]
