#!/usr/bin/env node
// Profiles `aiclient serve` under one bench load: starts the mock upstream, runs serve under
// `node --cpu-prof` on the proxy core, drives it with wrk (or the streaming client), stops it with SIGINT
// so the profile is written, and prints the top self-time functions (bench/cpuprofile-top.js).
//
// node bench/profile.js [--load json|sse|convert-json|convert-sse|responses-convert-sse|sweep] [--seconds 10] [--c 32] [--out DIR]
//   [--target aiclient|bare [--bare-mode read|stream]]   (bare: profile bench/bare-pipe.js, the floor)
import {spawnSync} from 'node:child_process'
import {mkdtempSync, mkdirSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'
import * as mock from './lib/mock.js'
import {CORES, cpuSeconds, listeningPort, run, startPinned, stop, waitForHttp} from './lib/proc.js'
import {BENCH, childEnv, ensureBuild, ensureTools, log, snapshotApp, startMock, wrk} from './lib/setup.js'

const {values} = parseArgs({
  options: {
    load: {type: 'string', default: 'json'},
    seconds: {type: 'string', default: '10'},
    c: {type: 'string', default: '32'},
    out: {type: 'string', default: join(BENCH, 'results', 'profiles')},
    top: {type: 'string', default: '30'},
    target: {type: 'string', default: 'aiclient'},
    'bare-mode': {type: 'string', default: 'read'},
  },
})

const LOADS = {
  json: {path: '/v1/chat/completions', kind: 'json'},
  sse: {path: '/v1/chat/completions', kind: 'sse'},
  'convert-json': {path: '/claude-custom/v1/chat/completions', kind: 'json'},
  'convert-sse': {path: '/claude-custom/v1/chat/completions', kind: 'sse'},
  sweep: {path: '/v1/chat/completions', kind: 'sweep'},
  // A Responses client over the chat-completions upstream: the bench's "Responses → chat-completions" row.
  'responses-convert-sse': {path: '/openai-custom/v1/responses', kind: 'sse', protocol: 'responses'},
}
const load = LOADS[values.load]
if (!load) {
  console.error(`--load must be one of ${Object.keys(LOADS).join(', ')}`)
  process.exit(2)
}

ensureTools()
ensureBuild()
spawnSync('taskset', ['-a', '-pc', CORES.load, String(process.pid)], {stdio: 'ignore'})
const dir = mkdtempSync(join(tmpdir(), 'aiclient-profile-'))
const profDir = join(dir, 'prof')
const children = []
try {
  const {nginx, origin: upstream, bodies, pools} = await startMock(dir)
  const nginxOrigin = () => upstream
  children.push(nginx)
  const bare = values.target === 'bare'
  if (bare && load.path !== LOADS.json.path) throw new Error('the bare pipe does not convert')
  const prof = [process.execPath, '--cpu-prof', `--cpu-prof-dir=${profDir}`]
  const args = bare
    ? [...prof, join(BENCH, 'bare-pipe.js'), '--upstream', nginxOrigin(), '--port', '0', '--mode', values['bare-mode']]
    : [
        ...prof,
        join(await snapshotApp(dir), 'bin/run.js'),
        'serve',
        '--port',
        '0',
        '--pools-file',
        pools,
        '--model-provider',
        'openai-custom',
      ]
  const aiclient = startPinned(CORES.proxy, args, {cwd: dir, env: childEnv(dir), stderr: join(dir, 'proxy.stderr')})
  children.push(aiclient)
  const origin = `http://127.0.0.1:${await listeningPort(aiclient.pid, aiclient)}`
  await waitForHttp(bare ? `${origin}/` : `${origin}/health`)
  const url = `${origin}${load.path}`
  const bodyFile = bodies[`${load.kind}-${load.protocol ?? 'openai'}`]
  log(`warm-up, then ${values.seconds}s of ${values.load} at c=${values.c} against ${url}`)
  let figure
  const now = () => String(process.hrtime.bigint() / 1000n)
  const window = {}
  if (load.kind === 'sweep') {
    const client = [
      '-c',
      CORES.load,
      process.execPath,
      join(BENCH, 'sse-client.js'),
      '--url',
      url,
      '--body-file',
      bodyFile,
      '--expect',
      String(mock.SSE_EVENTS),
    ]
    client.push(
      '--concurrency',
      values.c,
      '--streams',
      '1',
      '--ramp-ms',
      '1000',
      '--stall-ms',
      String(10 * mock.SWEEP_PACE_MS),
    )
    const cpu0 = cpuSeconds(aiclient.pid)
    window.from = now()
    const {stdout} = await run('taskset', client)
    window.to = now()
    const r = JSON.parse(stdout.trim().split('\n').at(-1))
    figure = `${r.ok}/${r.streams} streams complete, ${r.stalls} stalled, ${(((cpuSeconds(aiclient.pid) - cpu0) / r.events) * 1e6).toFixed(1)} µs of proxy CPU per event`
  } else {
    await wrk({url, bodyFile, c: Number(values.c), seconds: 3})
    const cpu0 = cpuSeconds(aiclient.pid)
    window.from = now()
    const r = await wrk({url, bodyFile, c: Number(values.c), seconds: Number(values.seconds)})
    window.to = now()
    figure = `${r.rps.toFixed(0)} req/s, ${r.errors} errors, ${(((cpuSeconds(aiclient.pid) - cpu0) / r.requests) * 1e6).toFixed(0)} µs of proxy CPU per request`
  }
  log(figure)
  await stop(aiclient, 'SIGINT', 30_000)
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))
  if (!file) throw new Error('no .cpuprofile written (did serve exit cleanly?)')
  mkdirSync(values.out, {recursive: true})
  const kept = join(values.out, `${bare ? 'bare-' : ''}${values.load}-c${values.c}.cpuprofile`)
  spawnSync('cp', [join(profDir, file), kept])
  console.log(`## ${values.target} ${values.load}, c=${values.c}: ${figure}`)
  console.log(`(only the measured load: node bench/cpuprofile-top.js ${kept} --from ${window.from} --to ${window.to})`)
  const top = spawnSync(
    process.execPath,
    [join(BENCH, 'cpuprofile-top.js'), kept, '--top', values.top, '--from', window.from, '--to', window.to],
    {encoding: 'utf8'},
  )
  process.stdout.write(top.stdout)
  process.stderr.write(top.stderr)
} finally {
  for (const child of children.reverse()) await stop(child)
  rmSync(dir, {recursive: true, force: true})
}
