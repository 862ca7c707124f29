// Usage arrives many times per turn (agents-js reports TTS per segment, LLM per reply), and
// every Counter.add costs the SDK an attribute hash and a map lookup. Usage is summed here
// per series instead, and handed to the counters once per collection (the pool metrics'
// batch callback runs before the SDK reads its synchronous instruments) and on detach.
import type { Attributes, Counter } from '@opentelemetry/api';
import type { UsageEvent } from './pool_events.js';
import { boundLabel } from './session_metrics.js';
import type { TenantLabeler } from './tenant_labels.js';

interface PendingUsage {
  instrument: Counter;
  attributes: Attributes;
  value: number;
}

export interface UsageCounters {
  llmTokens: Counter;
  sttSeconds: Counter;
  ttsCharacters: Counter;
}

export class UsageBatcher {
  private readonly pending = new Map<string, PendingUsage>();

  constructor(private readonly counters: UsageCounters, private readonly tenants: TenantLabeler) {}

  record(e: UsageEvent): void {
    const tenant = this.tenants.label(e.tenant);
    const provider = boundLabel(e.provider);
    const model = boundLabel(e.model);
    const series = `${tenant}\u0000${provider}\u0000${model}`;
    const { llmTokens, sttSeconds, ttsCharacters } = this.counters;
    if (e.kind === 'llm') {
      this.add(llmTokens, `llm\u0000input\u0000${series}`, e.inputTokens, () => ({ tenant, provider, model, type: 'input' }));
      this.add(llmTokens, `llm\u0000output\u0000${series}`, e.outputTokens, () => ({ tenant, provider, model, type: 'output' }));
      this.add(llmTokens, `llm\u0000cached\u0000${series}`, e.cachedTokens, () => ({ tenant, provider, model, type: 'cached' }));
    } else if (e.kind === 'stt') {
      this.add(sttSeconds, `stt\u0000${series}`, e.audioSeconds, () => ({ tenant, provider, model }));
    } else {
      this.add(ttsCharacters, `tts\u0000${series}`, e.characters, () => ({ tenant, provider, model }));
    }
  }

  /** Hands what was summed since the last flush to the counters. */
  flush(): void {
    for (const pending of this.pending.values()) {
      if (pending.value === 0) continue;
      pending.instrument.add(pending.value, pending.attributes);
      pending.value = 0;
    }
  }

  private add(instrument: Counter, key: string, value: number | undefined, attributes: () => Attributes): void {
    if (value === undefined || !Number.isFinite(value) || value <= 0) return;
    const pending = this.pending.get(key);
    if (pending) pending.value += value;
    else this.pending.set(key, { instrument, attributes: attributes(), value });
  }
}
