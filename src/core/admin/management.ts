import type {ProbeOptions} from '../health/probe.js'
import type {Adapters} from '../providers/index.js'
import type {ServeSettings} from '../server/options.js'
import type {ManagedPool} from './instances.js'
import type {StatusSources} from './status.js'

/** What the management API (`/aiclient/v1/…`) works on, built by startProxy. */
export interface Management extends ManagedPool, StatusSources {
  adapters: Adapters
  /** How `POST …/check` probes: as the health monitor does, with the pool's default cooldown for a rate limit. */
  check: Omit<ProbeOptions, 'signal'> & {defaultCooldownMs: number}
  /** Whether clients must present the API key; without one, changes need `allowLocalAdmin`. */
  keyRequired: boolean
  /** `serve --allow-local-admin`: changes are accepted without a key (the server is loopback-only then). */
  allowLocalAdmin: boolean
}

export function management(
  parts: ManagedPool & StatusSources,
  settings: Pick<ServeSettings, 'apiKey' | 'allowLocalAdmin' | 'monitor' | 'policy'>,
): Management {
  const {timeoutMs, cheap, defaultModels} = settings.monitor
  return {
    ...parts,
    check: {timeoutMs, cheap, defaultModels, now: parts.now, defaultCooldownMs: settings.policy.defaultCooldownMs},
    keyRequired: settings.apiKey !== undefined,
    allowLocalAdmin: settings.allowLocalAdmin,
  }
}
