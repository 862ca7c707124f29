/**
 * Every `--json` output of the CLI carries `kind` and `schemaVersion`. The version is
 * bumped when a field changes meaning or disappears; added fields keep it.
 * `test/cli/json_schema.test.ts` pins each shape.
 */
export const CLI_JSON_SCHEMA_VERSION = 1;

export type CliJsonKind = 'openrtc.top' | 'openrtc.list' | 'openrtc.tenant-verify';

export function jsonDocument<T extends object>(kind: CliJsonKind, body: T): { kind: CliJsonKind; schemaVersion: number } & T {
  return { kind, schemaVersion: CLI_JSON_SCHEMA_VERSION, ...body };
}
