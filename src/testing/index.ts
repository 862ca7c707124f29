// `openrtc/testing`: the fakes openrtc's own tests use, shipped so that users can test
// their agents and pools the same way, without paid providers or a LiveKit server.

export { FakeTTS } from './fake_tts.js';
export type { FakeTTSOptions } from './fake_tts.js';
export { ManualClock } from './manual_clock.js';
export { ScriptedLLM } from './scripted_llm.js';
export type { ScriptedLLMOptions } from './scripted_llm.js';
