// Just enough PromQL reading for tests: the metric names a query selects.
const KEYWORDS = new Set([
  'sum', 'max', 'min', 'avg', 'count', 'group', 'by', 'without', 'on', 'ignoring', 'and', 'or', 'unless',
  'rate', 'irate', 'increase', 'histogram_quantile', 'max_over_time', 'min_over_time', 'avg_over_time', 'absent',
  'timestamp', 'topk', 'bottomk', 'clamp_min', 'clamp_max', 'label_replace', 'offset', 'bool', 'time', 'vector',
  'group_left', 'group_right', 'changes', 'resets', 'last_over_time', 'sort_desc', 'sort', 'delta', 'deriv', 'sum_over_time',
  'count_over_time', 'abs', 'scalar', 'floor', 'ceil', 'round', 'absent_over_time', 'quantile_over_time',
]);

/** Metric names a PromQL expression selects (identifiers that are not functions, keywords or labels). */
export function metricNamesIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const withoutMatchers = withoutStrings.replace(/\{[^}]*\}/g, '{}').replace(/\[[^\]]*\]/g, '[]')
    .replace(/(?<![A-Za-z_$])\d[\w.]*/g, '0').replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = new Set<string>();
  for (const match of withoutMatchers.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = match[0];
    if (KEYWORDS.has(word)) continue;
    // Grafana variables (`$tenant`, `$__rate_interval`) are not metrics.
    if (withoutMatchers[match.index - 1] === '$') continue;
    names.add(word);
  }
  return [...names];
}
