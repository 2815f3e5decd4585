import {UsageError} from '../errors.js'
import {dayOf, daysBefore, type UsageCell, type UsageDays} from './history.js'
import {TOKEN_FIELDS, TOTAL_KEYS, totalOf} from './totals.js'

export const GROUPINGS = ['instance', 'model', 'day'] as const
export type Grouping = (typeof GROUPINGS)[number]

/** One line of the report: what it groups by, then the counts, named as in the pool and history files. */
export interface UsageRow {
  /** The instance id (`type/uuid`), the model or the day. */
  key: string
  requests: number
  inputTokens: number
  outputTokens: number
  cacheReadTokens: number
  cacheWriteTokens: number
  reasoningTokens: number
  estimatedTokens: number
  /** All input (uncached, cache read, cache write) plus output; reasoning is part of the output. */
  totalTokens: number
}

export interface UsageReport {
  /** The first day counted (UTC); null for the whole history. */
  since: string | null
  by: Grouping
  rows: UsageRow[]
  total: UsageRow
}

const HOUR_MS = 3_600_000

/**
 * The first day `--since` takes in: `7d` is today and the six days before, `24h` the day 24 hours ago and after,
 * `2026-11-01` that day. The history counts whole days (UTC), so a window in hours starts at the beginning of its day.
 */
export function parseSince(text: string, now: number): string {
  const relative = /^(\d{1,5})([dh])$/.exec(text.trim())
  if (relative) {
    const amount = Number(relative[1])
    if (amount > 0) return relative[2] === 'd' ? daysBefore(now, amount - 1) : dayOf(now - amount * HOUR_MS)
  } else if (/^\d{4}-\d{2}-\d{2}$/.test(text.trim())) {
    const time = Date.parse(`${text.trim()}T00:00:00Z`)
    if (!Number.isNaN(time) && dayOf(time) === text.trim()) return text.trim()
  }
  throw new UsageError(`--since must be a number of days (7d), of hours (24h) or a date (2026-11-01), not "${text}".`, {
    code: 'invalid_flag',
  })
}

/** Sums the history from `since` on, of one provider type or all, by instance, model or day. */
export function usageReport(history: UsageDays, options: {since?: string; by: Grouping; type?: string}): UsageReport {
  const groups = new Map<string, UsageRow>()
  const total = emptyRow('total')
  for (const {day, instanceId, model, cell} of history.cells()) {
    if (options.since !== undefined && day < options.since) continue
    if (options.type !== undefined && !instanceId.startsWith(`${options.type}/`)) continue
    const key = options.by === 'instance' ? instanceId : options.by === 'model' ? model : day
    let row = groups.get(key)
    if (!row) groups.set(key, (row = emptyRow(key)))
    addCell(row, cell)
    addCell(total, cell)
  }
  const rows = [...groups.values()].sort(
    options.by === 'day'
      ? (a, b) => compare(a.key, b.key)
      : (a, b) => b.totalTokens - a.totalTokens || compare(a.key, b.key),
  )
  return {since: options.since ?? null, by: options.by, rows, total}
}

function emptyRow(key: string): UsageRow {
  return {
    key,
    requests: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    estimatedTokens: 0,
    totalTokens: 0,
  }
}

function addCell(row: UsageRow, cell: UsageCell): void {
  row.requests += cell.requests
  for (const key of TOTAL_KEYS) row[TOKEN_FIELDS[key]] += cell[key]
  row.totalTokens += totalOf(cell)
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** The counts of a row in column order, for the table and the CSV. */
export const COUNT_COLUMNS = [
  'requests',
  'inputTokens',
  'outputTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'reasoningTokens',
  'estimatedTokens',
  'totalTokens',
] as const satisfies readonly (keyof UsageRow)[]

/**
 * RFC 4180 CSV with a header line. Model names and instance names come from clients and files: a cell a spreadsheet
 * would run as a formula (`=`, `+`, `-`, `@` first) gets a leading apostrophe.
 */
export function toCsv(header: readonly string[], lines: ReadonlyArray<readonly (string | number)[]>): string {
  return [header, ...lines].map((cells) => cells.map(csvCell).join(',')).join('\r\n') + '\r\n'
}

function csvCell(value: string | number): string {
  if (typeof value === 'number') return String(value)
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}
