import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {CancelledError} from '../errors.js'
import {escapeControls} from '../escape.js'
import {OAuthError} from './errors.js'

export type CallbackCheck =
  | {ok: true; code: string}
  /** `final`: the provider ended the login (e.g. access_denied); otherwise the input is ignored and we keep waiting. */
  | {ok: false; final: boolean; message: string}

/** Judges a redirect URL, wherever it came from (the loopback listener or a paste). `state` is checked first. */
export function checkCallbackUrl(input: string, expectedState: string): CallbackCheck {
  let url: URL
  try {
    url = new URL(input.trim())
  } catch {
    return {
      ok: false,
      final: false,
      message: 'That is not a URL. Paste the whole address from the browser, starting with its scheme.',
    }
  }
  const params = url.searchParams
  const keys = [...params.keys()]
  // RFC 6749 §3.1: no parameter twice. With two states or codes, which one a reader takes is anybody's guess.
  if (new Set(keys).size !== keys.length) {
    return {
      ok: false,
      final: false,
      message: 'The redirect repeats a parameter, so it cannot be trusted; it was ignored.',
    }
  }
  if (params.get('state') !== expectedState) {
    return {
      ok: false,
      final: false,
      message: 'The redirect does not belong to this login (state mismatch); it was ignored.',
    }
  }
  const error = params.get('error')
  if (error) {
    const description = params.get('error_description')
    // Both come from the address bar: shown escaped, they can neither forge a line nor drive the terminal.
    const said = `${error}${description ? ` (${description})` : ''}`
    return {ok: false, final: true, message: `The sign-in was not completed: ${escapeControls(said)}.`}
  }
  const code = params.get('code')
  if (!code) return {ok: false, final: false, message: 'The redirect carries no authorization code; it was ignored.'}
  return {ok: true, code}
}

/**
 * Waits for the one redirect that completes a login. Several sources may submit (loopback, pasted lines); the
 * first valid one wins, a provider error ends the wait, anything else is reported and ignored until the timeout.
 */
export class CallbackWaiter {
  readonly code: Promise<string>
  private settle!: {resolve: (code: string) => void; reject: (error: Error) => void}
  private done = false
  private readonly timer: NodeJS.Timeout
  private readonly onAbort = () => this.fail(new CancelledError())

  constructor(
    private readonly state: string,
    timeoutMs: number,
    private readonly signal?: AbortSignal,
    private readonly onRejected?: (message: string) => void,
  ) {
    this.code = new Promise<string>((resolve, reject) => {
      this.settle = {resolve, reject}
    })
    // The caller may still be setting up when a failure lands; it will see it when it awaits.
    this.code.catch(() => {})
    const minutes = Math.round(timeoutMs / 60_000)
    const within = minutes >= 1 ? `${minutes} min` : `${Math.round(timeoutMs / 1000)} s`
    this.timer = setTimeout(
      () =>
        this.fail(new OAuthError(`No sign-in arrived within ${within}.`, 'oauth_timeout', ['Run the login again.'])),
      timeoutMs,
    )
    if (signal?.aborted) this.onAbort()
    signal?.addEventListener('abort', this.onAbort, {once: true})
  }

  get settled(): boolean {
    return this.done
  }

  submit(url: string): CallbackCheck {
    if (this.done) return {ok: false, final: true, message: 'This login is already finished.'}
    const check = checkCallbackUrl(url, this.state)
    if (check.ok) {
      this.finish()
      this.settle.resolve(check.code)
    } else if (check.final) {
      this.fail(new OAuthError(check.message, 'oauth_denied'))
    } else {
      this.onRejected?.(check.message)
    }
    return check
  }

  fail(error: Error): void {
    if (this.done) return
    this.finish()
    this.settle.reject(error)
  }

  private finish(): void {
    this.done = true
    clearTimeout(this.timer)
    this.signal?.removeEventListener('abort', this.onAbort)
  }
}

export interface LoopbackOptions {
  /** 0 picks a free port. */
  port?: number
  path: string
  waiter: CallbackWaiter
}

/**
 * A one-shot HTTP listener for the browser's redirect. It answers every request with a small page, hands the
 * redirect to the waiter, and closes once the waiter has settled (by this callback, a paste, a timeout or Ctrl-C).
 * Returns the redirect URI to put in the authorization URL.
 */
export async function startLoopback(options: LoopbackOptions): Promise<string> {
  // Nothing else on the network may complete or poison the login.
  const host = '127.0.0.1'
  const {waiter} = options
  const server: Server = createServer((req, res) => {
    // Anything may connect to a loopback port. Only the origin form (`/path?query`) can be the browser's
    // redirect; an absolute (`http://[`), asterisk or empty target is refused here, before any URL parsing.
    const target = req.url ?? ''
    if (!target.startsWith('/')) {
      page(res, 400, 'Bad request', 'This address only receives the sign-in redirect.')
      return
    }
    const query = target.indexOf('?')
    if ((query === -1 ? target : target.slice(0, query)) !== options.path) {
      page(res, 404, 'Not found', 'This address only receives the sign-in redirect.')
      return
    }
    // The path is ours, so the URL is well formed; the query is judged by the waiter like a pasted URL.
    const check = waiter.submit(`http://${host}${target}`)
    if (check.ok)
      page(res, 200, 'Signed in', 'aiclient received the sign-in. You can close this tab and return to the terminal.')
    else page(res, 400, 'Sign-in not accepted', check.message)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      // A listener failing later (out of file descriptors) ends the login with that error instead of the process.
      server.on('error', (error) => waiter.fail(error))
      resolve()
    })
  })
  const close = () => {
    server.close()
    // Every page is sent with `connection: close`; only a browser's idle preconnect can linger, and not for long.
    server.closeIdleConnections()
    setTimeout(() => server.closeAllConnections(), 1000).unref()
  }
  void waiter.code.then(close, close)
  return `http://${host}:${(server.address() as AddressInfo).port}${options.path}`
}

function page(res: import('node:http').ServerResponse, status: number, title: string, text: string): void {
  const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)
  res.writeHead(status, {'content-type': 'text/html; charset=utf-8', connection: 'close', 'cache-control': 'no-store'})
  res.end(
    `<!doctype html><meta charset="utf-8"><title>${escape(title)}</title><h1>${escape(title)}</h1><p>${escape(text)}</p>\n`,
  )
}
