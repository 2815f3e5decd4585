// Installs the real agent CLIs the agents suite drives, pinned, into a cache folder outside the repository, and
// reuses an install that is already there. When npm cannot install them (no registry, a failed install), the
// caller gets a reason instead of an error, so that the suites are skipped, not failed.
import {execFile} from 'node:child_process'
import {access, mkdir, readFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {join} from 'node:path'

export interface AgentPackage {
  /** What the suites call it */
  name: string
  /** The npm package and its pinned version */
  package: string
  version: string
  /** Its command in node_modules/.bin */
  bin: string
  /** `bin --version` must print this: the native binary is there and runs */
  versionLine: RegExp
}

export const AGENTS = {
  codex: {
    name: 'Codex CLI',
    package: '@openai/codex',
    version: '0.171.0',
    bin: 'codex',
    versionLine: /codex-cli 0\.171\.0/,
  },
  claudeCode: {
    name: 'Claude Code',
    package: '@anthropic-ai/claude-code',
    version: '2.1.332',
    bin: 'claude',
    versionLine: /^2\.1\.332 \(Claude Code\)/m,
  },
} satisfies Record<string, AgentPackage>

export type AgentName = keyof typeof AGENTS

export type Installed = {ok: true; bin: string} | {ok: false; reason: string}

/** Time one `npm install` may take before the suite gives up on it */
const INSTALL_TIMEOUT_MS = Number(process.env.AICLIENT_AGENTS_INSTALL_TIMEOUT_MS ?? 240_000)

export function agentsCache(): string {
  return process.env.AICLIENT_AGENTS_CACHE || join(homedir(), '.cache', 'aiclient', 'agents')
}

interface Run {
  code: number | null
  stdout: string
  stderr: string
  timedOut: boolean
}

function run(file: string, args: string[], timeoutMs: number, cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, {timeout: timeoutMs, cwd, maxBuffer: 16 * 1024 * 1024}, (error, stdout, stderr) => {
      const timedOut = error !== null && (error as {killed?: boolean}).killed === true
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
      resolve({code, stdout, stderr, timedOut})
    })
  })
}

/** The installed package's version, or undefined when it is not there */
async function installedVersion(cache: string, agent: AgentPackage): Promise<string | undefined> {
  try {
    const manifest = JSON.parse(await readFile(join(cache, 'node_modules', agent.package, 'package.json'), 'utf8'))
    return typeof manifest.version === 'string' ? manifest.version : undefined
  } catch {
    return undefined
  }
}

/** The binary runs and is the pinned version; a reason otherwise */
async function check(bin: string, agent: AgentPackage): Promise<string | undefined> {
  try {
    await access(bin)
  } catch {
    return `${bin} is missing`
  }
  const version = await run(bin, ['--version'], 30_000)
  const out = `${version.stdout}${version.stderr}`
  return agent.versionLine.test(out) ? undefined : `${bin} --version printed ${JSON.stringify(out.trim())}`
}

const NETWORK =
  /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ERR_SOCKET_TIMEOUT)\b/

/** Why an install failed, in one line */
function failure(result: Run): string {
  if (result.timedOut) return `npm install did not finish within ${INSTALL_TIMEOUT_MS / 1000} s`
  const network = NETWORK.exec(result.stderr)
  if (network) return `the npm registry is unreachable (${network[1]})`
  const lines = result.stderr.split('\n').filter((l) => /npm (ERR!|error)/.test(l))
  return `npm install failed: ${lines.slice(0, 2).join(' ').trim() || `exit ${String(result.code)}`}`
}

/** Installs `name` into the cache unless the pinned version is already there; never throws */
export async function installAgent(name: AgentName): Promise<Installed> {
  const agent: AgentPackage = AGENTS[name]
  const cache = agentsCache()
  const bin = join(cache, 'node_modules', '.bin', agent.bin)
  if ((await installedVersion(cache, agent)) !== agent.version) {
    try {
      await mkdir(cache, {recursive: true})
    } catch (error) {
      return {ok: false, reason: `cannot create the cache folder ${cache}: ${(error as Error).message}`}
    }
    const args = [
      'install',
      '--prefix',
      cache,
      '--save-exact',
      '--include=optional',
      '--no-audit',
      '--no-fund',
      '--fetch-retries=1',
    ]
    const result = await run('npm', [...args, `${agent.package}@${agent.version}`], INSTALL_TIMEOUT_MS, cache)
    if (result.code !== 0) return {ok: false, reason: failure(result)}
  }
  const broken = await check(bin, agent)
  return broken ? {ok: false, reason: `${agent.package}@${agent.version} does not run: ${broken}`} : {ok: true, bin}
}
