import {resolve} from 'node:path'
import {Args, Flags} from '@oclif/core'
import open from 'open'
import {BaseCommand} from '../../base-command.js'
import {CancelledError, UsageError} from '../../core/errors.js'
import {escapeControls} from '../../core/escape.js'
import {Dispatchers} from '../../core/http/dispatchers.js'
import {checkCredentialTarget, defaultCredentialPath, fileExists} from '../../core/oauth/credential-file.js'
import {resolveEndpoints} from '../../core/oauth/endpoints.js'
import type {OAuthProvider} from '../../core/oauth/errors.js'
import type {FlowContext, LoginResult, PendingLogin} from '../../core/oauth/flow.js'
import {KIRO_DEFAULT_REGION} from '../../core/oauth/kiro.js'
import {POOL_TYPE} from '../../core/oauth/login.js'
import {runLogin, type KiroMethod, type LoginPlan} from '../../core/oauth/run-login.js'
import {confirm} from '../../prompt.js'
import {onTermination} from '../../signals.js'
import {openLoginScreen, type LoginScreenHandle} from '../../ui/auth/screen.js'

const PROVIDERS = ['qwen', 'gemini', 'kiro'] as const

export interface LoginPayload {
  provider: OAuthProvider
  credsFile: string
  expiresAt: string
  account: string | null
  poolUuid: string | null
}
const LABEL: Record<OAuthProvider, string> = {qwen: 'Qwen', gemini: 'Gemini (Google)', kiro: 'Kiro'}

export default class AuthLogin extends BaseCommand<typeof AuthLogin> {
  static override summary = 'Log in to Qwen, Gemini or Kiro and write the credential file'
  static override description = `Runs the provider's OAuth login and writes a credential file that aiclient — and, for Qwen and Gemini, the vendor's own CLI — can use. With --add-to-pool the account joins the pool.

qwen: device authorization with PKCE; approve the code at the URL shown. Writes ~/.qwen/oauth_creds.json.
gemini: Google sign-in in a browser that comes back to a one-shot listener on 127.0.0.1, then Code Assist project discovery (unless --project-id). With the browser on another machine, paste the address it ends on. Writes ~/.gemini/oauth_creds.json.
kiro: --method builder-id (default) is an AWS SSO device login; google and github sign in through Kiro's page and end on a kiro:// link that you paste back. Writes ~/.aws/sso/cache/kiro-auth-token.json, the Kiro IDE's own file, so give each further account its own --output.

An existing credential file is replaced only after a confirmation in a terminal, or with --force. Ctrl-C cancels (exit 130) and writes nothing; so do SIGTERM (exit 143) and SIGHUP, a closed terminal (129).`
  static override examples = [
    '<%= config.bin %> auth login qwen',
    '<%= config.bin %> auth login gemini --no-browser --add-to-pool',
    '<%= config.bin %> auth login gemini --project-id my-project --output ~/accounts/work.json',
    '<%= config.bin %> auth login kiro --method github --output ~/.kiro/work.json --add-to-pool',
    '<%= config.bin %> auth login kiro --start-url https://my-org.awsapps.com/start --region eu-west-1 --output ~/.kiro/org.json',
    '<%= config.bin %> auth login qwen --output ~/.qwen/second.json --add-to-pool --json',
  ]
  static override enableJsonFlag = true
  static override args = {
    provider: Args.string({description: 'the provider to log in to', required: true, options: [...PROVIDERS]}),
  }
  static override flags = {
    output: Flags.string({char: 'o', description: "credential file to write (default: the vendor tool's own file)"}),
    force: Flags.boolean({char: 'f', description: 'replace an existing credential file without asking'}),
    'no-browser': Flags.boolean({description: 'do not open a browser; only print the URL (for SSH sessions)'}),
    'add-to-pool': Flags.boolean({
      description: 'add the account to the pool, or update the instance that uses this credential file',
    }),
    port: Flags.integer({
      description: 'gemini: port of the 127.0.0.1 listener for the browser redirect (default: a free port)',
      min: 1,
      max: 65_535,
    }),
    'project-id': Flags.string({description: 'gemini: Google Cloud project to use instead of discovering it'}),
    method: Flags.string({
      description: 'kiro: how to sign in (default builder-id)',
      options: ['builder-id', 'google', 'github'],
    }),
    region: Flags.string({description: `kiro: AWS region of the account (default ${KIRO_DEFAULT_REGION})`}),
    'start-url': Flags.string({
      description: 'kiro builder-id: IAM Identity Center start URL (default: AWS Builder ID)',
    }),
  }

  async run() {
    const provider = this.args.provider as OAuthProvider
    this.checkFlags(provider)
    const endpoints = resolveEndpoints(process.env)
    const file = resolve(this.flags.output ?? defaultCredentialPath(provider))
    await checkCredentialTarget(file)
    // Resolve the pool file before a person spends time logging in, so its errors come first.
    const store = this.flags['add-to-pool'] ? await this.poolStore() : undefined
    await this.confirmReplace(file, provider)

    const controller = new AbortController()
    const cancel = () => controller.abort()
    const screen = await openLoginScreen({live: this.canRenderLive(process.stderr), onCancel: cancel})
    // SIGHUP too: a closed terminal cancels like Ctrl-C, writes nothing, and gives the terminal back.
    const stopWatching = onTermination(cancel)
    const dispatchers = new Dispatchers()
    let done: string | null = null
    let outcome: {summary: string; payload: LoginPayload}
    try {
      const ctx: FlowContext = {
        dispatcher: dispatchers.get(),
        signal: controller.signal,
        openBrowser: this.flags['no-browser'] ? undefined : openInBrowser,
        onEvent: (event) => screen.event(event),
      }
      const plan: LoginPlan = {
        provider,
        file,
        endpoints,
        store,
        projectId: this.flags['project-id'],
        port: this.flags.port,
        method: this.flags.method as KiroMethod | undefined,
        region: this.flags.region,
        startUrl: this.flags['start-url'],
      }
      const {login, projectId, pool} = await runLogin(plan, ctx, (pending, pasteRequired) =>
        waitForRedirect(pending, screen, pasteRequired),
      )
      done = `Signed in to ${LABEL[provider]}${login.account ? ` as ${escapeControls(login.account)}` : ''}`
      const poolText = pool
        ? `; ${pool.created ? 'added to' : 'updated in'} ${store!.file} as ${POOL_TYPE[provider]} ${pool.uuid}`
        : ''
      outcome = {
        summary: `${done}: wrote ${file} (token valid until ${login.expiresAt.toISOString()})${projectId ? `, project ${projectId}` : ''}${poolText}.`,
        payload: {
          provider,
          credsFile: file,
          expiresAt: login.expiresAt.toISOString(),
          account: login.account,
          poolUuid: pool?.uuid ?? null,
        },
      }
    } finally {
      stopWatching()
      await screen.close(done)
      await dispatchers.close()
    }
    this.log(outcome.summary)
    return outcome.payload
  }

  private checkFlags(provider: OAuthProvider): void {
    const only: Array<[string, OAuthProvider]> = [
      ['port', 'gemini'],
      ['project-id', 'gemini'],
      ['method', 'kiro'],
      ['region', 'kiro'],
      ['start-url', 'kiro'],
    ]
    for (const [flag, owner] of only) {
      if (this.flags[flag as keyof typeof this.flags] !== undefined && provider !== owner) {
        throw new UsageError(`--${flag} is only for \`auth login ${owner}\`.`, {code: 'conflicting_flags'})
      }
    }
    // The region goes into endpoint host names, so it must look like one.
    const region = this.flags.region
    if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
      throw new UsageError(`--region "${region}" is not an AWS region such as us-east-1.`, {code: 'invalid_region'})
    }
    const startUrl = this.flags['start-url']
    if (startUrl !== undefined) {
      if (this.flags.method !== undefined && this.flags.method !== 'builder-id') {
        throw new UsageError('--start-url is only for --method builder-id.', {code: 'conflicting_flags'})
      }
      if (!/^https?:\/\/[^\s/]+/.test(startUrl))
        throw new UsageError(`--start-url "${startUrl}" is not an http(s) URL.`, {code: 'invalid_url'})
    }
  }

  /** An existing login is replaced only with --force or a yes on a terminal; scripts must say --force. */
  private async confirmReplace(file: string, provider: OAuthProvider): Promise<void> {
    if (this.flags.force || !(await fileExists(file))) return
    if (this.jsonEnabled() || !this.interactive()) {
      throw new UsageError(`${file} already exists; refusing to replace it without confirmation.`, {
        code: 'needs_force',
        suggestions: ['Re-run with --force to replace it, or choose another file with --output FILE.'],
      })
    }
    const what = provider === 'kiro' && file === defaultCredentialPath('kiro') ? 'the Kiro IDE login' : 'a login'
    if (!(await confirm(`${file} already holds ${what}. Replace it?`)))
      throw new CancelledError(`Nothing was changed; ${file} is as it was.`)
  }
}

/** Feeds pasted lines to the login; when a paste is the only way in, the end of input ends the login. */
function waitForRedirect(
  pending: PendingLogin,
  screen: LoginScreenHandle,
  pasteRequired: boolean,
): Promise<LoginResult> {
  return new Promise((resolve, reject) => {
    const inputEnded = () =>
      reject(
        new UsageError('The input ended before the link was pasted.', {
          code: 'missing_input',
          suggestions: ['Paste the kiro:// link on stdin.'],
        }),
      )
    screen.acceptPaste((line) => pending.submitRedirectUrl(line), pasteRequired ? inputEnded : undefined)
    pending.result.then(resolve, reject)
  })
}

async function openInBrowser(url: string): Promise<void> {
  const child = await open(url)
  // A machine without a browser: the URL is on screen already, so there is nothing to report.
  child.once('error', () => {})
}
