import {lstat, mkdir, mkdtemp, open, readdir, readFile, readlink, rm, stat, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {writeFileAtomic} from './atomic-write.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aiclient-atomic-'))
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true})
})

const mode = async (path: string) => (await stat(path)).mode & 0o777

describe('writeFileAtomic', () => {
  it('replaces the file by renaming a complete new one over it: a reader of the old file keeps the old content', async () => {
    const file = join(dir, 'pool.json')
    await writeFile(file, 'old content')
    const reader = await open(file, 'r')
    try {
      await writeFileAtomic(file, 'new content')
      expect(await readFile(file, 'utf8')).toBe('new content')
      // Written in place, the open handle would read the new bytes; replaced by rename, it still sees the old file.
      expect((await reader.readFile()).toString()).toBe('old content')
    } finally {
      await reader.close()
    }
    expect(await readdir(dir)).toEqual(['pool.json'])
  })

  it('gives the file mode 0600 whatever it had, and creates a missing directory 0700', async () => {
    const file = join(dir, 'pool.json')
    await writeFile(file, '{}', {mode: 0o644})
    await writeFileAtomic(file, '{"a":1}')
    expect(await mode(file)).toBe(0o600)
    const nested = join(dir, 'new', 'creds.json')
    await writeFileAtomic(nested, 'x')
    expect(await mode(join(dir, 'new'))).toBe(0o700)
    expect(await mode(nested)).toBe(0o600)
  })

  it('writes through a chain of symbolic links to the final target and keeps the links', async () => {
    const target = join(dir, 'real', 'pool.json')
    await mkdir(join(dir, 'real'))
    await writeFile(target, 'old')
    await symlink(target, join(dir, 'middle.json'))
    await symlink('middle.json', join(dir, 'link.json'))
    await writeFileAtomic(join(dir, 'link.json'), 'new')
    expect(await readFile(target, 'utf8')).toBe('new')
    expect((await lstat(join(dir, 'link.json'))).isSymbolicLink()).toBe(true)
    expect(await readlink(join(dir, 'link.json'))).toBe('middle.json')
    expect(await mode(target)).toBe(0o600)
    expect(await readdir(join(dir, 'real'))).toEqual(['pool.json'])
  })

  it('creates the missing target of a dangling link', async () => {
    await symlink(join(dir, 'later.json'), join(dir, 'link.json'))
    await writeFileAtomic(join(dir, 'link.json'), 'made')
    expect(await readFile(join(dir, 'later.json'), 'utf8')).toBe('made')
    expect((await lstat(join(dir, 'link.json'))).isSymbolicLink()).toBe(true)
  })

  it('refuses to replace something that is not a regular file, and leaves no temp file', async () => {
    await mkdir(join(dir, 'pool.json'))
    await expect(writeFileAtomic(join(dir, 'pool.json'), 'x')).rejects.toThrow()
    expect((await stat(join(dir, 'pool.json'))).isDirectory()).toBe(true)
    expect(await readdir(dir)).toEqual(['pool.json'])
  })
})
