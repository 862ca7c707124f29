/**
 * How LiveKit picks a worker for a job (livekit/livekit `pkg/service/agentservice.go`),
 * as pure functions over what the workers last reported.
 */

export interface SelectableWorker {
  available: boolean;
  load: number;
}

/**
 * `JobRequestAffinity`: a node takes a job only if the sum over its matching WS_AVAILABLE
 * workers of `max(0, targetLoad - load)` is above 0 (psrpc picks no server whose affinity
 * is 0), that is if at least one of them reports a load below the target.
 */
export function nodeAffinity(workers: readonly SelectableWorker[], targetLoad: number): number {
  // LiveKit computes in float32, as load travels: a worker reporting exactly the target adds 0.
  const target = Math.fround(targetLoad);
  let affinity = 0;
  for (const w of workers) if (w.available) affinity += Math.max(0, Math.fround(target - Math.fround(w.load)));
  return affinity;
}

/**
 * `selectWorkerWeightedByLoad`: among WS_AVAILABLE workers not tried yet for this job, a
 * random one weighted by `max(0, 1 - load)`; none when every weight is 0. Within a node
 * the target load plays no part: a worker above it may still be chosen next to one below.
 */
export function pickWeightedByLoad<W extends SelectableWorker>(workers: readonly W[], tried: ReadonlySet<W>, random: () => number): W | undefined {
  const weighted = workers.filter((w) => w.available && !tried.has(w)).map((w) => ({ w, weight: Math.max(0, 1 - w.load) }));
  const sum = weighted.reduce((total, { weight }) => total + weight, 0);
  if (sum <= 0) return undefined;
  let remaining = random() * sum;
  for (const { w, weight } of weighted) {
    remaining -= weight;
    if (remaining <= 0 && weight > 0) return w;
  }
  return weighted.filter(({ weight }) => weight > 0).at(-1)?.w;
}
