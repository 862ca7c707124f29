/**
 * Trouble in background work, reported instead of thrown: one shape for every part (the
 * pool, its worker, telemetry). `code` is stable for filtering; `message` is for people
 * and carries no secret; `error` is the cause, when there is one.
 */
export interface Diagnostic<Code extends string = string> {
  code: Code;
  message: string;
  error?: unknown;
}
