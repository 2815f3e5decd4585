#!/usr/bin/env node
// `npm run bench [-- --quick]`: aiclient against nginx directly and against a bare undici pipe, in
// interleaved rounds on a pinned 2-core layout, reported as medians with the issue's targets.
// See bench/README.md for the layout and what each figure means.
import {spawn, spawnSync} from 'node:child_process'
import {copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {cpus, tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {setTimeout as sleep} from 'node:timers/promises'
import {parseArgs} from 'node:util'
import * as mock from './lib/mock.js'
import {
  CORES,
  childPids,
  cpuSeconds,
  hwmMb,
  listeningPort,
  machineBusy,
  machineCpuSeconds,
  ownCpuSeconds,
  rssMb,
  run,
  sampleRss,
  startPinned,
  stop,
  waitForHttp,
} from './lib/proc.js'
import {BENCH, ROOT, childEnv, ensureBuild, ensureTools, log, snapshotApp, startMock, wrk} from './lib/setup.js'
import {median, quartiles} from './lib/stats.js'

const {values: flags} = parseArgs({
  options: {
    quick: {type: 'boolean', default: false},
    rounds: {type: 'string'},
    duration: {type: 'string'},
    'no-install': {type: 'boolean', default: false},
    keep: {type: 'boolean', default: false},
    'from-json': {type: 'string'},
    warm: {type: 'string'},
    help: {type: 'boolean', short: 'h', default: false},
  },
})

if (flags.help) {
  console.log(`usage: npm run bench [-- --quick] [-- --rounds N --duration S --no-install --keep]

  --quick       2 rounds of short runs (under 3 minutes); the full run takes about 11
  --rounds N    interleaved rounds (default 5, quick 2)
  --duration S  seconds measured per wrk run (default 3, quick 2)
  --warm S      seconds of warm-up before each wrk run (default 0: each system is warmed once at the start)
  --no-install  do not apt-get install nginx-light, libnginx-mod-http-echo and wrk when missing
  --keep        keep the temp dir (nginx config, pool file, logs)
  --from-json F print the table again from a run's saved figures (bench/results/latest.json)`)
  process.exit(0)
}

// Quick keeps every figure but fewer rounds, shorter runs and a shorter sweep, to stay under 3 minutes.
const MODE = flags.quick
  ? {
      name: 'quick',
      rounds: 2,
      warmS: 0,
      measureS: 2,
      ttftS: 1,
      gapStreams: 1,
      skip: ['json-c128', 'conv-json-c1'],
      sweep: [256, 1024],
      sweepSystems: ['bare', 'aiclient'],
      afterS: 5,
      initialWarmS: 1,
      retries: 0,
      retryBudgetS: 0,
    }
  : {
      name: 'full',
      rounds: 5,
      warmS: 0,
      measureS: 3,
      ttftS: 2.5,
      gapStreams: 2,
      skip: [],
      sweep: [16, 64, 256, 1024],
      sweepSystems: ['direct', 'bare', 'aiclient', 'aiclientConvert'],
      afterS: 30,
      initialWarmS: 4,
      retries: 1,
      retryBudgetS: 60,
    }
if (flags.rounds) MODE.rounds = Number(flags.rounds)
if (flags.duration) MODE.measureS = Number(flags.duration)
if (flags.warm) MODE.warmS = Number(flags.warm)

// A stall is a gap (or a wait for the first token) of more than ten paces.
const STALL_MS = 10 * mock.PACE_MS
const SWEEP_STALL_MS = 10 * mock.SWEEP_PACE_MS
// A measurement during which other processes used more than this share of a core is taken again.
const FOREIGN_LIMIT = 0.15
let startedAt = new Date()

// ---------------------------------------------------------------------------------------------- setup

function versions() {
  const out = (cmd, args) => {
    const r = spawnSync(cmd, args, {encoding: 'utf8'})
    return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim()
  }
  const git = out('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'])
  const dirty = out('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src']) !== ''
  return {
    cpu: cpus()[0]?.model ?? 'unknown CPU',
    cores: cpus().length,
    kernel: out('uname', ['-r']),
    node: process.version,
    nginx: out('nginx', ['-v']).replace('nginx version: ', ''),
    wrk: out('wrk', ['-v']).split('\n')[0].split(' [')[0],
    undici: JSON.parse(readFileSync(join(ROOT, 'node_modules/undici/package.json'), 'utf8')).version,
    commit: `${git}${dirty ? ' + uncommitted src/ changes' : ''}`,
  }
}

async function sseClient({url, bodyFile, protocol, expect, c, seconds, streams, stallMs = STALL_MS, sweep = false}) {
  const args = [
    '-c',
    CORES.load,
    process.execPath,
    join(BENCH, 'sse-client.js'),
    '--url',
    url,
    '--body-file',
    bodyFile,
    '--protocol',
    protocol,
  ]
  args.push('--expect', String(expect), '--concurrency', String(c), '--stall-ms', String(stallMs))
  // Connects spread over up to a second, and every stream's first token judged: a proxy that queues
  // streams behind a connection cap stalls them before their first byte.
  if (sweep) args.push('--ramp-ms', String(Math.min(1000, c * 2)), '--judge-first')
  if (seconds !== undefined) args.push('--duration', String(seconds))
  if (streams !== undefined) args.push('--streams', String(streams))
  const {stdout} = await run('taskset', args).catch((error) => ({stdout: error.stdout ?? ''}))
  const line = stdout
    .trim()
    .split('\n')
    .findLast((l) => l.startsWith('{'))
  if (!line) throw new Error('sse-client printed nothing')
  return JSON.parse(line)
}

// ---------------------------------------------------------------------------------------------- scenarios

// Each system answers the same requests; only the origin differs (and aiclient's path for conversion).
function targets(origins) {
  const openai = '/v1/chat/completions'
  const anthropic = '/v1/messages'
  const responses = '/v1/responses'
  const t = {
    direct: {url: `${origins.direct}${openai}`, protocol: 'openai'},
    bare: {url: `${origins.bare}${openai}`, protocol: 'openai'},
    aiclient: {url: `${origins.aiclient}${openai}`, protocol: 'openai'},
    directAnthropic: {url: `${origins.direct}${anthropic}`, protocol: 'anthropic'},
    aiclientConvert: {url: `${origins.aiclient}/claude-custom${openai}`, protocol: 'openai'},
    directResponses: {url: `${origins.direct}${responses}`, protocol: 'responses'},
    bareResponses: {url: `${origins.bare}${responses}`, protocol: 'responses'},
    aiclientResponses: {url: `${origins.aiclient}/openaiResponses-custom${responses}`, protocol: 'responses'},
    aiclientResponsesConvert: {url: `${origins.aiclient}/openai-custom${responses}`, protocol: 'responses'},
  }
  if (origins.watch) t.aiclientWatch = {url: `${origins.watch}${openai}`, protocol: 'openai'}
  for (const {system} of VARIANTS) t[system] = {url: `${origins[system]}${openai}`, protocol: 'openai'}
  return t
}

// Body sent by a client of each target: the converting routes take a client's body to an upstream of another protocol.
const bodyProtocol = (system) =>
  system === 'directAnthropic' ? 'anthropic' : /Responses/.test(system) ? 'responses' : 'openai'

const PASS = ['direct', 'bare', 'aiclient']

/**
 * The same build with features turned off in its config.json, each a serve of its own with its own copy of the pool
 * file, measured in the same rounds as plain serve: what a feature costs is plain serve's figure against its
 * variant's. A build that does not know a key ignores it, and the row then shows no difference.
 */
const VARIANTS = [
  {system: 'aiclientNoAffinity', config: {SESSION_AFFINITY: false}, what: 'sticky sessions (SESSION_AFFINITY)'},
  {
    system: 'aiclientNoStats',
    config: {TOKEN_ACCOUNTING: false, METRICS_ENABLED: false},
    what: 'token accounting and metrics (TOKEN_ACCOUNTING, METRICS_ENABLED)',
  },
]
const V = VARIANTS.map((v) => v.system)
const CONVERT = ['directAnthropic', 'aiclientConvert']
const RESPONSES = ['directResponses', 'bareResponses', 'aiclientResponses']

function scenarios(watch, convertsResponses) {
  const W = watch ? ['aiclientWatch'] : []
  return [
    // The variants run json-c1 too, so that they are as warmed up as plain serve when json-c32 compares them.
    {id: 'json-c1', tool: 'wrk', kind: 'json', c: 1, systems: [...PASS, ...W, ...V], cpu: true},
    {id: 'json-c32', tool: 'wrk', kind: 'json', c: 32, systems: [...PASS, ...W, ...V], cpu: true},
    {id: 'json-c128', tool: 'wrk', kind: 'json', c: 128, systems: PASS},
    {id: 'conv-json-c1', tool: 'wrk', kind: 'json', c: 1, systems: CONVERT},
    {id: 'conv-json-c32', tool: 'wrk', kind: 'json', c: 32, systems: CONVERT, cpu: true},
    {id: 'sse-c32', tool: 'wrk', kind: 'sse', c: 32, systems: [...PASS, ...W, ...V], cpu: true},
    {id: 'conv-sse-c32', tool: 'wrk', kind: 'sse', c: 32, systems: CONVERT, cpu: true},
    {id: 'rs-sse-c32', tool: 'wrk', kind: 'sse', c: 32, systems: RESPONSES, cpu: true},
    ...(convertsResponses
      ? [{id: 'rs-conv-sse-c32', tool: 'wrk', kind: 'sse', c: 32, systems: ['aiclientResponsesConvert'], cpu: true}]
      : []),
    {id: 'ttft-c1', tool: 'sse', kind: 'ttft', c: 1, systems: [...PASS, ...CONVERT]},
    {id: 'gap-c1', tool: 'sse', kind: 'paced', c: 1, systems: [...PASS, ...CONVERT]},
  ].filter((s) => !MODE.skip.includes(s.id))
}

/**
 * Whether the build under test has the Responses codec (conversion needs it). Asked of the build's own code, not
 * by a request: a serve without the codec may fail hard on a Responses request it would have to convert.
 */
async function hasResponsesCodec(app, bodyFile) {
  try {
    const {codecs} = await import(pathToFileURL(join(app, 'dist/core/codecs/index.js')).href)
    const ir = codecs.responses.decodeRequest(JSON.parse(readFileSync(bodyFile, 'utf8')))
    codecs.responses.createStreamEncoder({model: ir.model}).finish()
    return true
  } catch {
    return false
  }
}

// ---------------------------------------------------------------------------------------------- processes

/**
 * `serve --watch` draws its board only on a terminal, so it runs under script(1)'s pseudo-terminal: script
 * drains the board's output on the load core, aiclient itself is exec'd onto the proxy core.
 */
function startWatch(dir, env, args) {
  const inner = `stty cols 160 rows 50; exec taskset -c ${CORES.proxy} ${[process.execPath, ...args].map((a) => `'${a}'`).join(' ')}`
  const watchEnv = {...env, TERM: 'xterm-256color'}
  delete watchEnv.CI
  delete watchEnv.NO_COLOR
  // stdin stays an open pipe: the board reads keys from the terminal, and an EOF there would end it.
  const child = spawn('taskset', ['-c', CORES.load, 'script', '-qfec', inner, '/dev/null'], {
    cwd: dir,
    env: watchEnv,
    stdio: ['pipe', 'ignore', openSync(join(dir, 'watch.stderr'), 'a')],
  })
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({code, signal})))
  child.once('error', () => {})
  return child
}

async function descendantNamed(pid, name, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const queue = [pid]
    while (queue.length) {
      const p = queue.shift()
      for (const c of childPids(p)) {
        try {
          if (readFileSync(`/proc/${c}/comm`, 'utf8').trim() === name) return c
        } catch {
          continue
        }
        queue.push(c)
      }
    }
    await sleep(100)
  }
  throw new Error(`no ${name} process under ${pid}`)
}

// ---------------------------------------------------------------------------------------------- main

async function main() {
  if (process.platform !== 'linux') throw new Error('the bench needs Linux (taskset, /proc)')
  if (cpus().length < 2) log('warning: fewer than 2 cores; pinning cannot separate the proxy from the load')
  ensureTools({install: !flags['no-install']})
  ensureBuild()
  // The harness itself idles on the load core, so the proxy's core holds nothing but the proxy.
  spawnSync('taskset', ['-a', '-pc', CORES.load, String(process.pid)], {stdio: 'ignore'})
  const busy = await machineBusy(1000)
  if (busy > 0.1)
    log(
      `warning: other processes used ${(busy * 100).toFixed(0)} % of a core before the bench started; figures will be skewed`,
    )

  const dir = mkdtempSync(join(tmpdir(), 'aiclient-bench-'))
  const children = []
  let watchPid
  const cleanup = async () => {
    // script(1) ends when the aiclient under it does; nginx last, so the proxies' shutdown finds it up.
    if (watchPid) spawnSync('kill', ['-TERM', String(watchPid)])
    const [first, ...rest] = children
    await Promise.all(rest.map((child) => stop(child)))
    await stop(first)
    if (!flags.keep) rmSync(dir, {recursive: true, force: true})
  }
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)))

  try {
    const env = childEnv(dir)
    const {nginx, origin, bodies, pools} = await startMock(dir)
    children.push(nginx)
    const origins = {direct: origin}

    const bare = startPinned(
      CORES.proxy,
      [process.execPath, join(BENCH, 'bare-pipe.js'), '--upstream', origins.direct, '--port', '0'],
      {env, stderr: join(dir, 'bare.stderr')},
    )
    children.push(bare)
    const app = await snapshotApp(dir)
    const serveArgs = [
      join(app, 'bin/run.js'),
      'serve',
      '--port',
      '0',
      '--pools-file',
      pools,
      '--model-provider',
      'openai-custom',
    ]
    const aiclient = startPinned(CORES.proxy, [process.execPath, ...serveArgs], {
      cwd: dir,
      env,
      stderr: join(dir, 'aiclient.stderr'),
    })
    children.push(aiclient)
    const variants = VARIANTS.map(({system, config}) => {
      const configFile = join(dir, `${system}.config.json`)
      const poolsCopy = join(dir, `${system}.pools.json`)
      writeFileSync(configFile, JSON.stringify(config))
      copyFileSync(pools, poolsCopy)
      const args = serveArgs.map((arg) => (arg === pools ? poolsCopy : arg))
      const child = startPinned(CORES.proxy, [process.execPath, ...args, '--config', configFile], {
        cwd: dir,
        env,
        stderr: join(dir, `${system}.stderr`),
      })
      children.push(child)
      return {system, child}
    })
    origins.bare = `http://127.0.0.1:${await listeningPort(bare.pid, bare)}`
    origins.aiclient = `http://127.0.0.1:${await listeningPort(aiclient.pid, aiclient)}`
    await waitForHttp(`${origins.bare}/`)
    await waitForHttp(`${origins.aiclient}/health`)
    for (const {system, child} of variants) {
      origins[system] = `http://127.0.0.1:${await listeningPort(child.pid, child)}`
      await waitForHttp(`${origins[system]}/health`)
    }
    const pids = {
      ...Object.fromEntries(variants.map(({system, child}) => [system, child.pid])),
      bare: bare.pid,
      bareResponses: bare.pid,
      aiclient: aiclient.pid,
      aiclientConvert: aiclient.pid,
      aiclientResponses: aiclient.pid,
      aiclientResponsesConvert: aiclient.pid,
    }

    // `serve --watch`, when this build has it: a second aiclient on the same pool file. Idle, its board
    // redraws once a second, a cost too small to show in the other systems' figures.
    const help = spawnSync(process.execPath, [join(app, 'bin/run.js'), 'serve', '--help'], {
      cwd: dir,
      env,
      encoding: 'utf8',
    })
    const hasWatch = `${help.stdout}${help.stderr}`.includes('--watch')
    if (hasWatch) {
      const script = startWatch(dir, env, [...serveArgs, '--watch'])
      children.push(script)
      watchPid = await descendantNamed(script.pid, 'node')
      origins.watch = `http://127.0.0.1:${await listeningPort(watchPid, script)}`
      await waitForHttp(`${origins.watch}/health`)
      pids.aiclientWatch = watchPid
    }
    log(
      `nginx ${origins.direct} (core ${CORES.load}); bare pipe ${origins.bare}, aiclient ${origins.aiclient}${origins.watch ? `, aiclient --watch ${origins.watch}` : ''} (core ${CORES.proxy}); temp dir ${dir}`,
    )

    await sleep(1000)
    const memory = {
      idle: {bare: rssMb(bare.pid), aiclient: rssMb(aiclient.pid), watch: watchPid ? rssMb(watchPid) : null},
    }
    // CPU used by anything but the bench, so a quiet run can be told from one that shared the machine.
    const ourPids = [
      nginx.pid,
      ...childPids(nginx.pid),
      bare.pid,
      aiclient.pid,
      ...variants.map(({child}) => child.pid),
      ...(watchPid ? [watchPid] : []),
    ]
    const ours = () => ownCpuSeconds() + ourPids.reduce((sum, pid) => sum + cpuSeconds(pid), 0)
    const cpuStart = {machine: machineCpuSeconds(), ours: ours(), at: Date.now()}
    // Retries stop when their time budget is spent: on a machine that stays busy they would only add time.
    let retries = 0
    let retryBudgetMs = MODE.retryBudgetS * 1000
    const guarded = async (label, fn) => {
      for (let attempt = 0; ; attempt++) {
        const m0 = machineCpuSeconds()
        const o0 = ours()
        const t0 = Date.now()
        const r = await fn()
        r.foreign = (machineCpuSeconds() - m0 - (ours() - o0)) / ((Date.now() - t0) / 1000)
        if (r.foreign < FOREIGN_LIMIT || attempt >= MODE.retries || retryBudgetMs <= 0) return r
        retries++
        log(
          `  ${label}: other processes used ${(r.foreign * 100).toFixed(0)} % of a core meanwhile; waiting for quiet, then again`,
        )
        const waitStart = Date.now()
        for (let waited = 0; waited < 10; waited++) {
          if ((await machineBusy(500)) <= FOREIGN_LIMIT) break
        }
        retryBudgetMs -= Date.now() - waitStart + (Date.now() - t0 - (Date.now() - waitStart))
        if (retryBudgetMs <= 0) log('  retry budget spent: the remaining measurements are kept as they come')
      }
    }

    const T = targets(origins)
    const bodyFor = (system, kind) => bodies[`${kind}-${bodyProtocol(system)}`]
    // Responses clients over a chat-completions upstream need the Responses codec; a build without it is
    // reported as such instead of being measured.
    const convertsResponses = await hasResponsesCodec(app, bodyFor('aiclientResponsesConvert', 'sse'))
    if (!convertsResponses) {
      log('this build cannot convert Responses streams to chat completions: that row is skipped')
      delete T.aiclientResponsesConvert
    }

    // First requests compile the hot paths; none of them is counted.
    log(`warm-up ${MODE.initialWarmS}s per system`)
    for (const system of Object.keys(T)) {
      await wrk({url: T[system].url, bodyFile: bodyFor(system, 'json'), c: 32, seconds: MODE.initialWarmS})
      await wrk({url: T[system].url, bodyFile: bodyFor(system, 'sse'), c: 32, seconds: 1})
    }

    const results = {}
    const record = (id, system, value) => {
      results[id] ??= {}
      ;(results[id][system] ??= []).push(value)
    }
    const sseErrors = {}
    const countSse = (system, r) => {
      const e = (sseErrors[system] ??= {streams: 0, errors: 0, dropped: 0, reordered: 0, duplicated: 0, truncated: 0})
      for (const k of Object.keys(e)) e[k] += r[k] ?? 0
    }

    for (let round = 1; round <= MODE.rounds; round++) {
      log(`round ${round}/${MODE.rounds}`)
      for (const s of scenarios(hasWatch, convertsResponses)) {
        for (const system of s.systems) {
          const {url, protocol} = T[system]
          const bodyFile = bodyFor(system, s.kind)
          if (s.tool === 'wrk') {
            if (MODE.warmS > 0) await wrk({url, bodyFile, c: s.c, seconds: MODE.warmS})
            const pid = s.cpu ? pids[system] : undefined
            const r = await guarded(`${s.id} ${system}`, async () => {
              const cpuBefore = pid ? cpuSeconds(pid) : 0
              const r = await wrk({url, bodyFile, c: s.c, seconds: MODE.measureS})
              if (pid) r.cpuUsPerReq = ((cpuSeconds(pid) - cpuBefore) / r.requests) * 1e6
              return r
            })
            record(s.id, system, r)
          } else {
            const expect = s.kind === 'ttft' ? mock.TTFT_EVENTS : mock.SSE_EVENTS
            const args = {url, bodyFile, protocol, expect, c: s.c}
            const r = await guarded(`${s.id} ${system}`, () =>
              s.kind === 'ttft'
                ? sseClient({...args, seconds: MODE.ttftS})
                : sseClient({...args, streams: MODE.gapStreams}),
            )
            countSse(system, r)
            record(s.id, system, r)
          }
        }
      }
    }

    // Stall sweep at an LLM's pace: one run per concurrency, RSS sampled while it runs.
    log(`stall sweep ${MODE.sweep.join('/')} at ${mock.SWEEP_PACE_MS} ms a token`)
    const sweep = {}
    for (const c of MODE.sweep) {
      for (const system of MODE.sweepSystems) {
        const pid = pids[system]
        const sampler = pid ? sampleRss(pid) : undefined
        const {url, protocol} = T[system]
        const cpu0 = pid ? cpuSeconds(pid) : 0
        const r = await guarded(`sweep c=${c} ${system}`, () =>
          sseClient({
            url,
            bodyFile: bodyFor(system, 'sweep'),
            protocol,
            expect: mock.SSE_EVENTS,
            c,
            streams: 1,
            stallMs: SWEEP_STALL_MS,
            sweep: true,
          }),
        )
        // Share of its core the proxy used: near 100 % it is the bottleneck, well below it something queues.
        r.cpuShare = pid ? (cpuSeconds(pid) - cpu0) / r.elapsedS : null
        const samples = sampler?.stop() ?? []
        // The busy middle of the run: the first and last quarter include connecting and draining.
        r.rss = pid ? median(samples.slice(Math.floor(samples.length / 4), Math.ceil((samples.length * 3) / 4))) : null
        r.rssMax = samples.length ? Math.max(...samples) : null
        countSse(system, r)
        ;(sweep[system] ??= {})[c] = r
        log(
          `  ${system} c=${c}: ${r.ok}/${r.streams} complete, ${r.stalls} stalled, gap p99/max ${fmt(r.gap.p99, 0)}/${fmt(r.gap.max, 0)} ms, TTFT p99 ${fmt(r.ttft.p99, 0)} ms, ${fmt(r.elapsedS, 1)} s${r.rss ? `, RSS ${fmt(r.rss)} MB, CPU ${pct(r.cpuShare)}` : ''}`,
        )
      }
    }
    // Unpaced streams at c=32 once more through the client, so drops and reordering are checked there too.
    for (const system of ['bare', 'aiclient', 'aiclientConvert']) {
      countSse(
        system,
        await sseClient({
          url: T[system].url,
          bodyFile: bodyFor(system, 'sse'),
          protocol: T[system].protocol,
          expect: mock.SSE_EVENTS,
          c: 32,
          seconds: 1,
        }),
      )
    }

    const top = Math.max(...MODE.sweep)
    memory.load = {bare: sweep.bare[top].rss, aiclient: sweep.aiclient[top].rss}
    memory.loadMax = {bare: sweep.bare[top].rssMax, aiclient: sweep.aiclient[top].rssMax}
    memory.peak = {bare: hwmMb(bare.pid), aiclient: hwmMb(aiclient.pid)}
    log(`waiting ${MODE.afterS}s for RSS after load`)
    await sleep(MODE.afterS * 1000)
    memory.after = {bare: rssMb(bare.pid), aiclient: rssMb(aiclient.pid), watch: watchPid ? rssMb(watchPid) : null}
    const foreign =
      (machineCpuSeconds() - cpuStart.machine - (ours() - cpuStart.ours)) / ((Date.now() - cpuStart.at) / 1000)

    const durationS = (Date.now() - startedAt.getTime()) / 1000
    const info = versions()
    const report = buildReport({
      results,
      sweep,
      memory,
      sseErrors,
      hasWatch,
      convertsResponses,
      durationS,
      info,
      busy,
      foreign,
      retries,
    })
    process.stdout.write(report)
    const resultsDir = join(BENCH, 'results')
    mkdirSync(resultsDir, {recursive: true})
    writeFileSync(join(resultsDir, 'latest.md'), report)
    const stamp = startedAt.toISOString().slice(0, 16).replace(':', '')
    writeFileSync(join(resultsDir, `${stamp}-${MODE.name}.md`), report)
    writeFileSync(
      join(resultsDir, 'latest.json'),
      JSON.stringify(
        {
          startedAt,
          info,
          mode: MODE,
          results,
          sweep,
          memory,
          sseErrors,
          hasWatch,
          convertsResponses,
          durationS,
          busy,
          foreign,
          retries,
        },
        null,
        1,
      ),
    )
    log(`written to bench/results/latest.md (${durationS.toFixed(0)} s)`)
  } finally {
    await cleanup()
  }
}

// ---------------------------------------------------------------------------------------------- report

function fmt(value, digits = 0) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–'
  return value.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits})
}

const signed = (value, digits) =>
  value === null || !Number.isFinite(value) ? '–' : `${value >= 0 ? '+' : '−'}${fmt(Math.abs(value), digits)}`
const pct = (value) => (value === null || !Number.isFinite(value) ? '–' : `${(value * 100).toFixed(0)} %`)
const verdict = (ok) => (ok === null ? 'n/a' : ok ? '**PASS**' : '**FAIL**')

function buildReport({
  results,
  sweep,
  memory,
  sseErrors,
  hasWatch,
  convertsResponses,
  durationS,
  info,
  busy,
  foreign,
  retries,
}) {
  // Rounds that other processes disturbed are left out whenever at least one undisturbed round remains.
  const clean = (r) => !(r.foreign > FOREIGN_LIMIT)
  const runs = (id, system) => {
    const all = results[id]?.[system] ?? []
    const quiet = all.filter(clean)
    return quiet.length > 0 ? quiet : all
  }
  const med = (id, system, pick) => median(runs(id, system).map(pick))
  const spread = (id, system, pick) => {
    const q = runs(id, system).length >= 3 ? quartiles(runs(id, system).map(pick)) : null
    return q ? ` (IQR ${fmt(q[0], 0)}–${fmt(q[1], 0)})` : ''
  }
  // Added latency is taken per round against that round's direct run, then the median over rounds.
  const added = (id, system, base, pick) => {
    const mine = results[id]?.[system] ?? []
    const theirs = results[id]?.[base] ?? []
    const pairs = mine.map((r, i) => [r, theirs[i]]).filter(([, t]) => t)
    const quiet = pairs.filter(([r, t]) => clean(r) && clean(t))
    return median((quiet.length > 0 ? quiet : pairs).map(([r, t]) => pick(r) - pick(t)))
  }
  const errorsOf = (id, system) => (results[id]?.[system] ?? []).reduce((sum, r) => sum + (r.errors ?? 0), 0)
  const errorNote = (...pairs) => {
    const notes = pairs.map(([id, system]) => [system, errorsOf(id, system)]).filter(([, n]) => n > 0)
    return notes.length ? ` ⚠ errors: ${notes.map(([s, n]) => `${s} ${n}`).join(', ')}` : ''
  }

  // Where other processes were busy during a target's measurements, the verdict also says what the CPU time
  // per request gives, which their load hardly changes.
  const skewed = (...pairs) => pairs.some(([id, system]) => runs(id, system).some((r) => !clean(r)))
  const withCpu = (text, pairs, ok) =>
    skewed(...pairs) && ok !== null ? `${text} (skewed by other load; by CPU: ${ok ? 'PASS' : 'FAIL'})` : text
  const cpuOf = (id, system) => med(id, system, (r) => r.cpuUsPerReq)

  const rows = []
  const row = (figure, direct, bare, ours, ratio, target, result) =>
    rows.push(`| ${figure} | ${direct} | ${bare} | ${ours} | ${ratio} | ${target} | ${result} |`)
  const p50 = (r) => r.p50
  const p99 = (r) => r.p99
  const rps = (r) => r.rps

  // JSON pass-through
  const d1 = med('json-c1', 'direct', p50)
  const addB = added('json-c1', 'bare', 'direct', p50)
  const addA = added('json-c1', 'aiclient', 'direct', p50)
  row(
    'JSON, c=1: p50 latency (ms)',
    fmt(d1, 3),
    fmt(med('json-c1', 'bare', p50), 3),
    fmt(med('json-c1', 'aiclient', p50), 3),
    '',
    '',
    '',
  )
  row(
    'JSON, c=1: **added p50** (ms)',
    '–',
    signed(addB, 3),
    signed(addA, 3),
    `${fmt(addA / addB, 2)}×`,
    '≤ 0.3 ms',
    withCpu(
      verdict(addA === null ? null : addA <= 0.3),
      [
        ['json-c1', 'direct'],
        ['json-c1', 'aiclient'],
      ],
      cpuOf('json-c1', 'aiclient') === null ? null : cpuOf('json-c1', 'aiclient') <= 300,
    ) + errorNote(['json-c1', 'aiclient']),
  )
  // At c=1 the proxy handles one request at a time, so its CPU time per request is most of what it adds.
  row(
    'JSON, c=1: proxy CPU per request (µs)',
    '–',
    fmt(cpuOf('json-c1', 'bare')),
    fmt(cpuOf('json-c1', 'aiclient')),
    `${fmt(cpuOf('json-c1', 'aiclient') / cpuOf('json-c1', 'bare'), 2)}×`,
    '',
    'info',
  )
  row(
    'JSON, c=1: added p99 (ms)',
    `${fmt(med('json-c1', 'direct', p99), 3)} abs.`,
    signed(added('json-c1', 'bare', 'direct', p99), 3),
    signed(added('json-c1', 'aiclient', 'direct', p99), 3),
    '',
    '',
    'info',
  )
  for (const c of [32, 128]) {
    const id = `json-c${c}`
    if (!results[id]) continue
    const ratio = med(id, 'aiclient', rps) / med(id, 'bare', rps)
    row(
      `JSON, c=${c}: **req/s**`,
      fmt(med(id, 'direct', rps)),
      fmt(med(id, 'bare', rps)) + spread(id, 'bare', rps),
      fmt(med(id, 'aiclient', rps)) + spread(id, 'aiclient', rps),
      pct(ratio),
      c === 32 ? '≥ 90 % of bare' : '',
      (c === 32
        ? withCpu(
            verdict(ratio >= 0.9),
            [
              [id, 'bare'],
              [id, 'aiclient'],
            ],
            cpuOf(id, 'bare') / cpuOf(id, 'aiclient') >= 0.9,
          )
        : 'info') + errorNote([id, 'direct'], [id, 'bare'], [id, 'aiclient']),
    )
  }
  const cpuB = med('json-c32', 'bare', (r) => r.cpuUsPerReq)
  const cpuA = med('json-c32', 'aiclient', (r) => r.cpuUsPerReq)
  // CPU time per request hardly moves when other processes share the machine; its inverse ratio is what the
  // req/s ratio would be with the proxy's core to itself.
  row('JSON, c=32: proxy CPU per request (µs)', '–', fmt(cpuB), fmt(cpuA), `${pct(cpuB / cpuA)} by CPU`, '', 'info')

  // Conversion, JSON
  const convJson = med('conv-json-c32', 'aiclientConvert', rps)
  row(
    'Convert OpenAI→Anthropic JSON, c=32: req/s',
    `${fmt(med('conv-json-c32', 'directAnthropic', rps))} (Anthropic)`,
    '–',
    fmt(convJson),
    `${pct(convJson / med('json-c32', 'bare', rps))} of bare pass`,
    '',
    'info' + errorNote(['conv-json-c32', 'aiclientConvert']),
  )
  if (results['conv-json-c1'])
    row(
      'Convert JSON, c=1: added p50 (ms)',
      `${fmt(med('conv-json-c1', 'directAnthropic', p50), 3)} abs.`,
      '–',
      signed(added('conv-json-c1', 'aiclientConvert', 'directAnthropic', p50), 3),
      '',
      '',
      'info',
    )
  const cpuC = med('conv-json-c32', 'aiclientConvert', (r) => r.cpuUsPerReq)
  row(
    'Convert JSON, c=32: proxy CPU per request (µs)',
    '–',
    '–',
    fmt(cpuC),
    `${pct(cpuB / cpuC)} of bare pass by CPU`,
    '',
    'info',
  )

  // SSE pass-through and conversion
  const sseB = med('sse-c32', 'bare', rps)
  const sseA = med('sse-c32', 'aiclient', rps)
  row(
    `SSE ${mock.SSE_EVENTS} chunks, c=32: **streams/s**`,
    fmt(med('sse-c32', 'direct', rps)),
    fmt(sseB) + spread('sse-c32', 'bare', rps),
    fmt(sseA) + spread('sse-c32', 'aiclient', rps),
    pct(sseA / sseB),
    '≥ 80 % of bare',
    withCpu(
      verdict(sseA / sseB >= 0.8),
      [
        ['sse-c32', 'bare'],
        ['sse-c32', 'aiclient'],
      ],
      cpuOf('sse-c32', 'bare') / cpuOf('sse-c32', 'aiclient') >= 0.8,
    ) + errorNote(['sse-c32', 'bare'], ['sse-c32', 'aiclient']),
  )
  row(
    'SSE, c=32: events/s',
    fmt(med('sse-c32', 'direct', rps) * mock.SSE_EVENTS),
    fmt(sseB * mock.SSE_EVENTS),
    fmt(sseA * mock.SSE_EVENTS),
    '',
    '',
    'info',
  )
  const cpuSseB = med('sse-c32', 'bare', (r) => r.cpuUsPerReq)
  const cpuSseA = med('sse-c32', 'aiclient', (r) => r.cpuUsPerReq)
  row(
    'SSE, c=32: proxy CPU per stream (µs)',
    '–',
    fmt(cpuSseB),
    fmt(cpuSseA),
    `${pct(cpuSseB / cpuSseA)} by CPU`,
    '',
    'info',
  )
  const sseC = med('conv-sse-c32', 'aiclientConvert', rps)
  row(
    'Convert OpenAI→Anthropic SSE, c=32: **streams/s**',
    `${fmt(med('conv-sse-c32', 'directAnthropic', rps))} (Anthropic)`,
    '–',
    fmt(sseC) + spread('conv-sse-c32', 'aiclientConvert', rps),
    `${pct(sseC / sseB)} of bare pass`,
    '≥ 25 % of bare pass',
    withCpu(
      verdict(sseC / sseB >= 0.25),
      [
        ['sse-c32', 'bare'],
        ['conv-sse-c32', 'aiclientConvert'],
      ],
      cpuOf('sse-c32', 'bare') / cpuOf('conv-sse-c32', 'aiclientConvert') >= 0.25,
    ) + errorNote(['conv-sse-c32', 'aiclientConvert']),
  )
  const cpuSseC = med('conv-sse-c32', 'aiclientConvert', (r) => r.cpuUsPerReq)
  row(
    'Convert SSE, c=32: proxy CPU per stream (µs)',
    '–',
    '–',
    fmt(cpuSseC),
    `${pct(cpuSseB / cpuSseC)} of bare pass by CPU`,
    '',
    'info',
  )

  // Responses clients: passed through to a Responses upstream, and converted to a chat-completions one
  const sseR = med('rs-sse-c32', 'aiclientResponses', rps)
  const sseRB = med('rs-sse-c32', 'bareResponses', rps)
  row(
    `Responses pass-through to openaiResponses-custom, SSE ${mock.SSE_EVENTS} deltas, c=32: **streams/s**`,
    `${fmt(med('rs-sse-c32', 'directResponses', rps))} (Responses)`,
    fmt(sseRB) + spread('rs-sse-c32', 'bareResponses', rps),
    fmt(sseR) + spread('rs-sse-c32', 'aiclientResponses', rps),
    `${pct(sseR / sseRB)} (${pct(sseR / sseB)} of bare chat)`,
    '≥ 80 % of bare',
    withCpu(
      verdict(sseR / sseRB >= 0.8),
      [
        ['rs-sse-c32', 'bareResponses'],
        ['rs-sse-c32', 'aiclientResponses'],
      ],
      cpuOf('rs-sse-c32', 'bareResponses') / cpuOf('rs-sse-c32', 'aiclientResponses') >= 0.8,
    ) + errorNote(['rs-sse-c32', 'bareResponses'], ['rs-sse-c32', 'aiclientResponses']),
  )
  const sseRC = med('rs-conv-sse-c32', 'aiclientResponsesConvert', rps)
  row(
    'Responses → chat-completions converted SSE (openai-custom), c=32: **streams/s**',
    '–',
    '–',
    convertsResponses
      ? fmt(sseRC) + spread('rs-conv-sse-c32', 'aiclientResponsesConvert', rps)
      : 'skipped: no Responses codec in this build',
    convertsResponses ? `${pct(sseRC / sseB)} of bare pass` : '',
    '≥ 25 % of bare pass',
    convertsResponses
      ? withCpu(
          verdict(sseRC / sseB >= 0.25),
          [
            ['sse-c32', 'bare'],
            ['rs-conv-sse-c32', 'aiclientResponsesConvert'],
          ],
          cpuOf('sse-c32', 'bare') / cpuOf('rs-conv-sse-c32', 'aiclientResponsesConvert') >= 0.25,
        ) + errorNote(['rs-conv-sse-c32', 'aiclientResponsesConvert'])
      : 'n/a',
  )

  // Paced streams: time to first token and the gaps
  const ttft = (r) => r.ttft.p50
  const ttftA = added('ttft-c1', 'aiclient', 'direct', ttft)
  const ttftC = added('ttft-c1', 'aiclientConvert', 'directAnthropic', ttft)
  row(
    `Paced SSE (${mock.PACE_MS} ms), c=1: **added TTFT p50** (ms)`,
    `${fmt(med('ttft-c1', 'direct', ttft), 3)} abs.`,
    signed(added('ttft-c1', 'bare', 'direct', ttft), 3),
    signed(ttftA, 3),
    '',
    '≤ 1 ms',
    verdict(ttftA === null ? null : ttftA <= 1),
  )
  row(
    'Paced SSE converted, c=1: added TTFT p50 (ms), vs direct Anthropic',
    `${fmt(med('ttft-c1', 'directAnthropic', ttft), 3)} abs.`,
    '–',
    signed(ttftC, 3),
    '',
    '≤ 1 ms',
    verdict(ttftC === null ? null : ttftC <= 1),
  )
  const gap = (r) => r.gap.p99
  row(
    'Paced SSE, c=1: inter-chunk gap p99 (ms)',
    `${fmt(med('gap-c1', 'direct', gap), 2)} abs.`,
    signed(added('gap-c1', 'bare', 'direct', gap), 2),
    `${signed(added('gap-c1', 'aiclient', 'direct', gap), 2)} (convert ${signed(added('gap-c1', 'aiclientConvert', 'directAnthropic', gap), 2)})`,
    '',
    '',
    'info',
  )
  const stallFree = (system) => {
    if (!sweep[system]) return 'not run'
    let best = null
    for (const c of MODE.sweep) {
      const r = sweep[system][c]
      if (!r || r.errors || r.stalls || r.dropped || r.reordered || r.truncated || r.ok < r.streams) break
      best = c
    }
    return best === null ? `< ${MODE.sweep[0]}` : String(best)
  }
  const top = Math.max(...MODE.sweep)
  const worst = (system) => {
    const last = sweep[system]?.[top]
    const cpu = last?.cpuShare === null || last?.cpuShare === undefined ? '' : `, proxy CPU ${pct(last.cpuShare)}`
    return last
      ? ` (at ${top}: ${last.stalls} of ${last.streams} stalled; gap p99 ${fmt(last.gap.p99, 0)} ms, TTFT p99 ${fmt(last.ttft.p99, 0)} ms${cpu})`
      : ''
  }
  row(
    `Largest stall-free concurrency, ${MODE.sweep.join('/')} streams at ${mock.SWEEP_PACE_MS} ms a token (stall: gap or TTFT > ${SWEEP_STALL_MS} ms)`,
    stallFree('direct') + worst('direct'),
    stallFree('bare') + worst('bare'),
    `${stallFree('aiclient')}${worst('aiclient')}${sweep.aiclientConvert ? `; convert ${stallFree('aiclientConvert')}${worst('aiclientConvert')}` : ''}`,
    '',
    'as bare',
    stallFree('aiclient') === stallFree('bare') ? 'same as bare' : 'info',
  )
  const sum = (system, ...keys) => keys.reduce((n, k) => n + (sseErrors[system]?.[k] ?? 0), 0)
  const bad = (system) => sum(system, 'dropped', 'reordered', 'duplicated', 'truncated')
  const lost = bad('aiclient') + bad('aiclientConvert')
  row(
    'Events dropped / reordered / truncated streams, all streaming runs',
    String(bad('direct') + bad('directAnthropic')),
    String(bad('bare')),
    `${bad('aiclient')} pass, ${bad('aiclientConvert')} convert (of ${fmt(sum('aiclient', 'streams') + sum('aiclientConvert', 'streams'))} streams; ${sum('aiclient', 'errors') + sum('aiclientConvert', 'errors')} errors)`,
    '',
    '0',
    verdict(lost === 0 && sum('aiclient', 'errors') + sum('aiclientConvert', 'errors') === 0),
  )

  // Memory
  const watchMem = (v) => (hasWatch ? `; --watch ${fmt(v)}` : '')
  row(
    'RSS idle (MB)',
    '–',
    fmt(memory.idle.bare),
    fmt(memory.idle.aiclient) + watchMem(memory.idle.watch),
    '',
    '',
    'info',
  )
  row(
    `**RSS at ${top} concurrent streams** (MB, median; max)`,
    '–',
    `${fmt(memory.load.bare)}; ${fmt(memory.loadMax.bare)}`,
    `${fmt(memory.load.aiclient)}; ${fmt(memory.loadMax.aiclient)}`,
    '',
    '≤ 150 MB',
    verdict(memory.load.aiclient <= 150),
  )
  row('RSS peak over the whole run (VmHWM, MB)', '–', fmt(memory.peak.bare), fmt(memory.peak.aiclient), '', '', 'info')
  row(
    `RSS ${MODE.afterS} s after the load (MB)`,
    '–',
    fmt(memory.after.bare),
    fmt(memory.after.aiclient) + watchMem(memory.after.watch),
    '',
    '',
    'info',
  )

  // serve --watch against plain serve, same rounds
  if (hasWatch && results['json-c32']?.aiclientWatch) {
    const jw = med('json-c32', 'aiclientWatch', rps)
    const jp = med('json-c32', 'aiclient', rps)
    const sw = med('sse-c32', 'aiclientWatch', rps)
    const sp = med('sse-c32', 'aiclient', rps)
    row(
      '`serve --watch`: JSON c=32 req/s',
      '–',
      '–',
      `${fmt(jw)} (plain ${fmt(jp)})`,
      `${pct(jw / med('json-c32', 'bare', rps))}; ${pct(jw / jp)} of plain`,
      '',
      'info' + errorNote(['json-c32', 'aiclientWatch']),
    )
    row(
      '`serve --watch`: SSE c=32 streams/s',
      '–',
      '–',
      `${fmt(sw)} (plain ${fmt(sp)})`,
      `${pct(sw / sseB)}; ${pct(sw / sp)} of plain`,
      '',
      'info' + errorNote(['sse-c32', 'aiclientWatch']),
    )
    row(
      '`serve --watch`: JSON c=1 added p50 (ms)',
      '–',
      '–',
      `${signed(added('json-c1', 'aiclientWatch', 'direct', p50), 3)} (plain ${signed(addA, 3)})`,
      '',
      '',
      'info',
    )
  } else row('`serve --watch` vs `serve`', '–', '–', 'skipped: this build has no `serve --watch`', '', '', 'n/a')

  // Each feature's cost: plain serve (everything on) against the same build with the feature off, same rounds.
  for (const {system, what} of VARIANTS) {
    if (!results['json-c32']?.[system]) continue
    const on = med('json-c32', 'aiclient', rps)
    const off = med('json-c32', system, rps)
    const byCpu = cpuOf('json-c32', system) / cpuOf('json-c32', 'aiclient')
    row(
      `JSON, c=32: req/s with ${what} on vs off`,
      '–',
      '–',
      `${fmt(on)} on, ${fmt(off)} off`,
      `${pct(on / off)}; ${pct(byCpu)} by CPU`,
      '≥ 97 % of off',
      withCpu(
        verdict(on / off >= 0.97),
        [
          ['json-c32', 'aiclient'],
          ['json-c32', system],
        ],
        byCpu >= 0.97,
      ) + errorNote(['json-c32', system]),
    )
    const sseOn = med('sse-c32', 'aiclient', rps)
    const sseOff = med('sse-c32', system, rps)
    row(
      `SSE, c=32: streams/s with ${what} on vs off`,
      '–',
      '–',
      `${fmt(sseOn)} on, ${fmt(sseOff)} off`,
      `${pct(sseOn / sseOff)}; ${pct(cpuOf('sse-c32', system) / cpuOf('sse-c32', 'aiclient'))} by CPU`,
      '',
      'info' + errorNote(['sse-c32', system]),
    )
  }

  const header = [
    `## aiclient benchmark (${MODE.name})`,
    '',
    `${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC · ${info.cpu}, ${info.cores} cores, Linux ${info.kernel} · Node ${info.node}, undici ${info.undici}, nginx ${info.nginx}, ${info.wrk} · aiclient ${info.commit}`,
    '',
    `Proxy under test alone on CPU${CORES.proxy}; nginx (1 worker, canned replies) and the load generators (wrk -t1, bench/sse-client.js) on CPU${CORES.load}. ` +
      `${MODE.rounds} interleaved round${MODE.rounds === 1 ? '' : 's'} (direct → bare pipe → aiclient${hasWatch ? ' → aiclient --watch' : ''}), ${MODE.warmS ? `${MODE.warmS} s warm-up + ` : ''}${MODE.measureS} s per wrk run; medians over rounds${MODE.rounds >= 3 ? ' (IQR for throughput)' : ''}, leaving out rounds that other processes disturbed (> ${FOREIGN_LIMIT * 100} % of a core) when an undisturbed one remains. ` +
      `SSE: ${mock.SSE_EVENTS} events; "paced" = ${mock.PACE_MS} ms between events; TTFT on a ${mock.TTFT_EVENTS}-event paced stream, to the first content token. ` +
      `Bare pipe = bench/bare-pipe.js (node:http + undici Pool, byte pipe). aiclient logs one line per request to /dev/null. ` +
      `Other processes on the machine used ${(busy * 100).toFixed(0)} % of a core before the start and ${(foreign * 100).toFixed(0)} % on average during the run${foreign > 0.05 ? ' (**figures skewed**)' : ''}; ${retries} measurement${retries === 1 ? ' was' : 's were'} repeated for that. Run took ${(durationS / 60).toFixed(1)} min.`,
    '',
    '| Figure | direct | bare pipe | aiclient | aiclient vs bare | target | result |',
    '|---|--:|--:|--:|--:|--:|:-:|',
  ]
  const footer = [
    '',
    'On 2 cores the direct figures are bounded by CPU0 (nginx and the load generator share it), so ratios to direct are lower bounds; the ratios to the bare pipe, measured on the same core in the same rounds, are the targets. ' +
      '"by CPU" ratios compare the proxies\' CPU time per request (from /proc/PID/stat), which other load on the machine hardly changes.',
    '',
  ]
  return [...header, ...rows, ...footer].join('\n')
}

function reprint(file) {
  const saved = JSON.parse(readFileSync(file, 'utf8'))
  Object.assign(MODE, saved.mode)
  startedAt = new Date(saved.startedAt ?? Date.now())
  process.stdout.write(buildReport({...saved, info: saved.info ?? versions(), retries: saved.retries ?? 0}))
}

;(flags['from-json'] ? Promise.resolve().then(() => reprint(flags['from-json'])) : main()).catch((error) => {
  console.error(error.stack ?? error)
  process.exitCode = 1
})
