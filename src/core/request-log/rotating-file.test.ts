import {chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {RotatingFile} from './rotating-file.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aiclient-rotate-'))
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true})
})

const failOnError = (error: unknown) => {
  throw error
}

/** Every line of FILE.keep … FILE.1, FILE, oldest first. */
async function allLines(file: string, keep: number): Promise<string[]> {
  const names = [...Array.from({length: keep}, (_, i) => `${file}.${keep - i}`), file]
  const texts = await Promise.all(names.map((name) => readFile(name, 'utf8').catch(() => '')))
  return texts.flatMap((text) => text.split('\n').filter((line) => line !== ''))
}

describe('RotatingFile', () => {
  it('rotates before a line would pass the limit: no line lost, split or reordered, and no file over it', async () => {
    const file = join(dir, 'log.jsonl')
    const log = await RotatingFile.open(file, {maxBytes: 100, keep: 5}, failOnError)
    const lines = Array.from({length: 20}, (_, i) => JSON.stringify({n: i, pad: 'x'.repeat(i % 7)}))
    for (const line of lines) log.write(line)
    await log.close()
    expect(await allLines(file, 5)).toEqual(lines)
    for (const name of await readdir(dir)) {
      expect((await stat(join(dir, name))).size).toBeLessThanOrEqual(100)
      expect(await readFile(join(dir, name), 'utf8')).toMatch(/^(\{[^\n]*\}\n)+$/)
    }
  })

  it('keeps only `keep` rotated files, dropping the oldest lines', async () => {
    const file = join(dir, 'log.jsonl')
    const log = await RotatingFile.open(file, {maxBytes: 30, keep: 2}, failOnError)
    const lines = Array.from({length: 30}, (_, i) => `line ${String(i).padStart(2, '0')} ${'y'.repeat(10)}`)
    // Written across several turns too, as requests come.
    for (const line of lines) {
      log.write(line)
      if (Number(line.slice(5, 7)) % 4 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    await log.close()
    expect((await readdir(dir)).sort()).toEqual(['log.jsonl', 'log.jsonl.1', 'log.jsonl.2'])
    const kept = await allLines(file, 2)
    expect(kept).toEqual(lines.slice(lines.length - kept.length))
    expect(kept.length).toBe(3)
  })

  it('gives a line longer than the limit a file of its own rather than cutting it', async () => {
    const file = join(dir, 'log.jsonl')
    const log = await RotatingFile.open(file, {maxBytes: 10, keep: 3}, failOnError)
    for (const line of ['short', 'a line well past the limit', 'tail']) log.write(line)
    await log.close()
    expect(await readFile(`${file}.2`, 'utf8')).toBe('short\n')
    expect(await readFile(`${file}.1`, 'utf8')).toBe('a line well past the limit\n')
    expect(await readFile(file, 'utf8')).toBe('tail\n')
  })

  it('appends to an existing file, counting what it holds, and makes it readable by its owner only', async () => {
    const file = join(dir, 'log.jsonl')
    await writeFile(file, 'earlier run\n')
    await chmod(file, 0o644)
    const log = await RotatingFile.open(file, {maxBytes: 20, keep: 5}, failOnError)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    log.write('this run')
    log.write('again')
    await log.close()
    expect(await readFile(`${file}.1`, 'utf8')).toBe('earlier run\n')
    expect(await readFile(file, 'utf8')).toBe('this run\nagain\n')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect((await stat(`${file}.1`)).mode & 0o777).toBe(0o600)
  })

  it('reports a failed rotation once and goes on writing to the same file', async () => {
    const file = join(dir, 'log.jsonl')
    const errors: unknown[] = []
    const log = await RotatingFile.open(file, {maxBytes: 10, keep: 1}, (error) => errors.push(error))
    // FILE.1 is a directory that is not empty: the file cannot be renamed into place.
    await mkdir(join(dir, 'log.jsonl.1'))
    await writeFile(join(dir, 'log.jsonl.1', 'in the way'), '')
    for (const line of ['one', 'two', 'three', 'four']) {
      log.write(line)
      await new Promise((resolve) => setImmediate(resolve))
    }
    await log.close()
    expect(errors).toHaveLength(1)
    expect(await readFile(file, 'utf8')).toBe('one\ntwo\nthree\nfour\n')
  })

  it('drops lines past the queue limit while the disk is busy, and says how many once it has caught up', async () => {
    const file = join(dir, 'log.jsonl')
    const errors: string[] = []
    const log = await RotatingFile.open(file, {maxBytes: 1_000_000, keep: 1, maxQueued: 25}, (error) =>
      errors.push(String(error)),
    )
    // The first line goes to the disk at once; the next ones queue behind it.
    for (const line of ['first', 'queued 1', 'queued 2', 'queued 3', 'queued 4']) log.write(line)
    await log.close()
    expect(await readFile(file, 'utf8')).toBe('first\nqueued 1\nqueued 2\nqueued 3\n')
    expect(errors).toEqual(['Error: 1 line was dropped: the disk did not keep up'])
  })

  it('drops lines written after close', async () => {
    const file = join(dir, 'log.jsonl')
    const log = await RotatingFile.open(file, {maxBytes: 1000, keep: 1}, failOnError)
    log.write('before')
    await log.close()
    log.write('after')
    await new Promise((resolve) => setImmediate(resolve))
    expect(await readFile(file, 'utf8')).toBe('before\n')
  })
})
