// `openrtc/testing`: the fakes openrtc's own tests use, shipped so that users can test
// their agents and pools the same way, without paid providers or a LiveKit server.

export { FakeTTS } from './fake_tts.js';
export type { FakeTTSOptions } from './fake_tts.js';
export { ManualClock } from './manual_clock.js';
export { ScriptedLLM } from './scripted_llm.js';
export type { ScriptedLLMOptions } from './scripted_llm.js';
export { ScriptedSTT } from './scripted_stt.js';
export type { ScriptedSTTOptions } from './scripted_stt.js';
export { DispatchServer } from './dispatch_server.js';
export { DispatchedCall } from './dispatched_call.js';
export type {
  AvailabilityRecord,
  CallEnd,
  CallEndReason,
  DispatchBehaviour,
  DispatchRequest,
  DispatchServerOptions,
  JobUpdateRecord,
  SimulatedCallScript,
  TranscriptEntry,
  WorkerRecord,
  WorkerReportedStatus,
} from './dispatch_types.js';
export { SimulatedRoomTransport } from './simulated_room.js';
export type { SimulatedRoomTransportOptions } from './simulated_room.js';
export type { SimClientFrame, SimParticipant, SimServerFrame } from './sim_room_protocol.js';
export { VoiceGatewayCollector } from './voicegateway_collector.js';
export type { CollectorFault, IngestRequestRecord, VoiceGatewayCollectorOptions } from './voicegateway_collector.js';
export { PostgresRequestsTable, REQUEST_COLUMNS } from './requests_table.js';
export type { RequestStore, SqlClient, StoredRequest } from './requests_table.js';
export { validateIngestRow } from './ingest_rows.js';
