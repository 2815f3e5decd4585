export function editDistance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }
  return row[b.length]!
}

/** The closest candidate, when it is close enough to be a plausible typo. */
export function nearest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const distance = candidate.startsWith(input) || candidate.includes(input) ? 1 : editDistance(input, candidate)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return bestDistance <= Math.max(3, Math.floor(input.length / 2)) ? best : undefined
}

/** "12s ago", "3m ago", "2h ago", "5d ago"; "never" for null. */
export function relativeTime(iso: string | null, now: number): string {
  if (!iso) return 'never'
  const then = Date.parse(iso)
  if (Number.isNaN(then)) return iso
  const seconds = Math.round((now - then) / 1000)
  const future = seconds < 0
  const abs = Math.abs(seconds)
  const span =
    abs < 60
      ? `${abs}s`
      : abs < 3600
        ? `${Math.floor(abs / 60)}m`
        : abs < 86_400
          ? `${Math.floor(abs / 3600)}h`
          : `${Math.floor(abs / 86_400)}d`
  return future ? `in ${span}` : `${span} ago`
}

/** "15s", "1500ms", "2m", "1h" or a bare number of seconds → milliseconds; undefined when unreadable. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim())
  if (!match) return undefined
  const value = Number(match[1])
  const unit = match[2] ?? 's'
  return Math.round(value * {ms: 1, s: 1000, m: 60_000, h: 3_600_000}[unit]!)
}

/** Whether an environment flag such as CI is set to a true value ("false" and "0" are not). */
export function envFlag(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false'
}

const COUNT_UNITS = ['', 'k', 'M', 'G', 'T']

/** A count in at most four characters and a unit, for narrow columns: 950, 12.3k, 480k, 1.2M. */
export function compactCount(count: number): string {
  let value = count
  let unit = 0
  // Rounded before it is compared, so 999,960 reads 1M rather than 1000k.
  while (unit < COUNT_UNITS.length - 1 && Number(value.toPrecision(3)) >= 1000) {
    value /= 1000
    unit++
  }
  const shown =
    unit === 0
      ? String(Math.round(value))
      : value < 100
        ? value.toFixed(1).replace(/\.0$/, '')
        : String(Math.round(value))
  return `${shown}${COUNT_UNITS[unit]}`
}
