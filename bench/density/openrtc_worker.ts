// One openrtc worker of the density bench (bench/density/openrtc_host.ts starts it in its
// own process, or runs it in the host process when there is one worker). Imported only
// where it runs, so a primary of several workers loads none of agents-js, Silero or openrtc's pool.
import { getJobContext, initializeLogger, voice } from '@livekit/agents';
import type { VAD } from '@livekit/agents-plugin-silero';
import { VAD as SileroVAD } from '@livekit/agents-plugin-silero';
import { AgentPool } from '../../src/index.js';
import { SimulatedRoomTransport } from '../../src/testing/index.js';
import { type HostEnv, onStop, sendToOrchestrator } from './host_ipc.js';
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

/** `childIndex`: set in a child of a primary (it then drains on SIGTERM), undefined in the host process. */
export async function runWorker(env: HostEnv, childIndex: string | undefined): Promise<void> {
  initializeLogger({ pretty: false, level: 'error' });
  startLagProbe({ statsDir: settings.statsDir, label: childIndex === undefined ? 'openrtc worker' : `openrtc worker ${childIndex}` });

  const pool = new AgentPool({ agent: DensityVadAgent });
  await pool.start({
    url: env.url,
    apiKey: env.apiKey,
    apiSecret: env.apiSecret,
    transport: new SimulatedRoomTransport(),
    // Telemetry on, as shipped; a free port each, so several workers never collide.
    telemetry: { port: 0 },
    prewarm: async (proc) => {
      proc.userData.vad = await SileroVAD.load();
    },
    onDiagnostic: (d) => process.stderr.write(`openrtc: ${d.code}: ${d.message}\n`),
  });
  // A child reports to its primary, which reports to the orchestrator once all have started.
  sendToOrchestrator({ type: 'started', pid: process.pid });
  const stop = async () => {
    await pool.drain(10_000);
  };
  if (childIndex === undefined) onStop(stop);
  else {
    const exit = () => void stop().finally(() => process.exit(0));
    process.once('SIGTERM', exit);
    // The primary is gone (killed): drain too, so no child outlives the run.
    process.once('disconnect', exit);
  }
}
