import type {Writable} from 'node:stream'
import {escapeControls} from './escape.js'
import {instanceLabel, type PoolEvent} from './pools/pool-state.js'
import type {RequestRecord} from './proxy/types.js'

/**
 * Collects lines and writes them once per event-loop turn: a busy server makes one write call per batch
 * instead of one per request, and logging never sits between an upstream read and the client write.
 * Every entry is one line: model names, instance names and upstream messages inside it are client or file
 * controlled, so their control characters are escaped here, where every log line passes.
 */
export function createLineWriter(stream: Writable): (line: string) => void {
  let buffer: string[] = []
  let scheduled = false
  const flush = () => {
    scheduled = false
    const text = buffer.join('')
    buffer = []
    stream.write(text)
  }
  return (line) => {
    buffer.push(`${escapeControls(line)}\n`)
    if (!scheduled) {
      scheduled = true
      setImmediate(flush)
    }
  }
}

/** The client's model, and the name an alias sent the upstream instead: `claude-opus-5-5→claude-opus-4-8`. */
export function modelLabel(record: Pick<RequestRecord, 'model' | 'upstreamModel'>): string {
  return record.upstreamModel === undefined ? record.model : `${record.model}→${record.upstreamModel}`
}

/** The type that served a request, after the one asked for when a fallback served it: `claude-kiro-oauth→claude-custom`. */
export function typeLabel(record: Pick<RequestRecord, 'type' | 'fallbackFrom'>): string {
  const type = record.type ?? '-'
  return record.fallbackFrom === undefined ? type : `${record.fallbackFrom}→${type}`
}

/**
 * One line per request: time, route, provider type (the one asked for first when a fallback served it), instance, status, duration (and attempts when > 1, both model
 * names when an alias renamed the model).
 */
export function formatRecord(record: RequestRecord): string {
  const parts = [
    new Date(record.time).toISOString(),
    record.route,
    typeLabel(record),
    record.instance ?? '-',
    String(record.status),
    `${record.ms}ms`,
  ]
  if (record.attempts > 1) parts.push(`attempts=${record.attempts}`)
  if (record.upstreamModel !== undefined) parts.push(`model=${modelLabel(record)}`)
  if (record.error) parts.push(`error="${record.error.replaceAll('"', "'")}"`)
  return parts.join(' ')
}

/** Health changes and probe results as log lines: time, "health", type, instance, new state and why. */
export function formatPoolEvent(event: PoolEvent, now: number): string | undefined {
  if (event.type === 'changed') return undefined
  const live = event.instance
  const name = instanceLabel(live)
  const time = new Date(now).toISOString()
  if (event.type === 'probe')
    return `${time} probe ${live.config.type} ${name} ${event.healthy ? 'ok' : `failed: ${event.reason ?? 'unknown'}`}`
  const until = event.state === 'cooling' ? ` until ${new Date(live.cooldownUntil).toISOString()}` : ''
  return `${time} health ${live.config.type} ${name} ${event.state}${event.reason ? ` (${event.reason})` : ''}${until}`
}
