import {Flags} from '@oclif/core'

/** `pool add` and `pool set`: numbers are checked by parseRoutingFlags, which says what a bad one should be. */
export const ROUTING_FLAGS = {
  priority: Flags.string({
    description: 'routing tier: higher is tried first, a lower tier serves only while no higher one can (default 0)',
  }),
  weight: Flags.string({
    description: 'share of traffic under the weighted strategy, a number ≥ 0; 0 takes it out of rotation (default 1)',
  }),
}
