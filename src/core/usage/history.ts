import {AppError} from '../errors.js'
import {parseJsonFile} from '../pools/parse.js'
import {addTotals, addUsage, TOKEN_FIELDS, TOTAL_KEYS, zeroTotals, type TokenTotals} from './totals.js'
import type {TokenUsage} from './tokens.js'

/** Days of history kept; older days are dropped when the file is next written. */
export const RETENTION_DAYS = 400

const DAY_MS = 86_400_000

/** Longest model name kept: names come from clients, and each new one is a new entry in the file. */
const MAX_MODEL_LENGTH = 200

/** One day's answers of one instance and model: how many carried usage, and their tokens. */
export interface UsageCell extends TokenTotals {
  requests: number
}

/** The day (UTC) a time falls on, as the history file keys it: `2026-12-04`. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/** The day `days` days before the one `ms` falls on. */
export function daysBefore(ms: number, days: number): string {
  return dayOf(ms - days * DAY_MS)
}

/**
 * Token usage by day, instance id and model. Maps, not objects, because model names come from clients and
 * `__proto__` is a name like any other.
 */
export class UsageDays {
  private readonly days = new Map<string, Map<string, Map<string, UsageCell>>>()

  get empty(): boolean {
    return this.days.size === 0
  }

  /** One answer's usage. */
  add(day: string, instanceId: string, model: string, usage: TokenUsage): void {
    const cell = this.cell(day, instanceId, model)
    addUsage(cell, usage)
    cell.requests++
  }

  addCell(day: string, instanceId: string, model: string, from: UsageCell): void {
    const into = this.cell(day, instanceId, model)
    addTotals(into, from)
    into.requests += from.requests
  }

  /** Adds every cell of `other` to this one's. */
  merge(other: UsageDays): void {
    for (const {day, instanceId, model, cell} of other.cells()) this.addCell(day, instanceId, model, cell)
  }

  /** Drops the days before `oldest`. */
  prune(oldest: string): void {
    for (const day of this.days.keys()) if (day < oldest) this.days.delete(day)
  }

  *cells(): Generator<{day: string; instanceId: string; model: string; cell: UsageCell}> {
    for (const [day, instances] of this.days)
      for (const [instanceId, models] of instances)
        for (const [model, cell] of models) yield {day, instanceId, model, cell}
  }

  /** The days as the file stores them, in order. Object.fromEntries defines keys, so `__proto__` stays a model. */
  stored(): Record<string, Record<string, Record<string, Record<string, number>>>> {
    const days = [...this.days].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return Object.fromEntries(
      days.map(([day, instances]) => [
        day,
        Object.fromEntries(
          [...instances].map(([instanceId, models]) => [
            instanceId,
            Object.fromEntries([...models].map(([model, cell]) => [model, storedCell(cell)])),
          ]),
        ),
      ]),
    )
  }

  private cell(day: string, instanceId: string, model: string): UsageCell {
    const name = model.length > MAX_MODEL_LENGTH ? model.slice(0, MAX_MODEL_LENGTH) : model
    let instances = this.days.get(day)
    if (!instances) this.days.set(day, (instances = new Map()))
    let models = instances.get(instanceId)
    if (!models) instances.set(instanceId, (models = new Map()))
    let cell = models.get(name)
    if (!cell) models.set(name, (cell = {...zeroTotals(), requests: 0}))
    return cell
  }
}

/**
 * The history file's text: `{"version": 1, "days": {"2026-12-04": {"<type>/<uuid>": {"<model>": {"requests": 3,
 * "inputTokens": …, "outputTokens": …, "cacheReadTokens": …, "cacheWriteTokens": …, "reasoningTokens": …,
 * "estimatedTokens": …}}}}}`, days in order; the token fields are named as in the pool file.
 */
export function historyText(history: UsageDays): string {
  return `${JSON.stringify({version: 1, days: history.stored()}, null, 2)}\n`
}

function storedCell(cell: UsageCell): Record<string, number> {
  return {
    requests: cell.requests,
    [TOKEN_FIELDS.input]: cell.input,
    [TOKEN_FIELDS.output]: cell.output,
    [TOKEN_FIELDS.cacheRead]: cell.cacheRead,
    [TOKEN_FIELDS.cacheWrite]: cell.cacheWrite,
    [TOKEN_FIELDS.reasoning]: cell.reasoning,
    [TOKEN_FIELDS.estimated]: cell.estimated,
  }
}

/** Reads the history file's text; anything that is not such a file is an error naming the file and the JSON path. */
export function parseHistory(text: string, file: string): UsageDays {
  const history = new UsageDays()
  if (text.trim() === '') return history
  const doc = parseJsonFile(text, file)
  const fail = (path: string, problem: string) =>
    new AppError(`${file}: ${path}: ${problem}. The file was not changed.`, {
      code: 'invalid_usage_file',
      suggestions: ['Fix the file by hand, or move it away to start a new history.'],
    })
  if (!isObject(doc) || !isObject(doc.days)) throw fail('days', 'must be an object of days')
  for (const [day, instances] of Object.entries(doc.days)) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || !isObject(instances))
      throw fail(`days.${day}`, 'must be a day (YYYY-MM-DD) holding an object of instances')
    for (const [instanceId, models] of Object.entries(instances)) {
      if (!isObject(models)) throw fail(`days.${day}.${instanceId}`, 'must be an object of models')
      for (const [model, stored] of Object.entries(models)) {
        const at = `days.${day}.${instanceId}.${model}`
        if (!isObject(stored)) throw fail(at, 'must be an object of counts')
        const cell: UsageCell = {...zeroTotals(), requests: countAt(stored, 'requests', at, fail)}
        for (const key of TOTAL_KEYS) cell[key] = countAt(stored, TOKEN_FIELDS[key], at, fail)
        history.addCell(day, instanceId, model, cell)
      }
    }
  }
  return history
}

function countAt(
  stored: Record<string, unknown>,
  field: string,
  at: string,
  fail: (path: string, problem: string) => Error,
): number {
  const value = stored[field]
  if (value === undefined) return 0
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw fail(`${at}.${field}`, 'must be a whole number ≥ 0')
  return value as number
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
