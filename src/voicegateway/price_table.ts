import { OpenRtcError, invalidOption } from '../errors.js';

/**
 * USD per unit of one model, in voicegateway's units: LLM tokens, STT minutes, TTS
 * characters. Token prices are small: $2.50 per million input tokens is `2.5e-6`.
 */
export interface ModelPrice {
  usdPerInputUnit?: number;
  usdPerOutputUnit?: number;
  /** Price of cached input tokens; without it cached tokens cost the input price. */
  usdPerCachedInputUnit?: number;
}

/** Prices by voicegateway `model_id` (`provider/model`, e.g. `openai/gpt-4o`). */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

export interface Units {
  input?: number;
  output?: number;
  cachedInput?: number;
}

const PRICE_FIELDS = ['usdPerInputUnit', 'usdPerOutputUnit', 'usdPerCachedInputUnit'] as const;

export function validatePriceTable(option: string, table: unknown): PriceTable | undefined {
  if (table === undefined) return undefined;
  if (typeof table !== 'object' || table === null || Array.isArray(table)) {
    throw invalidOption(option, 'must be a map of model id ("provider/model") to prices', table);
  }
  for (const [modelId, price] of Object.entries(table as Record<string, unknown>)) {
    if (typeof price !== 'object' || price === null) {
      throw new OpenRtcError('invalid_option', `\`${option}["${modelId}"]\` must be an object of USD prices per unit`);
    }
    for (const [field, value] of Object.entries(price as Record<string, unknown>)) {
      if (!(PRICE_FIELDS as readonly string[]).includes(field)) {
        throw new OpenRtcError('invalid_option', `\`${option}["${modelId}"].${field}\` is not a price field (allowed: ${PRICE_FIELDS.join(', ')})`);
      }
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw invalidOption(`${option}["${modelId}"].${field}`, 'must be a finite number of USD, 0 or more', value);
      }
    }
  }
  return table as PriceTable;
}

/**
 * What a request cost under a price. Cached input tokens are part of the input count (as
 * providers report them), so with a cached price they are taken out of the full-price part.
 */
export function costOf(price: ModelPrice, units: Units): number {
  const input = units.input ?? 0;
  const cached = Math.min(units.cachedInput ?? 0, input);
  const inputPrice = price.usdPerInputUnit ?? 0;
  const cachedPrice = price.usdPerCachedInputUnit ?? inputPrice;
  return (input - cached) * inputPrice + cached * cachedPrice + (units.output ?? 0) * (price.usdPerOutputUnit ?? 0);
}
