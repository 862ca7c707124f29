// (b) The agents-js job module: what the official AgentServer forks one process per job for.
// prewarm loads Silero VAD into proc.userData (once per job process, as agents-js intends),
// entry runs the same VAD session as the openrtc host until the job is shut down.
// It never calls ctx.connect(): the stand-in server has no SFU, and the VAD needs no room.
import { defineAgent } from '@livekit/agents';
import { VAD } from '@livekit/agents-plugin-silero';
import { benchSettings, startLagProbe, startVadSession } from './vad_session.mjs';

export default defineAgent({
  prewarm: async (proc) => {
    proc.userData.vad = await VAD.load();
  },
  entry: async (ctx) => {
    const settings = benchSettings();
    startLagProbe({ statsDir: settings.statsDir, label: `job ${ctx.job.id}` });
    const session = startVadSession(ctx.proc.userData.vad, {
      sessionId: ctx.job.id,
      statsDir: settings.statsDir,
      frameMs: settings.frameMs,
    });
    ctx.addShutdownCallback(async () => {
      await session.stop();
    });
  },
});
