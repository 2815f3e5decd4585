import {setDisabled, resetInstances} from '../../core/pools/operations.js'
import {instanceLabel} from '../../core/pools/runtime.js'
import type {RunningProxy} from '../../core/server/start.js'
import type {BoardActions} from './BoardApp.js'

/** Board keys act through the same operations as `aiclient pool …`, so every change lands in the pool file. */
export function boardActions(proxy: RunningProxy, quit: () => void): BoardActions {
  const find = (id: string) => {
    const live = proxy.state.get(id)
    if (!live) throw new Error('that instance is no longer in the pool')
    return live
  }
  const label = (id: string) => {
    const live = find(id)
    return `${live.config.type} ${instanceLabel(live)}`
  }
  return {
    async toggleDisabled(id) {
      const live = find(id)
      const disable = !live.disabled
      await setDisabled(proxy.store, live.config.uuid, disable, live.config.type)
      await proxy.sync.reload()
      return `${disable ? 'Disabled' : 'Enabled'} ${label(id)}`
    },
    async reset(id) {
      const live = find(id)
      await resetInstances(proxy.store, live.config.uuid, live.config.type)
      await proxy.sync.reload()
      proxy.state.markHealthy(live)
      return `Reset ${label(id)}`
    },
    async check(id) {
      const result = await proxy.monitor.probeNow(find(id))
      if (!result) return `${label(id)}: nothing to probe (disabled, or no probe for this type)`
      return `${label(id)}: ${result.healthy ? 'healthy' : `${result.state}${result.reason ? ` (${result.reason})` : ''}`} in ${result.latencyMs}ms`
    },
    quit,
  }
}
