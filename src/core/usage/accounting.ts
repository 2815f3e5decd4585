import {errorMessage} from '../errors.js'
import type {PoolState} from '../pools/pool-state.js'
import type {RequestRecord} from '../proxy/types.js'
import {HistoryWriter} from './history-file.js'
import {dayOf, UsageDays} from './history.js'

/**
 * The history is written less often than the pool file's statistics: a long history is a large file to rewrite, and
 * the pool entry's totals (written within a second) are what the board and `pool list` show.
 */
export const HISTORY_FLUSH_MS = 5_000

export interface AccountingOptions {
  /** The daily history file (historyFileOf the pool file). */
  historyFile: string
  poolFile: string
  now?: () => number
  /** Longest time counts wait before they are written; counts in that time share one write (HISTORY_FLUSH_MS). */
  flushDelayMs?: number
  onWarning?: (message: string) => void
}

/**
 * The consumer of served requests' token usage: each answer's tokens go to its instance's totals in PoolState
 * (which PoolSync writes into the pool entry) and to the daily history by instance and model, which this writes
 * beside the pool file the way PoolSync writes the pool: debounced, merged with the file under the lock, given
 * back and retried when a write fails.
 */
export class TokenAccounting {
  private pending = new UsageDays()
  private timer: NodeJS.Timeout | undefined
  private flushing: Promise<void> | undefined
  private reported: string | null = null
  private readonly now: () => number
  private readonly flushDelayMs: number
  private readonly writer: HistoryWriter
  private stopped = false
  /** The day of the last answer and its bounds: one date formatted per day, not per request. */
  private day = {name: '', start: 0, end: 0}

  constructor(
    private readonly state: PoolState,
    private readonly options: AccountingOptions,
  ) {
    this.now = options.now ?? Date.now
    this.flushDelayMs = options.flushDelayMs ?? HISTORY_FLUSH_MS
    this.writer = new HistoryWriter(options.historyFile, options.poolFile)
  }

  /** Counts a served request's tokens, if it has any; requests refused before an instance answered have none. */
  record(record: RequestRecord): void {
    const {usage, instanceId} = record
    if (!usage || instanceId === undefined) return
    this.state.countTokens(instanceId, usage)
    this.pending.add(this.dayAt(record.time + record.ms), instanceId, record.upstreamModel ?? record.model, usage)
    this.schedule()
  }

  private dayAt(ms: number): string {
    if (ms < this.day.start || ms >= this.day.end) {
      const name = dayOf(ms)
      const start = Date.parse(`${name}T00:00:00Z`)
      this.day = {name, start, end: start + 86_400_000}
    }
    return this.day.name
  }

  private schedule(): void {
    if (this.timer || this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.flush()
    }, this.flushDelayMs)
    this.timer.unref()
  }

  /** Writes what is pending now; one write at a time, later counts wait for the next. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing
    if (this.pending.empty) return
    const batch = this.pending
    this.pending = new UsageDays()
    this.flushing = (async () => {
      try {
        await this.writer.add(batch, this.now())
        if (this.reported)
          this.options.onWarning?.(`${this.options.historyFile} is usable again; usage is being saved.`)
        this.reported = null
      } catch (error) {
        // Kept for the next write: a history that cannot be written now (or is being fixed by hand) loses nothing.
        batch.merge(this.pending)
        this.pending = batch
        const message = errorMessage(error)
        if (this.reported !== message) {
          this.reported = message
          this.options.onWarning?.(`Could not save token usage: ${message} Retrying.`)
        }
        this.schedule()
      }
    })()
    try {
      await this.flushing
    } finally {
      this.flushing = undefined
    }
  }

  /** Writes what is pending; a failure then is reported and the counts are lost with the process. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    await this.flush()
  }
}
