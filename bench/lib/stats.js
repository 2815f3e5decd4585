export function median(values) {
  const xs = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b)
  if (xs.length === 0) return null
  const mid = Math.floor(xs.length / 2)
  return xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2
}

/** Interquartile range as [q1, q3], to show how far rounds disagreed. */
export function quartiles(values) {
  const xs = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b)
  if (xs.length === 0) return null
  const at = (q) => {
    const pos = (xs.length - 1) * q
    const lo = Math.floor(pos)
    const hi = Math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
  }
  return [at(0.25), at(0.75)]
}
