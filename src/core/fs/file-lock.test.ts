import {spawnSync} from 'node:child_process'
import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {AppError} from '../errors.js'
import {acquireFileLock, withFileLock} from './file-lock.js'

let dir: string
let file: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aiclient-lock-'))
  file = join(dir, 'pool.json')
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true})
})

/** The pid of a process that has exited: nothing owns it any more. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'})
  return Number(child.stdout)
}

const noWait = async () => {}

describe('withFileLock', () => {
  it('holds a private lock file with our token while the action runs, and removes it after', async () => {
    const seen = await withFileLock(file, async () => {
      const info = await stat(`${file}.lock`)
      return {mode: info.mode & 0o777, owner: (await readFile(`${file}.lock`, 'utf8')).split(':')[0]}
    })
    expect(seen).toEqual({mode: 0o600, owner: String(process.pid)})
    await expect(stat(`${file}.lock`)).rejects.toMatchObject({code: 'ENOENT'})
  })

  it('takes over at once a fresh lock left by a process that has died', async () => {
    await writeFile(`${file}.lock`, `${deadPid()}:${Date.now()}:0.5`)
    const started = Date.now()
    const result = await withFileLock(file, async () => readFile(`${file}.lock`, 'utf8'), {
      timeoutMs: 5_000,
      staleMs: 60_000,
    })
    expect(result.startsWith(`${process.pid}:`)).toBe(true)
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  it('waits for a live owner, and gives up with a clear error when it does not let go', async () => {
    await writeFile(`${file}.lock`, `${process.pid}:${Date.now()}:0.5`)
    let ran = false
    const attempt = withFileLock(file, async () => (ran = true), {timeoutMs: 50, staleMs: 60_000, sleep: noWait})
    await expect(attempt).rejects.toBeInstanceOf(AppError)
    await expect(attempt).rejects.toMatchObject({code: 'lock_timeout'})
    expect(ran).toBe(false)
    expect(await readFile(`${file}.lock`, 'utf8')).toMatch(new RegExp(`^${process.pid}:`))
  })

  it('gets the lock once its live owner releases it', async () => {
    const release = await acquireFileLock(file)
    const order: string[] = []
    const waiting = withFileLock(file, async () => order.push('second'), {timeoutMs: 5_000})
    await new Promise((resolve) => setTimeout(resolve, 30))
    order.push('first done')
    await release()
    await waiting
    expect(order).toEqual(['first done', 'second'])
  })

  it('breaks a lock older than the stale time even when its owner looks alive', async () => {
    await writeFile(`${file}.lock`, `${process.pid}:0:0.5`)
    const old = new Date(Date.now() - 60_000)
    const {utimes} = await import('node:fs/promises')
    await utimes(`${file}.lock`, old, old)
    await expect(
      withFileLock(file, async () => 'got it', {timeoutMs: 50, staleMs: 10_000, sleep: noWait}),
    ).resolves.toBe('got it')
  })
})
