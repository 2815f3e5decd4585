import type {ProbeOptions} from '../health/probe.js'
import type {Adapters} from '../providers/index.js'
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
