// (a) The openrtc host: one AgentPool worker in this one process, against the stand-in
// dispatch server, sessions in simulated rooms. Silero VAD is loaded once, in prewarm, and
// every session's agent streams its own audio through its own VADStream of that one model.
import { getJobContext, initializeLogger, voice } from '@livekit/agents';
import type { VAD } from '@livekit/agents-plugin-silero';
import { VAD as SileroVAD } from '@livekit/agents-plugin-silero';
import { AgentPool } from '../../src/index.js';
import { SimulatedRoomTransport } from '../../src/testing/index.js';
import { hostEnv, onStop, sendToOrchestrator } from './host_ipc.js';
import { benchSettings, startLagProbe, startVadSession } from './vad_session.mjs';

const settings = benchSettings();

/**
 * The benchmark's agent: on entering the session it starts the VAD work, which runs
 * until the job shuts down (the pool runs shutdown callbacks when the session ends).
 * No hook in openrtc is needed: onEnter runs inside the job context the pool sets up.
 */
class DensityVadAgent extends voice.Agent {
  constructor() {
    super({ instructions: 'Density benchmark: listens with Silero VAD, never speaks.' });
  }

  override onEnter(): Promise<void> {
    const ctx = getJobContext<{ vad?: VAD }>();
    const vad = ctx.proc.userData.vad;
    if (!vad) throw new Error('prewarm did not load the VAD');
    const session = startVadSession(vad, { sessionId: ctx.job.id, statsDir: settings.statsDir, frameMs: settings.frameMs });
    ctx.addShutdownCallback(async () => {
      await session.stop();
    });
    return Promise.resolve();
  }
}

const env = hostEnv();
initializeLogger({ pretty: false, level: 'error' });
startLagProbe({ statsDir: settings.statsDir, label: 'openrtc worker' });

const pool = new AgentPool({ agent: DensityVadAgent });
await pool.start({
  url: env.url,
  apiKey: env.apiKey,
  apiSecret: env.apiSecret,
  transport: new SimulatedRoomTransport(),
  prewarm: async (proc) => {
    proc.userData.vad = await SileroVAD.load();
  },
  onDiagnostic: (d) => process.stderr.write(`openrtc: ${d.code}: ${d.message}\n`),
});
sendToOrchestrator({ type: 'started', pid: process.pid });

onStop(async () => {
  await pool.drain(10_000);
});
