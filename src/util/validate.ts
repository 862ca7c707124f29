import { invalidOption } from '../errors.js';

// The shared option rules. Every option of every part is checked with one of these, so a
// rule ("positive milliseconds") is written once and reads the same in every error.

export function positiveInteger(option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw invalidOption(option, 'must be a positive integer', value);
  }
  return value;
}

export function positiveMillis(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalidOption(option, 'must be a positive number of milliseconds', value);
  }
  return value;
}
