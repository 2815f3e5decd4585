import {setDisabled, resetInstances} from '../../core/pools/operations.js'
import {instanceLabel, type LiveInstance} from '../../core/pools/pool-state.js'
import {instancePath} from '../../core/pools/schema.js'
import type {RunningProxy} from '../../core/server/start.js'
import type {BoardActions} from './BoardApp.js'

/** Board keys act through the same operations as `aiclient pool …`, so every change lands in the pool file. */
export function boardActions(proxy: RunningProxy, quit: () => void): BoardActions {
  const find = (id: string) => {
    const live = proxy.state.get(id)
    if (!live) throw new Error('that instance is no longer in the pool')
    return live
  }
  // A uuid that a hand-copied entry repeats names no single entry: the position in the file does.
  const ref = (live: LiveInstance) =>
    proxy.state.list(live.config.type).some((other) => other !== live && other.config.uuid === live.config.uuid)
      ? instancePath(live.config)
      : live.config.uuid
  const label = (id: string) => {
    const live = find(id)
    return `${live.config.type} ${instanceLabel(live)}`
  }
  return {
    async toggleDisabled(id) {
      const live = find(id)
      const disable = !live.disabled
      await setDisabled(proxy.store, ref(live), disable, live.config.type)
      await proxy.sync.reload()
      return `${disable ? 'Disabled' : 'Enabled'} ${label(id)}`
    },
    async reset(id) {
      const live = find(id)
      await resetInstances(proxy.store, ref(live), live.config.type)
      await proxy.sync.reload()
      proxy.state.markHealthy(live)
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
