/**
 * Job and room metadata arrive as free-form strings. Dispatch layers put JSON there;
 * anything that is not a JSON object is treated as carrying no keys at all, so a call
 * with plain-text metadata still runs (as tenant `default`) instead of failing.
 */
export type MetadataRecord = Readonly<Record<string, unknown>>;

export function parseMetadata(raw: string | undefined | null): MetadataRecord {
  if (!raw) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as MetadataRecord)
      : {};
  } catch {
    return {};
  }
}
