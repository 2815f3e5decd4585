import {stat} from 'node:fs/promises'
import {resolve} from 'node:path'
import type {Dispatcher} from 'undici'
import {AppError, errorMessage} from '../errors.js'
import {rememberSecrets, secretValues} from '../secrets.js'
import type {LockOptions} from '../fs/file-lock.js'
import {
  defaultCredentialPath,
  readCredentialJson,
  withCredentialLock,
  writeCredentialJson,
  type CredentialJson,
} from './credential-file.js'
import {resolveEndpoints, type OAuthEndpoints} from './endpoints.js'
import {TokenError, type OAuthProvider, type TokenErrorKind} from './errors.js'
import {isOk, serverSays, type HttpContext, type HttpReply} from './http.js'

export interface AccessToken {
  token: string
  expiresAt: Date
  tokenType: string
}

export interface RefreshContext {
  file: string
  endpoints: OAuthEndpoints
  http: HttpContext
  now: number
}

/** How one provider's credential file is read and refreshed. */
export interface CredentialSpec<T extends AccessToken> {
  provider: OAuthProvider
  /** Refresh this long before expiry unless the manager is told otherwise. */
  leadMs: number
  /** The token a file holds; throws UnusableCredentials when the content cannot be used. */
  read(content: CredentialJson): T
  /**
   * Calls the token endpoint and returns the file's next content: unknown fields kept, the old refresh token kept
   * when the server sends none. Throws RefreshRejected when the server refuses the refresh token.
   */
  refresh(content: CredentialJson, ctx: RefreshContext): Promise<CredentialJson>
}

/** A credential file whose content holds no usable token (fields missing); only a new login helps. */
export class UnusableCredentials extends Error {
  override name = 'UnusableCredentials'
  readonly code = 'unusable_credentials'
}

/** The token endpoint refused the refresh token (invalid_grant, 400/401): only a new login helps. */
export class RefreshRejected extends Error {
  override name = 'RefreshRejected'
  readonly code = 'refresh_rejected'
}

/** Throws RefreshRejected for 400/401, a transient error for other failures; returns the JSON body of a success. */
export function refreshReply(reply: HttpReply, url: string, tokenField: string): Record<string, unknown> {
  const body = reply.json as Record<string, unknown> | undefined
  if (reply.status === 400 || reply.status === 401)
    throw new RefreshRejected(`${url} refused the refresh token: ${serverSays(reply)}.`)
  if (!isOk(reply) || typeof body?.[tokenField] !== 'string') {
    throw new AppError(`Token refresh at ${url} failed: ${serverSays(reply)}.`, {code: 'refresh_failed'})
  }
  return body
}

export interface TokenManagerOptions {
  endpoints?: OAuthEndpoints
  dispatcher?: Dispatcher
  now?: () => number
  /** Refresh this long before expiry (defaults: Qwen 30 s, Gemini 5 min, Kiro 10 min). */
  leadMs?: number
  /** How often the file is looked at for changes made by other processes (a refresh elsewhere, a re-login). */
  recheckMs?: number
  /** After a transient refresh failure the still-valid token is served this long before the next attempt. */
  retryAfterFailureMs?: number
  /** Timeout of the refresh request; below the 10 s after which other processes break the lock as stale. */
  refreshTimeoutMs?: number
  lock?: LockOptions
}

export type TokenState = 'unknown' | 'valid' | 'refresh_due' | 'expired' | 'relogin_needed'

export interface TokenStatus {
  provider: OAuthProvider
  file: string
  state: TokenState
  /** The access token's expiry, once the file has been read. */
  expiresAt: Date | null
  refreshing: boolean
  lastRefreshAt: Date | null
  /** The last failure, until a refresh succeeds or the file changes. */
  lastError: {kind: TokenErrorKind; message: string; detail: string; at: Date} | null
}

interface Cached<T> {
  token: T
  mtimeMs: number
  size: number
  checkedAt: number
}

/**
 * Keeps one credential file's access token usable: refreshes it ahead of expiry, one refresh at a time in this
 * process (a shared promise) and across processes (the file's lock, then a re-read: another process may have
 * refreshed already), and writes the result back merged into the file.
 */
export class TokenManager<T extends AccessToken> {
  readonly file: string
  private readonly now: () => number
  private readonly leadMs: number
  private readonly recheckMs: number
  private readonly retryAfterFailureMs: number
  private cached: Cached<T> | undefined
  private inflight: Promise<T> | undefined
  private failure: {error: TokenError; at: number} | undefined
  private lastRefreshAt: number | undefined

  constructor(
    readonly spec: CredentialSpec<T>,
    file: string,
    private readonly options: TokenManagerOptions = {},
  ) {
    this.file = resolve(file)
    this.now = options.now ?? Date.now
    this.leadMs = options.leadMs ?? spec.leadMs
    this.recheckMs = options.recheckMs ?? 1000
    this.retryAfterFailureMs = options.retryAfterFailureMs ?? 30_000
  }

  /** A token valid for at least the lead time, refreshed first if needed; throws TokenError when there is none. */
  async getAccessToken(): Promise<T> {
    const now = this.now()
    const cached = this.cached
    if (cached && now - cached.checkedAt < this.recheckMs) {
      if (this.failure?.error.kind === 'relogin_needed') throw this.failure.error
      if (this.isFresh(cached.token, now)) return cached.token
    }
    const token = await this.load()
    if (this.failure?.error.kind === 'relogin_needed') throw this.failure.error
    if (this.isFresh(token, now)) return token
    const usable = token.expiresAt.getTime() > now
    if (usable && this.failure && now - this.failure.at < this.retryAfterFailureMs) return token
    try {
      return await this.refresh({force: false})
    } catch (error) {
      // A token server hiccup must not take down a token that still works.
      if (error instanceof TokenError && error.kind === 'refresh_failed' && token.expiresAt.getTime() > this.now())
        return token
      throw error
    }
  }

  /**
   * For a 401 from the API: a new token, unless the file already holds a valid one other than `failedToken`
   * (another process renewed it), which is then returned without a refresh. `failedToken` defaults to the
   * token this manager handed out last.
   */
  forceRefresh(failedToken: string | undefined = this.cached?.token.token): Promise<T> {
    return this.refresh({force: true, failedToken})
  }

  status(): TokenStatus {
    const now = this.now()
    const token = this.cached?.token
    const failure = this.failure
    let state: TokenState = 'unknown'
    if (failure?.error.kind === 'relogin_needed') state = 'relogin_needed'
    else if (token)
      state = token.expiresAt.getTime() <= now ? 'expired' : this.isFresh(token, now) ? 'valid' : 'refresh_due'
    return {
      provider: this.spec.provider,
      file: this.file,
      state,
      expiresAt: token?.expiresAt ?? null,
      refreshing: this.inflight !== undefined,
      lastRefreshAt: this.lastRefreshAt === undefined ? null : new Date(this.lastRefreshAt),
      lastError: failure
        ? {
            kind: failure.error.kind,
            message: failure.error.message,
            detail: failure.error.detail,
            at: new Date(failure.at),
          }
        : null,
    }
  }

  private isFresh(token: T, now: number): boolean {
    return token.expiresAt.getTime() - this.leadMs > now
  }

  private refresh(request: {force: boolean; failedToken?: string}): Promise<T> {
    this.inflight ??= this.refreshLocked(request).finally(() => {
      this.inflight = undefined
    })
    return this.inflight
  }

  private async refreshLocked({force, failedToken}: {force: boolean; failedToken?: string}): Promise<T> {
    try {
      return await withCredentialLock(
        this.file,
        async (target) => {
          // Another process may have refreshed while we waited for the lock: the file is the truth.
          const content = await this.readContent()
          const current = this.parse(content)
          const now = this.now()
          const usable = force ? failedToken !== undefined && current.token !== failedToken : true
          if (this.isFresh(current, now) && usable) return this.remember(current)
          const next = await this.spec.refresh(content, {
            file: this.file,
            endpoints: this.options.endpoints ?? resolveEndpoints(),
            http: {dispatcher: this.options.dispatcher, timeoutMs: this.options.refreshTimeoutMs ?? 8000},
            now,
          })
          await writeCredentialJson(target, next)
          this.lastRefreshAt = now
          this.failure = undefined
          return this.remember(this.parse(next))
        },
        this.options.lock,
      )
    } catch (error) {
      throw this.fail(error)
    }
  }

  /** Re-reads the file when it changed since the last look; a change also clears a recorded failure (a re-login). */
  private async load(): Promise<T> {
    const info = await stat(this.file).catch(() => undefined)
    if (!info) {
      this.cached = undefined
      throw this.fail(new UnusableCredentials(`${this.file} does not exist.`))
    }
    const cached = this.cached
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) {
      cached.checkedAt = this.now()
      return cached.token
    }
    this.failure = undefined
    try {
      return await this.remember(this.parse(await this.readContent()))
    } catch (error) {
      throw this.fail(error)
    }
  }

  private async readContent(): Promise<CredentialJson> {
    let content: CredentialJson | null
    try {
      content = await readCredentialJson(this.file)
    } catch (error) {
      throw new UnusableCredentials(errorMessage(error))
    }
    if (!content) throw new UnusableCredentials(`${this.file} does not exist.`)
    return content
  }

  private parse(content: CredentialJson): T {
    // Every version of the file passes here, refreshed ones included: its tokens and client secret join those redacted.
    rememberSecrets(this.file, secretValues(content))
    try {
      return this.spec.read(content)
    } catch (error) {
      throw error instanceof UnusableCredentials
        ? error
        : new UnusableCredentials(`${this.file}: ${errorMessage(error)}`)
    }
  }

  private async remember(token: T): Promise<T> {
    const info = await stat(this.file).catch(() => undefined)
    this.cached = {token, mtimeMs: info?.mtimeMs ?? 0, size: info?.size ?? 0, checkedAt: this.now()}
    return token
  }

  private fail(error: unknown): TokenError {
    if (error instanceof TokenError) return error
    const {provider} = this.spec
    const detail = errorMessage(error)
    const tokenError =
      error instanceof RefreshRejected || error instanceof UnusableCredentials
        ? new TokenError('relogin_needed', provider, this.file, reloginReason(provider, this.file), detail)
        : new TokenError(
            'refresh_failed',
            provider,
            this.file,
            `Could not refresh the ${provider} token in ${this.file}: ${detail}`,
            detail,
          )
    this.failure = {error: tokenError, at: this.now()}
    return tokenError
  }
}

/** The reason shown on an instance whose login is gone: the exact command that fixes it. */
export function reloginReason(provider: OAuthProvider, file: string): string {
  const output = resolve(file) === defaultCredentialPath(provider) ? '' : ` --output ${file}`
  return `re-login needed: aiclient auth login ${provider}${output}`
}

/** One manager per credential file in this process, so every user of a file shares its refresh. */
export class TokenManagerRegistry {
  private readonly managers = new Map<string, TokenManager<AccessToken>>()

  get<T extends AccessToken>(spec: CredentialSpec<T>, file: string, options?: TokenManagerOptions): TokenManager<T> {
    const key = resolve(file)
    const existing = this.managers.get(key)
    if (existing) {
      if (existing.spec.provider !== spec.provider) {
        throw new AppError(
          `${key} is used both as a ${existing.spec.provider} and as a ${spec.provider} credential file.`,
          {
            code: 'conflicting_credentials',
          },
        )
      }
      return existing as unknown as TokenManager<T>
    }
    const manager = new TokenManager(spec, key, options)
    this.managers.set(key, manager as unknown as TokenManager<AccessToken>)
    return manager
  }
}

export const tokenManagers = new TokenManagerRegistry()
