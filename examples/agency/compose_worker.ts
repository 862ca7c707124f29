// The worker docker-compose.yml runs: the example agency against the stack's LiveKit server.
// With OPENAI_API_KEY and DEEPGRAM_API_KEY set it hosts the pool with the real provider
// plugins (examples/agency/pool.ts); without them, the same tenants with openrtc/testing's
// offline fakes (examples/agency/demo_pool.ts), so the stack runs with no keys at all.
import { createLogger } from '../../src/index.js';
import { createDemoPool } from './demo_pool.js';
import { createAgencyPool } from './pool.js';

const logger = createLogger();
const withKeys = Boolean(process.env.OPENAI_API_KEY && process.env.DEEPGRAM_API_KEY);
logger.info({ providers: withKeys ? 'real' : 'fake' }, 'openrtc example worker starting');
const pool = withKeys ? await createAgencyPool() : createDemoPool();
// Connects to LIVEKIT_URL with LIVEKIT_API_KEY / LIVEKIT_API_SECRET, serves /metrics on
// OPENRTC_METRICS_PORT, exports traces and logs to OTEL_EXPORTER_OTLP_ENDPOINT; SIGTERM drains.
await pool.run({ logger });
process.exit(0);
