// Runs the real Codex CLI (`codex exec`) against a base URL, in a throwaway CODEX_HOME and working directory.
import {execFile} from 'node:child_process'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const MCP_ECHO = fileURLToPath(new URL('./mcp-echo.mjs', import.meta.url))

export interface CodexConfig {
  /** `http://127.0.0.1:PORT/v1`, or with a type prefix `…/claude-custom/v1` */
  baseUrl: string
  model: string
  /** Name of the environment variable that carries the key */
  envKey?: string
  /** Adds the stdio MCP server of test/agents/mcp-echo.mjs as `echo` */
  mcpEcho?: boolean
  supportsWebsockets?: boolean
}

/**
 * A config.toml for `aiclient serve`. Analytics off stops the calls to ab.chatgpt.com, plugins off the ones to
 * github.com, api.github.com and chatgpt.com; no retries, so that a failure shows at once instead of after backoff.
 */
export function codexConfigToml(c: CodexConfig): string {
  const lines = [
    `model = ${JSON.stringify(c.model)}`,
    'model_provider = "aiclient"',
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[features]',
    'plugins = false',
    '',
    '[model_providers.aiclient]',
    'name = "aiclient"',
    `base_url = ${JSON.stringify(c.baseUrl)}`,
    `env_key = ${JSON.stringify(c.envKey ?? 'AICLIENT_KEY')}`,
    'wire_api = "responses"',
    'request_max_retries = 0',
    'stream_max_retries = 0',
  ]
  if (c.supportsWebsockets) lines.push('supports_websockets = true')
  if (c.mcpEcho) lines.push('', '[mcp_servers.echo]', 'command = "node"', `args = [${JSON.stringify(MCP_ECHO)}]`)
  return `${lines.join('\n')}\n`
}

export interface CodexRun {
  code: number | null
  /** The final answer (codex exec prints only that on stdout) */
  stdout: string
  /** The transcript: config summary, commands run, warnings */
  stderr: string
  /** The working directory the commands ran in */
  cwd: string
}

/** `codex exec --skip-git-repo-check --dangerously-bypass-approvals-and-sandbox PROMPT </dev/null` */
export async function runCodex(
  bin: string,
  dir: string,
  config: CodexConfig,
  prompt: string,
  key: string,
): Promise<CodexRun> {
  const home = join(dir, 'home')
  const codexHome = join(home, 'codex')
  const cwd = join(dir, 'work')
  await mkdir(codexHome, {recursive: true})
  await mkdir(cwd, {recursive: true})
  await writeFile(join(codexHome, 'config.toml'), codexConfigToml(config))
  const args = ['exec', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', prompt]
  const env = {PATH: process.env.PATH, HOME: home, CODEX_HOME: codexHome, [config.envKey ?? 'AICLIENT_KEY']: key}
  return new Promise((resolve) => {
    const child = execFile(bin, args, {cwd, env, timeout: 30_000}, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
      resolve({code, stdout, stderr, cwd})
    })
    child.stdin?.end()
  })
}
