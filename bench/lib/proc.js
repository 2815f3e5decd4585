// Processes of the bench: pinning, readiness, memory and CPU read from /proc.
import {execFile, spawn} from 'node:child_process'
import {openSync, readFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {setTimeout as sleep} from 'node:timers/promises'

export const CORES = {load: '0', proxy: '1'}

export function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, {maxBuffer: 64 * 1024 * 1024, ...options}, (error, stdout, stderr) => {
      if (error) {
        error.stdout = stdout
        error.stderr = stderr
        reject(error)
      } else resolve({stdout, stderr})
    })
  })
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address()
      server.close(() => resolve(port))
    })
  })
}

/**
 * Starts `argv` on one core. taskset execs the command, so the pid is the program's own and every thread it
 * starts (libuv pool, GC helpers) inherits the mask. stdout goes to a file or /dev/null: a pipe that the
 * harness drained would make a logging proxy wait on the harness's core.
 */
export function startPinned(core, argv, {stdout = '/dev/null', stderr = '/dev/null', cwd, env} = {}) {
  const child = spawn('taskset', ['-c', core, ...argv], {
    cwd,
    env: env ?? process.env,
    stdio: ['ignore', openSync(stdout, 'a'), openSync(stderr, 'a')],
  })
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({code, signal})))
  child.exited = exited
  child.once('error', () => {})
  return child
}

export async function stop(child, signal = 'SIGTERM', graceMs = 15_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  child.kill(signal)
  const done = await Promise.race([child.exited, sleep(graceMs).then(() => null)])
  if (done === null) {
    child.kill('SIGKILL')
    await child.exited
  }
}

/** The TCP port `pid` listens on, found with `ss` (so the proxy's stdout can go to /dev/null). */
export async function listeningPort(pid, child, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  const pattern = new RegExp(`127\\.0\\.0\\.1:(\\d+)\\s.*pid=${pid},`)
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`process ${pid} exited (${child.exitCode ?? child.signalCode}) before listening`)
    const {stdout} = await run('ss', ['-ltnpH'])
    for (const line of stdout.split('\n')) {
      const m = pattern.exec(line)
      if (m) return Number(m[1])
    }
    await sleep(100)
  }
  throw new Error(`process ${pid} did not listen within ${timeoutMs} ms`)
}

/** Resolves once a URL answers at all (any status), so a started server is known to be accepting. */
export async function waitForHttp(url, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url)
      await response.arrayBuffer()
      return
    } catch {
      await sleep(100)
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`)
}

function statusField(pid, field) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8')
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)
  return m ? Number(m[1]) / 1024 : NaN
}

/** MB */
export const rssMb = (pid) => statusField(pid, 'VmRSS')
export const hwmMb = (pid) => statusField(pid, 'VmHWM')

const TICKS = 100

/** Seconds of CPU (user + system) the process has used; clock ticks are 10 ms, enough over seconds of load. */
export function cpuSeconds(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICKS
}

/** Samples VmRSS every `everyMs` until stopped; returns the samples. */
export function sampleRss(pid, everyMs = 250) {
  const samples = []
  const take = () => {
    try {
      samples.push(rssMb(pid))
    } catch {
      // The process may have exited; the caller notices.
    }
  }
  take()
  const timer = setInterval(take, everyMs)
  return {
    stop() {
      clearInterval(timer)
      take()
      return samples
    },
  }
}

/** CPU seconds the whole machine has been busy, over all cores (from /proc/stat). */
export function machineCpuSeconds() {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number)
  const idle = cpu[3] + cpu[4]
  return (cpu.reduce((a, b) => a + b, 0) - idle) / TICKS
}

/** CPU seconds of this process plus the children it has waited for (wrk and client runs). */
export function ownCpuSeconds() {
  const text = readFileSync('/proc/self/stat', 'utf8')
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS
}

export function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/** Share of one core that the machine spent busy over `ms`, for a warning when others are using it. */
export async function machineBusy(ms = 1000) {
  const a = machineCpuSeconds()
  await sleep(ms)
  return (machineCpuSeconds() - a) / (ms / 1000)
}
