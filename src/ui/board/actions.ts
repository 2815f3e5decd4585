import {resetInstance, setInstanceDisabled} from '../../core/admin/instances.js'
import {instanceLabel} from '../../core/pools/pool-state.js'
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
      await setInstanceDisabled(proxy, live, disable)
      return `${disable ? 'Disabled' : 'Enabled'} ${label(id)}`
    },
    async reset(id) {
      await resetInstance(proxy, find(id))
      return `Reset ${label(id)}`
    },
    async check(id) {
      const result = await proxy.monitor.probeNow(find(id))
      if (!result) return `${label(id)}: nothing to probe (disabled, or no probe for this type)`
      return `${label(id)}: ${result.healthy ? 'healthy' : `${result.state}${result.reason ? ` (${result.reason})` : ''}`} in ${result.latencyMs}ms`
    },
    async cycleStrategy(id) {
      const {type} = find(id).config
      return `${type}: routing ${proxy.state.cycleStrategy(type)} until serve stops (config.json unchanged)`
    },
    quit,
  }
}
