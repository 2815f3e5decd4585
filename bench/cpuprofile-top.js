#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof): top functions by self time, and self time grouped by file,
// as shares of the samples taken while the process was busy (idle and GC are shown on their own lines).
// Usage: node bench/cpuprofile-top.js FILE.cpuprofile [--top 25] [--inclusive PATTERN]... [--callers PATTERN]...
//   [--from US --to US]
import {readFileSync} from 'node:fs'
import {parseArgs} from 'node:util'

const {values, positionals} = parseArgs({
  allowPositionals: true,
  options: {
    top: {type: 'string', default: '25'},
    inclusive: {type: 'string', multiple: true},
    callers: {type: 'string', multiple: true},
    // A window in CLOCK_MONOTONIC µs (process.hrtime), the clock of V8's profile timestamps: the load only.
    from: {type: 'string'},
    to: {type: 'string'},
  },
})
if (positionals.length === 0) {
  console.error('usage: cpuprofile-top.js FILE.cpuprofile [--top N] [--inclusive PATTERN]...')
  process.exit(2)
}

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map()
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id)

  // Sample time: each sample lasts until the next one (timeDeltas are the gaps before each sample).
  const self = new Map()
  const deltas = profile.timeDeltas
  const from = values.from ? Number(values.from) : -Infinity
  const to = values.to ? Number(values.to) : Infinity
  let at = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    at += deltas[i]
    const dt = deltas[i + 1] ?? 0
    if (at < from || at > to) continue
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt)
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const nameOf = (n) => n.callFrame.functionName || '(anonymous)'
  // Paths from the project's own tree, wherever it was run from (the bench runs a copy of the build).
  const short = (url) => url.replace('file://', '').replace(/^.*?\/(dist|src|bench|node_modules)\//, '$1/')
  const where = (n) => {
    const url = short(n.callFrame.url)
    return url ? `${url}:${n.callFrame.lineNumber + 1}` : ''
  }
  const special = new Set(['(idle)', '(program)', '(garbage collector)', '(root)'])
  let idle = 0
  const fn = new Map()
  const files = new Map()
  for (const [id, t] of self) {
    const n = byId.get(id)
    const name = nameOf(n)
    if (name === '(idle)') {
      idle += t
      continue
    }
    const key = special.has(name) ? name : `${name} ${where(n)}`
    fn.set(key, (fn.get(key) ?? 0) + t)
    const f = special.has(name) ? name : short(n.callFrame.url) || '(native / builtin)'
    files.set(f, (files.get(f) ?? 0) + t)
  }
  const busy = total - idle
  const pct = (t) => `${((t / busy) * 100).toFixed(1).padStart(5)} %`
  console.log(
    `\n${file}\n  ${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy (${((busy / total) * 100).toFixed(0)} %); shares below are of busy time\n`,
  )
  console.log('  self time by function')
  for (const [key, t] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top)))
    console.log(`  ${pct(t)}  ${key}`)
  console.log('\n  self time by file')
  for (const [key, t] of [...files].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top)))
    console.log(`  ${pct(t)}  ${key}`)

  // Inclusive time of functions matching a pattern: self time of every sample with such a frame on its stack.
  for (const pattern of values.inclusive ?? []) {
    const re = new RegExp(pattern)
    let t = 0
    for (const [id, dt] of self) {
      for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
        const n = byId.get(cur)
        if (re.test(`${nameOf(n)} ${where(n)}`)) {
          t += dt
          break
        }
      }
    }
    console.log(`\n  inclusive /${pattern}/: ${pct(t)}`)
  }

  // Who calls a function: the self time of matching frames, by the chain of their three nearest callers.
  for (const pattern of values.callers ?? []) {
    const re = new RegExp(pattern)
    const chains = new Map()
    for (const [id, dt] of self) {
      const n = byId.get(id)
      if (!re.test(`${nameOf(n)} ${where(n)}`)) continue
      const chain = []
      for (let cur = parent.get(id); cur !== undefined && chain.length < 3; cur = parent.get(cur))
        chain.push(`${nameOf(byId.get(cur))} ${where(byId.get(cur))}`.trim())
      const key = chain.join(' ← ')
      chains.set(key, (chains.get(key) ?? 0) + dt)
    }
    console.log(`\n  callers of /${pattern}/`)
    for (const [key, t] of [...chains].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`  ${pct(t)}  ← ${key}`)
  }
}
