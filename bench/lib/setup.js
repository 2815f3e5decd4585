// Setup shared by bench/run.js and bench/profile.js: tools, build, the mock upstream, the proxies' environment.
import {spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import * as mock from './mock.js'
import {CORES, freePort, run, startPinned, waitForHttp} from './proc.js'

export const BENCH = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const ROOT = resolve(BENCH, '..')

export const log = (message) => process.stderr.write(`[bench ${process.uptime().toFixed(0).padStart(4)}s] ${message}\n`)

export function ensureTools({install = true} = {}) {
  const missing = []
  const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
  if (!has('nginx')) missing.push('nginx-light')
  if (!existsSync(mock.ECHO_MODULE)) missing.push('libnginx-mod-http-echo')
  if (!has('wrk')) missing.push('wrk')
  for (const cmd of ['taskset', 'ss']) if (!has(cmd)) missing.push(cmd === 'taskset' ? 'util-linux' : 'iproute2')
  if (missing.length === 0) return
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`
  if (!install || process.getuid?.() !== 0) {
    console.error(`The bench needs Debian packages that are not installed. Run as root:\n  ${command}`)
    process.exit(1)
  }
  log(`installing ${missing.join(', ')}`)
  const result = spawnSync('sh', ['-c', command], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {...process.env, DEBIAN_FRONTEND: 'noninteractive'},
  })
  if (result.status !== 0) {
    console.error(`Installing failed. Run by hand:\n  ${command}`)
    process.exit(1)
  }
}

function newestMtime(dir) {
  let newest = 0
  if (!existsSync(dir)) return Date.now()
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

export function ensureBuild() {
  if (!existsSync(join(ROOT, 'node_modules/undici'))) {
    // A clean clone: npm install also builds (the prepare script).
    log('node_modules/ is missing: npm install')
    const result = spawnSync('npm', ['install'], {cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit']})
    if (result.status !== 0) process.exit(1)
  }
  const serve = join(ROOT, 'dist/commands/serve.js')
  if (!existsSync(serve)) {
    log('dist/ is missing: npm run build')
    const result = spawnSync('npm', ['run', 'build'], {cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit']})
    if (result.status !== 0) process.exit(1)
    return
  }
  // Others may be editing src/ while the bench runs: say so rather than rebuild under them.
  if (newestMtime(join(ROOT, 'src')) > statSync(serve).mtimeMs)
    log('warning: src/ is newer than dist/; the bench measures dist/ as built (npm run build to refresh)')
}

/**
 * A copy of the built CLI (bin/, dist/, the oclif manifest; node_modules linked) that the bench runs, so
 * that an `npm run build` elsewhere in the tree (which starts with rm -rf dist) cannot pull it away mid-run.
 * Waits for dist/ to hold still first, in case such a build is running now.
 */
export async function snapshotApp(dir) {
  const dist = join(ROOT, 'dist')
  for (let waited = 0; ; waited++) {
    const ready = existsSync(join(dist, 'commands/serve.js')) && Date.now() - newestMtime(dist) > 3000
    if (ready) break
    if (waited === 120)
      throw new Error('dist/ kept changing or stayed missing for 2 minutes; run npm run build and try again')
    if (waited === 0) log('waiting for dist/ to be complete (a build may be running)')
    await new Promise((r) => setTimeout(r, 1000))
  }
  const app = join(dir, 'app')
  mkdirSync(app)
  for (const name of ['bin', 'dist', 'package.json', 'oclif.manifest.json']) {
    if (existsSync(join(ROOT, name))) cpSync(join(ROOT, name), join(app, name), {recursive: true})
  }
  symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'))
  return app
}

export function poolFile(nginxOrigin) {
  const common = {
    checkModelName: null,
    isHealthy: true,
    isDisabled: false,
    lastUsed: null,
    usageCount: 0,
    errorCount: 0,
    lastErrorTime: null,
  }
  return JSON.stringify(
    {
      'openai-custom': [
        {
          uuid: '0b1e2c3d-0000-4000-8000-000000000001',
          customName: 'bench-openai',
          OPENAI_API_KEY: 'sk-bench',
          OPENAI_BASE_URL: `${nginxOrigin}/v1`,
          ...common,
        },
      ],
      'openaiResponses-custom': [
        {
          uuid: '0b1e2c3d-0000-4000-8000-000000000003',
          customName: 'bench-responses',
          OPENAI_API_KEY: 'sk-bench',
          OPENAI_BASE_URL: `${nginxOrigin}/v1`,
          ...common,
        },
      ],
      'claude-custom': [
        {
          uuid: '0b1e2c3d-0000-4000-8000-000000000002',
          customName: 'bench-claude',
          CLAUDE_API_KEY: 'sk-ant-bench',
          CLAUDE_BASE_URL: nginxOrigin,
          ...common,
        },
      ],
    },
    null,
    2,
  )
}

// A clean environment for the proxies: no outbound proxy, no incoming key, no user settings.
export function childEnv(dir) {
  const env = {...process.env, NO_COLOR: '1', AICLIENT_CONFIG_DIR: join(dir, 'config')}
  for (const name of [
    'HTTPS_PROXY',
    'https_proxy',
    'HTTP_PROXY',
    'http_proxy',
    'AICLIENT_API_KEY',
    'AICLIENT_POOLS_FILE',
    'DEBUG',
  ])
    delete env[name]
  return env
}

// ---------------------------------------------------------------------------------------------- load tools

export async function wrk({url, bodyFile, c, seconds}) {
  const {stdout} = await run(
    'taskset',
    ['-c', CORES.load, 'wrk', '-t1', `-c${c}`, `-d${seconds}s`, '--timeout', '10s', '-s', join(BENCH, 'post.lua'), url],
    {
      env: {...process.env, BENCH_BODY_FILE: bodyFile},
    },
  )
  const line = stdout
    .trim()
    .split('\n')
    .findLast((l) => l.startsWith('{'))
  if (!line) throw new Error(`wrk printed no summary:\n${stdout}`)
  const r = JSON.parse(line)
  const errors = r.connectErrors + r.readErrors + r.writeErrors + r.statusErrors + r.timeouts
  return {
    rps: r.requests / (r.durationUs / 1e6),
    requests: r.requests,
    errors,
    p50: r.p50Us / 1000,
    p99: r.p99Us / 1000,
  }
}

/** nginx on the load core with the canned replies, and a request body file per kind and protocol. */
export async function startMock(dir) {
  const port = await freePort()
  writeFileSync(join(dir, 'nginx.conf'), mock.nginxConfig({dir, port}))
  const nginx = startPinned(CORES.load, ['nginx', '-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    stderr: join(dir, 'nginx.stderr'),
  })
  const origin = `http://127.0.0.1:${port}`
  await waitForHttp(`${origin}/`)
  const bodies = {}
  for (const kind of Object.keys(mock.MODELS)) {
    for (const [protocol, requestOf] of Object.entries(mock.REQUESTS)) {
      const file = join(dir, `body-${kind}-${protocol}.json`)
      writeFileSync(file, requestOf(kind))
      bodies[`${kind}-${protocol}`] = file
    }
  }
  const pools = join(dir, 'provider_pools.json')
  writeFileSync(pools, poolFile(origin))
  mkdirSync(join(dir, 'config'), {recursive: true})
  return {nginx, origin, bodies, pools}
}
