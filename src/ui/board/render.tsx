import type {EventEmitter} from 'node:events'
import {render} from 'ink'
import {describeToken, summariseStatus} from '../../core/oauth/token-summary.js'
import type {LiveInstance} from '../../core/pools/pool-state.js'
import type {RunningProxy} from '../../core/server/start.js'
import {boardActions} from './actions.js'
import {BoardApp} from './BoardApp.js'

/** Mounts the board on the terminal; `onQuit` fires for q or Ctrl-C, and the caller unmounts after shutting down. */
export function renderBoard(proxy: RunningProxy, feed: EventEmitter, onQuit: () => void): {unmount(): void} {
  const tokenInfo = (live: LiveInstance) => {
    const status = proxy.adapters[live.config.type]?.tokenStatus?.(live.config)
    const summary = status ? summariseStatus(status) : null
    return summary ? describeToken(summary, Date.now(), true) : null
  }
  const sources = {state: proxy.state, feed, url: proxy.url, startedAt: proxy.startedAt, tokenInfo}
  const ink = render(<BoardApp sources={sources} actions={boardActions(proxy, onQuit)} />, {
    exitOnCtrlC: false,
    patchConsole: false,
    maxFps: 10,
  })
  return {unmount: () => ink.unmount()}
}
