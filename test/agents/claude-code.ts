// Runs the real Claude Code (`claude -p`) against a base URL, in a throwaway HOME and working directory.
import {execFile} from 'node:child_process'
import {mkdir} from 'node:fs/promises'
import {join} from 'node:path'

export interface ClaudeCodeRun {
  code: number | null
  /** With `--output-format json`: one JSON object, the run's outcome and final text */
  stdout: string
  stderr: string
  /** The working directory the tools ran in */
  cwd: string
}

/** The JSON result `claude -p --output-format json` prints */
export interface ClaudeCodeResult {
  type: 'result'
  subtype: string
  is_error: boolean
  result?: string
  num_turns?: number
}

/**
 * `claude -p PROMPT --output-format json --allowedTools …` with no stdin and its default model. The environment is
 * only what the run needs: no telemetry, error reports, update checks or other calls to its vendor, so that every
 * request it makes goes to `baseUrl`.
 */
export async function runClaudeCode(
  bin: string,
  dir: string,
  options: {baseUrl: string; key: string; prompt: string; allowedTools?: string[]},
): Promise<ClaudeCodeRun> {
  const home = join(dir, 'home')
  const cwd = join(dir, 'work')
  await mkdir(home, {recursive: true})
  await mkdir(cwd, {recursive: true})
  const args = ['-p', options.prompt, '--output-format', 'json']
  if (options.allowedTools) args.push('--allowedTools', options.allowedTools.join(','))
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    ANTHROPIC_BASE_URL: options.baseUrl,
    ANTHROPIC_API_KEY: options.key,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
  }
  return new Promise((resolve) => {
    const child = execFile(bin, args, {cwd, env, timeout: 45_000}, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
      resolve({code, stdout, stderr, cwd})
    })
    child.stdin?.end()
  })
}

/** The result object of a run's stdout; undefined when stdout is not one */
export function claudeCodeResult(run: ClaudeCodeRun): ClaudeCodeResult | undefined {
  try {
    const parsed = JSON.parse(run.stdout) as ClaudeCodeResult
    return parsed?.type === 'result' ? parsed : undefined
  } catch {
    return undefined
  }
}
