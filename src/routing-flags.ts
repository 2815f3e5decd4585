import {Flags} from '@oclif/core'

/** `pool add` and `pool set`: values are checked by parseRoutingFlags, which says what a bad one should be. */
export const ROUTING_FLAGS = {
  priority: Flags.string({
    description: 'routing tier: higher is tried first, a lower tier serves only while no higher one can (default 0)',
  }),
  weight: Flags.string({
    description: 'share of traffic under the weighted strategy, a number ≥ 0; 0 takes it out of rotation (default 1)',
  }),
  'concurrency-limit': Flags.string({
    description: 'requests in flight at once on this instance, a whole number; 0 is no limit (default)',
  }),
  'queue-limit': Flags.string({
    description: 'requests that may wait for this instance while it is full, a whole number (default 0: none wait)',
  }),
  'supported-models': Flags.string({
    description: 'serve only these models: names separated by commas, * matches any run of characters; "" clears',
  }),
  'not-supported-models': Flags.string({
    description: 'never serve these models: names separated by commas, * as above; "" clears',
  }),
}
