import {unwatchFile, watchFile, type Stats} from 'node:fs'
import {AppError, errorMessage} from '../errors.js'
import type {ChangeSet, OwnedField} from './pending-changes.js'
import type {PoolState} from './pool-state.js'
import type {PoolStore} from './store.js'
import {entriesById} from './schema.js'
import type {PoolDocument} from './types.js'
import {addToEntry} from '../usage/totals.js'

export interface PoolSyncOptions {
  /** Longest time a change waits before it is written; changes in that time share one write. */
  flushDelayMs?: number
  /** How often the file is checked for edits made by other processes. */
  pollMs?: number
  onWarning?: (message: string) => void
  onReload?: () => void
}

/**
 * Keeps PoolState and provider_pools.json in step while `serve` runs: outside edits are picked up within a
 * poll interval, and statistics are written at most `flushDelayMs` after they change, merged into whatever
 * the file holds at that moment. A file that stops parsing is reported and left alone until it is fixed.
 */
export class PoolSync {
  private timer: NodeJS.Timeout | undefined
  private flushing: Promise<void> | undefined
  private lastText: string | null = null
  private brokenReported: string | null = null
  private warnings = new Set<string>()
  /** The file was there and has gone: serve from memory and write nothing until it is back. */
  private missing = false
  private readonly flushDelayMs: number
  private readonly pollMs: number
  private readonly onDirty = () => this.schedule()
  private readonly onFileChange = (current: Stats, previous: Stats) => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size || current.ino !== previous.ino)
      void this.reload()
  }

  constructor(
    private readonly store: PoolStore,
    private readonly state: PoolState,
    private readonly options: PoolSyncOptions = {},
  ) {
    this.flushDelayMs = options.flushDelayMs ?? 1000
    this.pollMs = options.pollMs ?? 250
  }

  /** Loads the file (throwing if it cannot be used) and starts watching it. */
  async start(): Promise<void> {
    const snapshot = await this.store.read()
    this.lastText = snapshot.text
    this.state.sync(snapshot.instances)
    this.report(snapshot.warnings)
    this.state.on('dirty', this.onDirty)
    watchFile(this.store.file, {interval: this.pollMs, persistent: false}, this.onFileChange)
  }

  async reload(): Promise<void> {
    try {
      const snapshot = await this.store.read()
      if (!snapshot.exists && this.lastText !== null) {
        if (!this.missing)
          this.options.onWarning?.(
            `${this.store.file} was deleted. Serving the last known pool; statistics wait in memory until the file is back.`,
          )
        this.missing = true
        return
      }
      if (this.missing) this.options.onWarning?.(`${this.store.file} is back; its instances are in use.`)
      this.missing = false
      // An empty file where a pool was is a write caught half way (or a mistake), not a request to drop every instance.
      if (isBlank(snapshot.text) && !isBlank(this.lastText)) throw new AppError(`${this.store.file} is empty.`)
      this.recovered()
      if (snapshot.text === this.lastText) return
      this.lastText = snapshot.text
      this.state.sync(snapshot.instances)
      this.report(snapshot.warnings)
      this.options.onReload?.()
    } catch (error) {
      const message = errorMessage(error)
      if (this.brokenReported !== message) {
        this.brokenReported = message
        this.options.onWarning?.(
          `${message} Serving with the last good pool; statistics are kept in memory until the file is fixed.`,
        )
      }
    }
  }

  /** Whether writing statistics into this read of the file is safe: it was not deleted or emptied under us. */
  private usable(current: {exists: boolean; text: string | null}): boolean {
    return isBlank(this.lastText) || (current.exists && !isBlank(current.text))
  }

  /** Each warning about the file once while it lasts (again if it comes back after a fix). */
  private report(warnings: string[]): void {
    for (const warning of warnings) if (!this.warnings.has(warning)) this.options.onWarning?.(warning)
    this.warnings = new Set(warnings)
  }

  private recovered(): void {
    if (this.brokenReported) this.options.onWarning?.(`${this.store.file} is usable again; statistics are being saved.`)
    this.brokenReported = null
  }

  private schedule(): void {
    if (this.timer) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.flush()
    }, this.flushDelayMs)
    this.timer.unref()
  }

  /** Writes the pending changes now; one write at a time, later changes wait for the next. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing
    // Writing now would re-create a deleted file holding only statistics; they keep until it returns.
    if (this.missing) return this.schedule()
    const changes = this.state.drain()
    if (changes.size === 0) return
    this.flushing = (async () => {
      try {
        const {result, snapshot} = await this.store.update((doc, current) =>
          this.usable(current) ? applyChanges(doc, changes) : false,
        )
        if (result === false) {
          this.state.restore(changes)
          void this.reload()
          this.schedule()
          return
        }
        this.lastText = snapshot.text
        this.state.committed(changes)
        this.recovered()
      } catch (error) {
        this.state.restore(changes)
        const message = errorMessage(error)
        if (this.brokenReported !== message) {
          this.brokenReported = message
          this.options.onWarning?.(`Could not save statistics: ${message} Retrying.`)
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

  async stop(): Promise<void> {
    unwatchFile(this.store.file, this.onFileChange)
    this.state.off('dirty', this.onDirty)
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    await this.flush()
  }
}

function isBlank(text: string | null): boolean {
  return text === null || text.trim() === ''
}

function applyChanges(doc: PoolDocument, changes: ChangeSet): boolean {
  const entries = entriesById(doc)
  for (const [id, change] of changes) {
    const raw = entries.get(id)
    // Removed by someone else since: its statistics go with it.
    if (!raw) continue
    if (change.usage) raw.usageCount = (typeof raw.usageCount === 'number' ? raw.usageCount : 0) + change.usage
    if (change.errors) raw.errorCount = (typeof raw.errorCount === 'number' ? raw.errorCount : 0) + change.errors
    addToEntry(raw, change.tokens)
    for (const [field, value] of Object.entries(change.fields) as [OwnedField, unknown][]) {
      // Do not add empty optional fields to instances that never had them.
      if (value === null && !(field in raw)) continue
      raw[field] = value
    }
  }
  return true
}
