import type {Handler} from '../handler.js'

/** Liveness and, per type, how many instances are healthy; answered without an API key. */
export const health: Handler<'health'> = async ({state, now, started}) => {
  const types: Record<string, {healthy: number; total: number}> = {}
  for (const type of state.types()) {
    const list = state.list(type)
    types[type] = {healthy: list.filter((live) => state.stateOf(live) === 'healthy').length, total: list.length}
  }
  return {kind: 'json', status: 200, body: {status: 'ok', uptimeSeconds: Math.round((now() - started) / 1000), types}}
}
