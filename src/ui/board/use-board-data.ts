import type {EventEmitter} from 'node:events'
import {useEffect, useRef, useState} from 'react'
import type {PoolState} from '../../core/pools/pool-state.js'
import type {RequestRecord} from '../../core/proxy/types.js'
import {totalOf} from '../../core/usage/totals.js'
import {buildRows, type BoardData, type TokenInfo} from './model.js'
import {TokenRate} from './token-rate.js'

export interface BoardSources {
  state: PoolState
  /** Emits 'record' (RequestRecord) and 'message' (string) events. */
  feed: EventEmitter
  url: string
  startedAt: number
  now?: () => number
  tokenInfo?: TokenInfo
}

const RATE_WINDOW_MS = 5_000

/**
 * Subscribes to the pool and the request feed, and hands the board a new snapshot at most once per
 * `intervalMs` — however many requests arrive, the terminal is redrawn at most ~10 times a second.
 */
export function useBoardData(sources: BoardSources, intervalMs = 100, keepRecent = 50): BoardData {
  const now = sources.now ?? Date.now
  const recent = useRef<RequestRecord[]>([])
  const times = useRef<number[]>([])
  const totals = useRef({total: 0, failed: 0})
  const message = useRef<string | null>(null)
  const tokenRate = useRef(new TokenRate(RATE_WINDOW_MS))
  const snapshot = (): BoardData => {
    const at = now()
    const tokens = tokenRate.current.at(at)
    return {
      url: sources.url,
      startedAt: sources.startedAt,
      now: at,
      requestsPerSecond: times.current.filter((t) => at - t < RATE_WINDOW_MS).length / (RATE_WINDOW_MS / 1000),
      tokensPerSecond: tokens.total,
      ...totals.current,
      rows: buildRows(sources.state, at, sources.tokenInfo, tokens.byInstance),
      recent: [...recent.current],
      message: message.current,
    }
  }
  const [data, setData] = useState<BoardData>(snapshot)
  useEffect(() => {
    let dirty = false
    const onRecord = (record: RequestRecord) => {
      recent.current.push(record)
      if (recent.current.length > keepRecent) recent.current.shift()
      times.current.push(record.time)
      const cutoff = now() - RATE_WINDOW_MS
      while (times.current.length > 0 && times.current[0]! < cutoff) times.current.shift()
      // Counted when the answer ended: a long stream's tokens arrive then, not when it was asked for.
      if (record.usage && record.instanceId !== undefined)
        tokenRate.current.add(record.instanceId, totalOf(record.usage), record.time + record.ms)
      totals.current.total++
      if (record.status >= 500 || record.error) totals.current.failed++
      dirty = true
    }
    const onMessage = (text: string) => {
      message.current = text
      dirty = true
    }
    const onPool = () => {
      dirty = true
    }
    sources.feed.on('record', onRecord)
    sources.feed.on('message', onMessage)
    sources.state.on('event', onPool)
    sources.state.on('dirty', onPool)
    // Counters such as uptime and cooldown seconds move without events; a quiet board still ticks once a second.
    let sinceRedraw = 0
    const timer = setInterval(() => {
      sinceRedraw += intervalMs
      if (!dirty && sinceRedraw < 1000) return
      dirty = false
      sinceRedraw = 0
      setData(snapshot())
    }, intervalMs)
    return () => {
      clearInterval(timer)
      sources.feed.off('record', onRecord)
      sources.feed.off('message', onMessage)
      sources.state.off('event', onPool)
      sources.state.off('dirty', onPool)
    }
  }, [sources])
  return data
}
