import type {Dispatcher} from 'undici'
import {CancelledError} from '../errors.js'
import type {CallbackCheck} from './callback.js'
import type {CredentialJson} from './credential-file.js'
import type {OAuthProvider} from './errors.js'
import type {HttpContext} from './http.js'

/** What a login tells its screen. The core never prints; the command renders these. */
export type LoginEvent =
  | {type: 'notice'; message: string}
  /** A device code to approve at `url` before `expiresAt` (ms epoch). */
  | {type: 'device_code'; url: string; userCode: string; expiresAt: number}
  | {type: 'poll'; outcome: 'pending' | 'slow_down' | 'network_error'; nextPollMs: number; message?: string}
  /**
   * A URL to open in a browser. `loopback`: the browser comes back to us by itself; `paste`: the user must paste
   * the URL the browser ends on; `either`: both work (a browser on another machine).
   */
  | {type: 'authorize'; url: string; callback: 'loopback' | 'paste' | 'either'; expiresAt: number}
  /** A redirect URL (loopback hit or pasted) that was not accepted; the login keeps waiting. */
  | {type: 'callback_rejected'; message: string}
  | {type: 'step'; message: string}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>

/** What every flow takes from its caller, so tests can drive time, the browser and the network. */
export interface FlowContext {
  dispatcher?: Dispatcher
  signal?: AbortSignal
  sleep?: Sleep
  now?: () => number
  /** Opens a URL in the user's browser; absent means "do not" (`--no-browser`). Failures are not errors. */
  openBrowser?: (url: string) => Promise<void>
  onEvent?: (event: LoginEvent) => void
}

export interface LoginResult {
  provider: OAuthProvider
  /** The credential file's content in the provider's own format. */
  credentials: CredentialJson
  expiresAt: Date
  /** An email or account id to show, when the provider tells us one. */
  account: string | null
}

/** A login waiting for its redirect, which may come from the loopback listener or from a paste. */
export interface PendingLogin {
  authUrl: string
  /** A redirect URL the user pasted; the answer says whether it completed the wait. */
  submitRedirectUrl(url: string): CallbackCheck
  result: Promise<LoginResult>
}

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError())
    const onAbort = () => {
      clearTimeout(timer)
      reject(new CancelledError())
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, {once: true})
  })

export function httpOf(ctx: FlowContext, timeoutMs?: number): HttpContext {
  return {dispatcher: ctx.dispatcher, signal: ctx.signal, timeoutMs}
}

export function throwIfCancelled(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError()
}

/** Shows the URL first, then tries the browser: a machine without one must still be able to log in. */
export async function offerUrl(
  ctx: FlowContext,
  event: Extract<LoginEvent, {type: 'authorize' | 'device_code'}>,
): Promise<void> {
  ctx.onEvent?.(event)
  if (!ctx.openBrowser) return
  try {
    await ctx.openBrowser(event.url)
  } catch {
    ctx.onEvent?.({type: 'notice', message: 'Could not open a browser; open the URL above yourself.'})
  }
}
