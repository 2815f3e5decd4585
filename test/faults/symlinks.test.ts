import {lstat, mkdir, readFile, readlink, stat, symlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {lockBase} from '../../src/core/oauth/credential-file.js'
import {resolveEndpoints} from '../../src/core/oauth/endpoints.js'
import {saveLogin} from '../../src/core/oauth/login.js'
import {qwenCredentialSpec} from '../../src/core/oauth/qwen.js'
import {TokenManager} from '../../src/core/oauth/token-manager.js'
import {acquireFileLock} from '../../src/core/fs/file-lock.js'
import {addInstance} from '../../src/core/pools/operations.js'
import {PoolStore} from '../../src/core/pools/store.js'
import {startFakeQwenOAuth, type FakeQwenOAuth} from '../fakes/oauth/index.js'
import {runCli, tempDir} from '../helpers/cli.js'

let dir: string
let cleanup: () => Promise<void>
let vault: string
let fake: FakeQwenOAuth | undefined

beforeEach(async () => {
  ;({dir, cleanup} = await tempDir())
  // The real files live elsewhere (a dotfiles repository, a synced folder); the usual paths are links to them.
  vault = join(dir, 'vault')
  await mkdir(vault)
})
afterEach(async () => {
  await fake?.close()
  fake = undefined
  await cleanup()
})

async function expectLinkTo(link: string, target: string): Promise<void> {
  expect((await lstat(link)).isSymbolicLink()).toBe(true)
  expect(await readlink(link)).toBe(target)
  expect((await stat(target)).mode & 0o777).toBe(0o600)
}

describe('a symlinked pool file', () => {
  it('stays a link after `pool add`; the target gets the new instance, mode 0600', async () => {
    const target = join(vault, 'pools.json')
    const link = join(dir, 'provider_pools.json')
    await writeFile(target, JSON.stringify({'openai-custom': []}), {mode: 0o644})
    await symlink(target, link)
    const result = await runCli(['pool', 'add', 'openai-custom', '--key', 'sk-linked-0123456789abcdef'], {cwd: dir})
    expect(result.code, result.stderr).toBe(0)
    await expectLinkTo(link, target)
    expect(JSON.parse(await readFile(target, 'utf8'))['openai-custom'][0].OPENAI_API_KEY).toBe(
      'sk-linked-0123456789abcdef',
    )
  })

  it('follows a relative link, and a link to a link', async () => {
    const target = join(vault, 'pools.json')
    await writeFile(target, '{}')
    await symlink('vault/pools.json', join(dir, 'middle.json'))
    await symlink(join(dir, 'middle.json'), join(dir, 'provider_pools.json'))
    await addInstance(new PoolStore(join(dir, 'provider_pools.json')), {
      type: 'claude-custom',
      key: 'sk-ant-0123456789abcdef',
    })
    expect((await lstat(join(dir, 'provider_pools.json'))).isSymbolicLink()).toBe(true)
    expect((await lstat(join(dir, 'middle.json'))).isSymbolicLink()).toBe(true)
    expect(JSON.parse(await readFile(target, 'utf8'))['claude-custom']).toHaveLength(1)
  })

  it("locks the target: a write through the link waits for the target's lock", async () => {
    const target = join(vault, 'pools.json')
    const link = join(dir, 'provider_pools.json')
    await writeFile(target, '{}')
    await symlink(target, link)
    const release = await acquireFileLock(target)
    try {
      const store = new PoolStore(link, {lock: {timeoutMs: 300}})
      await expect(addInstance(store, {type: 'claude-custom', key: 'sk-ant-0123456789abcdef'})).rejects.toThrow(
        /Timed out waiting for the lock on .*vault\/pools\.json/,
      )
    } finally {
      await release()
    }
    // Positive control: with the lock free, the same write goes through.
    await addInstance(new PoolStore(link), {type: 'claude-custom', key: 'sk-ant-0123456789abcdef'})
    expect(JSON.parse(await readFile(target, 'utf8'))['claude-custom']).toHaveLength(1)
  })
})

describe('a symlinked credential file', () => {
  async function linkedQwenCreds(expiresInMs: number) {
    fake = await startFakeQwenOAuth({refreshTokenOnRefresh: 'new'})
    const target = join(vault, 'qwen.json')
    const link = join(dir, '.qwen', 'oauth_creds.json')
    await mkdir(join(dir, '.qwen'))
    const tokens = fake.issueTokens()
    await writeFile(
      target,
      JSON.stringify({
        ...tokens,
        token_type: 'Bearer',
        resource_url: 'portal.qwen.ai',
        expiry_date: Date.now() + expiresInMs,
        vendor: 'kept',
      }),
      {mode: 0o600},
    )
    await symlink(target, link)
    return {target, link, tokens}
  }

  it('a token refresh writes the rotated tokens into the target, and the link stays', async () => {
    const {target, link, tokens} = await linkedQwenCreds(-1000)
    const manager = new TokenManager(qwenCredentialSpec, link, {endpoints: resolveEndpoints(fake!.env)})
    const token = await manager.getAccessToken()
    expect(token.token).not.toBe(tokens.access_token)
    await expectLinkTo(link, target)
    const written = JSON.parse(await readFile(target, 'utf8'))
    expect(written).toMatchObject({access_token: token.token, vendor: 'kept'})
    expect(written.refresh_token).not.toBe(tokens.refresh_token)
  })

  it("a refresh takes the target's lock, the one the vendor CLI takes through the real path", async () => {
    const {target, link} = await linkedQwenCreds(-1000)
    const release = await acquireFileLock(lockBase(target))
    try {
      const manager = new TokenManager(qwenCredentialSpec, link, {
        endpoints: resolveEndpoints(fake!.env),
        lock: {timeoutMs: 300},
      })
      await expect(manager.getAccessToken()).rejects.toThrow(/Timed out waiting for the lock/)
      expect(fake!.refreshCount).toBe(0)
    } finally {
      await release()
    }
  })

  it('auth login writes through the link, keeping fields of other tools', async () => {
    const {target, link} = await linkedQwenCreds(60_000)
    await saveLogin(link, {
      provider: 'qwen',
      credentials: {
        access_token: 'new-access',
        refresh_token: 'new-refresh',
        token_type: 'Bearer',
        resource_url: 'portal.qwen.ai',
        expiry_date: Date.now() + 3_600_000,
      },
      expiresAt: new Date(Date.now() + 3_600_000),
      account: null,
    })
    await expectLinkTo(link, target)
    expect(JSON.parse(await readFile(target, 'utf8'))).toMatchObject({
      access_token: 'new-access',
      refresh_token: 'new-refresh',
      vendor: 'kept',
    })
  })
})
