import {AppError} from '../errors.js'
import {serverSays, type HttpReply} from './http.js'

export type OAuthProvider = 'qwen' | 'gemini' | 'kiro'

/** A login that the server ended: refused, denied, expired. The message quotes what the server said. */
export class OAuthError extends AppError {
  constructor(message: string, code: string, suggestions: string[] = []) {
    super(message, {code, suggestions})
    this.name = 'OAuthError'
  }
}

export function rejected(what: string, reply: HttpReply, suggestions: string[] = []): OAuthError {
  return new OAuthError(`${what} failed: ${serverSays(reply)}.`, 'oauth_rejected', suggestions)
}

export type TokenErrorKind =
  /** The refresh token is gone (rejected, revoked, file missing or unusable): a person must log in again. */
  | 'relogin_needed'
  /** The token endpoint could not be used right now (network, 5xx); the next call tries again. */
  | 'refresh_failed'

/**
 * What a TokenManager throws when it has no usable access token. For `relogin_needed` the message is the short
 * reason to show on the instance ("re-login needed: aiclient auth login qwen"); `detail` says why.
 */
export class TokenError extends AppError {
  constructor(
    readonly kind: TokenErrorKind,
    readonly provider: OAuthProvider,
    readonly file: string,
    message: string,
    readonly detail: string,
  ) {
    super(message, {code: kind, suggestions: kind === 'relogin_needed' ? [detail] : []})
    this.name = 'TokenError'
  }
}
