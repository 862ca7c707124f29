import {
  AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, type Sampler, TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { OpenRtcError, invalidOption } from '../errors.js';

/**
 * The head sampler of the tracer provider: the `sampler` option if given, else the one
 * `OTEL_TRACES_SAMPLER` (with `OTEL_TRACES_SAMPLER_ARG`) names in the telemetry's
 * environment, else the SDK's default, parent-based always-on. The SDK reads those
 * variables itself, but only from `process.env`; reading them here makes the `env`
 * option of `startTelemetry` hold for sampling too, and a value it does not know fails
 * the start instead of silently sampling everything.
 */
export function resolveSampler(option: unknown, env: Readonly<Record<string, string | undefined>>): Sampler {
  if (option !== undefined) {
    if (typeof option !== 'object' || option === null || typeof (option as Sampler).shouldSample !== 'function') {
      throw invalidOption('sampler', 'must be an OpenTelemetry Sampler (an object with shouldSample())', option);
    }
    return option as Sampler;
  }
  const name = env.OTEL_TRACES_SAMPLER?.trim() || 'parentbased_always_on';
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratioFrom(env));
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratioFrom(env)) });
    default:
      throw new OpenRtcError(
        'invalid_option',
        '`OTEL_TRACES_SAMPLER` must be one of always_on, always_off, traceidratio, parentbased_always_on, ' +
          `parentbased_always_off, parentbased_traceidratio (or pass \`sampler\`); got "${name}"`,
      );
  }
}

/** `OTEL_TRACES_SAMPLER_ARG` for the ratio samplers: 1 when unset, as the spec says. */
function ratioFrom(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  if (!raw) return 1;
  const ratio = Number(raw);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new OpenRtcError('invalid_option', `\`OTEL_TRACES_SAMPLER_ARG\` must be a number from 0 to 1; got "${raw}"`);
  }
  return ratio;
}
