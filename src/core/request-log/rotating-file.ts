import {open, rename, type FileHandle} from 'node:fs/promises'

export interface Rotation {
  /** A file is rotated before a line would take it past this size; a single longer line gets a file of its own. */
  maxBytes: number
  /** Rotated files kept: FILE.1 (the newest) … FILE.keep; older ones are overwritten. */
  keep: number
  /** Characters queued for a disk that does not keep up, past which lines are dropped (and counted). */
  maxQueued?: number
}

const DEFAULT_MAX_QUEUED = 32 * 1024 * 1024

/**
 * An append-only file of whole lines, rotated by size. Lines are queued and written in batches by one writer at a
 * time, so a request never waits for the disk, no write overlaps another, and a rotation falls between two lines.
 */
export class RotatingFile {
  private pending: string[] = []
  private queued = 0
  private dropped = 0
  private writing: Promise<void> | undefined
  private closed = false
  /** Set from a failure until a batch goes through without one: a full disk reports once, not once per line. */
  private failing = false
  private failures = 0

  private constructor(
    private readonly path: string,
    private readonly rotation: Rotation,
    private readonly onError: (error: unknown) => void,
    private handle: FileHandle,
    private size: number,
  ) {}

  /** Opens (or creates) `path` for appending; fails as `open` does when it cannot be written. */
  static async open(path: string, rotation: Rotation, onError: (error: unknown) => void): Promise<RotatingFile> {
    const handle = await openPrivate(path)
    return new RotatingFile(path, rotation, onError, handle, (await handle.stat()).size)
  }

  /** Queues one line (without its line break); lines written after close are dropped. */
  write(line: string): void {
    if (this.closed) return
    if (this.queued + line.length > (this.rotation.maxQueued ?? DEFAULT_MAX_QUEUED)) {
      this.dropped++
      return
    }
    this.queued += line.length
    this.pending.push(`${line}\n`)
    this.writing ??= this.drain()
  }

  /** Writes what is queued, then closes the file. */
  async close(): Promise<void> {
    this.closed = true
    await this.writing
    await this.handle.close()
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const lines = this.pending
      this.pending = []
      this.queued = 0
      const failures = this.failures
      try {
        await this.append(lines)
      } catch (error) {
        this.report(error)
      }
      if (this.failures === failures) this.failing = false
    }
    if (this.dropped > 0) {
      const lines = this.dropped === 1 ? '1 line was' : `${this.dropped} lines were`
      this.onError(new Error(`${lines} dropped: the disk did not keep up`))
    }
    this.dropped = 0
    this.writing = undefined
  }

  private report(error: unknown): void {
    this.failures++
    if (!this.failing) this.onError(error)
    this.failing = true
  }

  /** Writes `lines` in as few calls as rotation allows. */
  private async append(lines: string[]): Promise<void> {
    let batch = ''
    let batchBytes = 0
    for (const line of lines) {
      const bytes = Buffer.byteLength(line)
      const filled = this.size + batchBytes
      if (filled > 0 && filled + bytes > this.rotation.maxBytes) {
        await this.writeOut(batch, batchBytes)
        batch = ''
        batchBytes = 0
        await this.rotate()
      }
      batch += line
      batchBytes += bytes
    }
    await this.writeOut(batch, batchBytes)
  }

  private async writeOut(text: string, bytes: number): Promise<void> {
    if (bytes === 0) return
    // appendFile, unlike write, goes on until every byte is written: a line is never left cut.
    await this.handle.appendFile(text)
    this.size += bytes
  }

  /** FILE.(keep-1) → FILE.keep … FILE → FILE.1, then a fresh FILE; after a failed rename, FILE goes on growing. */
  private async rotate(): Promise<void> {
    await this.handle.close()
    try {
      for (let n = this.rotation.keep - 1; n >= 1; n--)
        await renameIfPresent(`${this.path}.${n}`, `${this.path}.${n + 1}`)
      await renameIfPresent(this.path, `${this.path}.1`)
    } catch (error) {
      this.report(error)
    }
    this.handle = await openPrivate(this.path)
    this.size = (await this.handle.stat()).size
  }
}

/** For appending, readable by its owner only whoever created it: request lines name accounts and models. */
async function openPrivate(path: string): Promise<FileHandle> {
  const handle = await open(path, 'a', 0o600)
  try {
    await handle.chmod(0o600)
  } catch (error) {
    await handle.close()
    throw error
  }
  return handle
}

async function renameIfPresent(from: string, to: string): Promise<void> {
  try {
    await rename(from, to)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}
