// The telemetry benchmark's summary: per variant, and per round as paired ratios against
// the round's `off` run, with the A/A control's ratio as the noise floor.
import type { PhaseResult, Variant } from './protocol.js';

export interface VariantSummary {
  variant: Variant;
  runs: PhaseResult[];
  medianCpuMs: number;
  medianWallMs: number;
  medianLoopP99Ms: number;
}

/** A ratio measured once per round (x / off of the same round - 1): median and spread. */
export interface PairedRatio {
  perRound: number[];
  median: number;
  min: number;
  max: number;
  /** A confidence interval for the true median, see `medianInterval`. */
  interval: MedianInterval;
}

/**
 * A distribution-free confidence interval for a median: the k-th smallest and the k-th
 * largest of n values, with k the largest for which the chance that the true median lies
 * outside is at most 5% (each value is above or below it with probability one half, so the
 * count below it is Binomial(n, 1/2)). It assumes nothing about the shape of the noise,
 * which on a shared machine is neither normal nor one-peaked.
 */
export interface MedianInterval {
  low: number;
  high: number;
  /** The chance that the interval holds the true median (at least 0.95 once n >= 6). */
  coverage: number;
}

export function medianInterval(values: readonly number[]): MedianInterval {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { low: Number.NaN, high: Number.NaN, coverage: 0 };
  // below[j]: P(Binomial(n, 1/2) <= j), built from the probabilities of each count.
  let p = 0.5 ** n;
  let cumulative = 0;
  const below: number[] = [];
  for (let j = 0; j <= n; j++) {
    cumulative += p;
    below.push(cumulative);
    p = (p * (n - j)) / (j + 1);
  }
  // [x_(k), x_(n-k+1)] (1-based) misses the median with chance 2 * P(count <= k - 1).
  let k = 1;
  while (k + 1 <= Math.floor((n + 1) / 2) && 2 * below[k]! <= 0.05) k++;
  return { low: sorted[k - 1]!, high: sorted[n - k]!, coverage: 1 - 2 * below[k - 1]! };
}

export interface ReportOptions {
  sessions: number;
  turns: number;
  rounds: number;
  /** Consecutive rounds each set of three worker processes measured. */
  roundsPerWorker: number;
  /** Batches of `sessions` calls in each measured window. */
  batches: number;
  warmupSessions: number;
  /** The trace policy's agent span share of the `on` worker; undefined: the pool default. */
  agentSpanShare: number | undefined;
}

export interface BenchReport {
  options: ReportOptions;
  on: VariantSummary;
  off: VariantSummary;
  control: VariantSummary;
  /** Median over rounds of (CPU on / CPU off of the same round) - 1. */
  cpuOverhead: number;
  /** The same ratio per round, with its spread. */
  paired: { on: PairedRatio; control: PairedRatio };
  /**
   * Built-in modules first loaded during a measured phase, per variant. After a warm-up
   * every list should be empty; above all, no variant may load one the others do not.
   */
  builtinsLoaded: Record<Variant, string[]>;
  loadAverage: number[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function summarize(runs: readonly PhaseResult[], variant: Variant): VariantSummary {
  const mine = runs.filter((r) => r.variant === variant);
  return {
    variant,
    runs: mine,
    medianCpuMs: median(mine.map((r) => r.cpuMs)),
    medianWallMs: median(mine.map((r) => r.wallMs)),
    medianLoopP99Ms: median(mine.map((r) => r.loopP99Ms)),
  };
}

/** `variant`'s CPU over `off`'s, round by round (runs are in round order for each variant). */
export function pairedRatio(runs: readonly PhaseResult[], variant: Variant): PairedRatio {
  const offs = runs.filter((r) => r.variant === 'off');
  const mine = runs.filter((r) => r.variant === variant);
  const perRound = mine.map((r, i) => r.cpuMs / offs[i]!.cpuMs - 1);
  return {
    perRound, median: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound), interval: medianInterval(perRound),
  };
}

/** Built-in modules loaded mid-phase by one variant only are harness cost on that side. */
export function builtinsLine(loaded: Record<Variant, string[]>): string {
  const all = [...new Set(Object.values(loaded).flat())].sort();
  if (all.length === 0) return 'No built-in module was first loaded during a measured phase, on any side.';
  const uneven = all.filter((m) => !Object.values(loaded).every((list) => list.includes(m)));
  const listed = Object.entries(loaded).map(([v, list]) => `${v}: ${list.join(', ') || 'none'}`).join('; ');
  return uneven.length === 0
    ? `Built-in modules first loaded during a measured phase, the same on every side (add warm-up sessions): ${listed}`
    : `WARNING: a built-in module loaded mid-phase on one side only (${uneven.join(', ')}): ${listed}`;
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

export function formatReport(report: BenchReport): string {
  const { sessions, turns, rounds, roundsPerWorker, batches, warmupSessions, agentSpanShare } = report.options;
  const header = ['telemetry', 'runs', 'CPU ms (median)', 'CPU ms (each round)', 'wall ms (median)', 'loop p99 ms (median)'];
  const row = (s: VariantSummary) => [
    s.variant, String(s.runs.length), s.medianCpuMs.toFixed(0), s.runs.map((r) => r.cpuMs.toFixed(0)).join(' '),
    s.medianWallMs.toFixed(0), s.medianLoopP99Ms.toFixed(1),
  ];
  const rows = [header, row(report.off), row(report.on), row(report.control)];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`);
  lines.splice(1, 0, `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  const ratio = (r: PairedRatio) =>
    `median ${pct(r.median)}, ${(r.interval.coverage * 100).toFixed(0)}% interval ${pct(r.interval.low)} .. ${pct(r.interval.high)}, ` +
    `spread ${pct(r.min)} .. ${pct(r.max)} (rounds: ${r.perRound.map(pct).join(' ')})`;
  const goal = report.paired.on.interval.high < 0.05
    ? 'the goal (under 5%) holds: the whole interval is below it'
    : report.paired.on.interval.low >= 0.05
      ? 'the goal (under 5%) is not met: the whole interval is above it'
      : 'the goal (under 5%) is not shown: the interval reaches above it (more rounds narrow it)';
  return [
    `${sessions} concurrent sessions x ${turns} text turns${batches === 1 ? '' : `, ${batches} batches one after another per measurement`}, ${warmupSessions} warm-up sessions per worker, ${rounds} paired rounds, ` +
      `${roundsPerWorker === 1 ? 'new worker processes every round' : `each set of worker processes measured in ${roundsPerWorker} consecutive rounds`} ` +
      `(off, on and an A/A control in each, every order of the three in turn, each measured once the others are idle); trace policy of "on": ${agentSpanShare === undefined ? 'the default' : `agentSpanShare ${agentSpanShare}`}`,
    ...lines,
    `CPU overhead of telemetry, paired per round (on / off - 1): ${ratio(report.paired.on)}`,
    `A/A control, paired per round (control / off - 1):         ${ratio(report.paired.control)}`,
    `Interval: a distribution-free confidence interval for the median round; ${goal}.`,
    builtinsLine(report.builtinsLoaded),
    `load average at the end: ${report.loadAverage.map((l) => l.toFixed(2)).join(' ')}`,
  ].join('\n');
}
