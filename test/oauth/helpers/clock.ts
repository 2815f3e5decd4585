import type {Sleep} from '../../../src/core/oauth/flow.js'

/** A clock that moves only when the code under test sleeps, recording every wait. */
export function fakeClock(start = Date.now()) {
  let time = start
  const waits: number[] = []
  const sleep: Sleep = async (ms) => {
    waits.push(ms)
    time += ms
  }
  return {now: () => time, sleep, waits, advance: (ms: number) => (time += ms)}
}
