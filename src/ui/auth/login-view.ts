import {escapeControls} from '../../core/escape.js'
import type {LoginEvent} from '../../core/oauth/flow.js'

/** What a login screen shows. `log` holds lines printed once and kept (URLs stay whole and copyable). */
export interface LoginViewState {
  log: string[]
  /** A device code to show boxed, until the login moves on. */
  device: {userCode: string; expiresAt: number} | null
  /** What we are waiting for, with its deadline; `paste` when the user may (or must) paste a redirect URL. */
  waiting: {label: string; expiresAt: number; paste: 'optional' | 'required' | null} | null
  /** The latest word about the wait (slowed down, retrying). */
  note: string | null
  /** Work after the wait (exchanging the code, reading the account). */
  step: string | null
  done: string | null
}

export const initialLoginView: LoginViewState = {
  log: [],
  device: null,
  waiting: null,
  note: null,
  step: null,
  done: null,
}

/** Messages, URLs and codes come from OAuth servers and from what was pasted: the view holds them escaped. */
function displaySafe<T extends object>(value: T): T {
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key, typeof v === 'string' ? escapeControls(v) : v]),
  ) as T
}

export function reduceLoginEvent(state: LoginViewState, raw: LoginEvent): LoginViewState {
  const event = displaySafe(raw)
  switch (event.type) {
    case 'notice':
      return {...state, log: [...state.log, `Note: ${event.message}`]}
    case 'device_code':
      return {
        ...state,
        log: [...state.log, 'Open this URL to approve the login:', event.url],
        device: {userCode: event.userCode, expiresAt: event.expiresAt},
        waiting: {label: 'Waiting for approval', expiresAt: event.expiresAt, paste: null},
      }
    case 'authorize': {
      const how =
        event.callback === 'paste'
          ? [
              'After you sign in, the browser tries to open a kiro:// link. Copy that link (address bar or "open app" prompt), paste it here and press Enter.',
            ]
          : event.callback === 'either'
            ? [
                'If the browser runs on another machine, paste here the address it shows after you sign in, and press Enter.',
              ]
            : []
      return {
        ...state,
        log: [...state.log, 'Open this URL in a browser to sign in:', event.url, ...how],
        waiting: {
          label: event.callback === 'paste' ? 'Waiting for the pasted link' : 'Waiting for the browser',
          expiresAt: event.expiresAt,
          paste: event.callback === 'paste' ? 'required' : event.callback === 'either' ? 'optional' : null,
        },
      }
    }
    case 'poll': {
      const seconds = `${+(event.nextPollMs / 1000).toFixed(1)} s`
      if (event.outcome === 'slow_down')
        return {...state, note: `The server asked us to slow down: polling every ${seconds}.`}
      if (event.outcome === 'network_error')
        return {...state, note: `${event.message ?? 'Polling failed'}; trying again in ${seconds}.`}
      return state
    }
    case 'callback_rejected':
      return {...state, log: [...state.log, `Ignored: ${event.message}`]}
    case 'step':
      return {...state, device: null, waiting: null, note: null, step: event.message}
  }
}

export function finishLoginView(state: LoginViewState, done: string | null): LoginViewState {
  return {
    ...state,
    device: null,
    waiting: null,
    note: null,
    step: null,
    done: done === null ? null : escapeControls(done),
  }
}

/** Without a terminal to redraw: the lines that tell what changed from `prev` to `next`, once each. */
export function plainLines(prev: LoginViewState, next: LoginViewState, now: number): string[] {
  const lines = next.log.slice(prev.log.length)
  if (next.device && next.device !== prev.device)
    lines.push(`Code: ${next.device.userCode} (expires in ${formatRemaining(next.device.expiresAt - now)})`)
  if (next.waiting && next.waiting !== prev.waiting) {
    lines.push(
      next.device
        ? `${next.waiting.label}…`
        : `${next.waiting.label} (up to ${formatRemaining(next.waiting.expiresAt - now)})…`,
    )
  }
  if (next.note && next.note !== prev.note) lines.push(next.note)
  if (next.step && next.step !== prev.step) lines.push(`${next.step}…`)
  return lines
}

/** 4:05, 29:59, 1:02:03 — never negative. */
export function formatRemaining(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = String(total % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`
}
