import parsePrometheusTextFormat from 'parse-prometheus-text-format'

export type Families = ReturnType<typeof parsePrometheusTextFormat>

/**
 * Parses a scrape (throwing where it is not the text format) into families whose samples keep their labels. The
 * parser folds a histogram's series into one unless it has no labels, so histograms are also read as untyped:
 * `x_bucket`, `x_sum` and `x_count` then come out as families of their own.
 */
export function parseMetrics(text: string): Families {
  const typed = parsePrometheusTextFormat(text)
  const histograms = typed.filter((f) => f.type === 'HISTOGRAM').map((f) => f.name)
  const untyped = parsePrometheusTextFormat(
    text.replace(/^# TYPE (\S+) histogram$/gm, (line, name: string) =>
      histograms.includes(name) ? `# TYPE ${name} untyped` : line,
    ),
  )
  return [
    ...typed.filter((f) => f.type !== 'HISTOGRAM'),
    ...untyped.filter((f) => histograms.some((h) => f.name.startsWith(`${h}_`))),
  ]
}

/** The samples of one metric whose labels include `labels` (read as untyped, a histogram's series each make families). */
export function samples(families: Families, name: string, labels: Record<string, string> = {}) {
  const named = families.filter((f) => f.name === name)
  if (named.length === 0) throw new Error(`no metric ${name} in the scrape`)
  return named.flatMap((f) => f.metrics).filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
}

/** The sum of the samples whose labels include `labels`. */
export function total(families: Families, name: string, labels: Record<string, string> = {}): number {
  return samples(families, name, labels).reduce((sum, m) => sum + Number(m.value), 0)
}
