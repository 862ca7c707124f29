import { describe, expect, it } from 'vitest';
import * as openrtc from '../../src/index.js';

describe('telemetry on the public front door', () => {
  it('exports the telemetry values by name', () => {
    const telemetryValues = [
      'ATTR_AGENT', 'ATTR_BREAKER_FROM', 'ATTR_BREAKER_REASON', 'ATTR_BREAKER_TO', 'ATTR_CAP', 'ATTR_DECISION',
      'ATTR_JOB_ID', 'ATTR_OUTCOME', 'ATTR_PROBE', 'ATTR_REASON', 'ATTR_TENANT', 'DEFAULT_REDACT_PATHS',
      'DEFAULT_TENANT_LABEL_LIMIT', 'EVENT_BREAKER_TRANSITION', 'EVENT_CAP_REFUSED', 'INVALID_TENANT_LABEL',
      'METRIC_CATALOG', 'OPENRTC_VERSION', 'OTHER_TENANT_LABEL', 'SPAN_ADMISSION', 'SPAN_SESSION',
      'TenantSpanProcessor', 'attachPoolLogging', 'attachPoolMetrics', 'bindAgentsLogger', 'createLogger',
      'sessionLogFields', 'shutdownLogger', 'startTelemetry',
    ];
    const exported = Object.keys(openrtc);
    expect(telemetryValues.filter((name) => !exported.includes(name))).toEqual([]);
  });
});
