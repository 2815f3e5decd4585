import {Command, Errors, Flags, ux, type Interfaces} from '@oclif/core'
import {AppError, CancelledError, EXIT} from './core/errors.js'
import {escapeForTerminal, escapeJsonText} from './core/escape.js'
import {loadConfigJson, type LoadedConfigJson} from './core/config/config-file.js'
import {resolvePoolsFile, type Resolved} from './core/config/resolve.js'
import {SettingsStore} from './core/config/settings.js'
import {PoolStore} from './core/pools/store.js'
import {envFlag} from './core/text.js'
import {SIGNAL_EXIT, terminatedBy} from './signals.js'

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override baseFlags = {
    'pools-file': Flags.string({
      aliases: ['provider-pools-file'],
      description: 'provider_pools.json to use (see "Which pool file" in the README for the fallback order)',
      helpGroup: 'GLOBAL',
    }),
    config: Flags.string({
      description: 'config.json to read (default: ./config.json when present)',
      helpGroup: 'GLOBAL',
    }),
    'no-color': Flags.boolean({description: 'Disable colour (also NO_COLOR=1)', helpGroup: 'GLOBAL'}),
  }

  protected flags!: CommandFlags<T>
  protected args!: CommandArgs<T>
  /** Every positional argument, for commands that take a variable number (`static strict = false`). */
  protected positionals: string[] = []
  private configJsonCache: LoadedConfigJson | undefined

  public override async init(): Promise<void> {
    await super.init()
    const {args, argv, flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as CommandFlags<T>
    this.args = args as CommandArgs<T>
    this.positionals = argv as string[]
  }

  protected settings(): SettingsStore {
    return new SettingsStore(this.config.configDir)
  }

  protected async configJson(): Promise<LoadedConfigJson> {
    this.configJsonCache ??= await loadConfigJson(this.flags.config)
    return this.configJsonCache
  }

  protected async poolsFile(): Promise<Resolved<string>> {
    return resolvePoolsFile(this.flags['pools-file'], {
      env: process.env,
      configJson: await this.configJson(),
      settings: this.settings().all(),
      cwd: process.cwd(),
    })
  }

  /** The pool file's store; problems that do not stop a command (duplicate uuids) are printed to stderr once. */
  protected async poolStore(): Promise<PoolStore> {
    return new PoolStore((await this.poolsFile()).value, {
      onWarning: (message) => process.stderr.write(`Warning: ${message}\n`),
    })
  }

  // Output carries names, paths and messages from files and servers. Values are escaped where they are inserted
  // (tables, progress lines); these overrides are the backstop that keeps any escape sequence off the terminal.
  public override log(message = '', ...args: unknown[]): void {
    super.log(escapeForTerminal(message), ...args)
  }

  public override logToStderr(message = '', ...args: unknown[]): void {
    super.logToStderr(escapeForTerminal(message), ...args)
  }

  protected override logJson(json: unknown): void {
    ux.stdout(escapeJsonText(ux.colorizeJson(json, {pretty: true, theme: this.config.theme?.json})))
  }

  protected interactive(): boolean {
    return Boolean(process.stdin.isTTY && process.stdout.isTTY)
  }

  /**
   * Whether to draw a live Ink view on `screen` rather than print lines: only on a terminal (with stdin one too, for
   * keys), outside CI, and without --json.
   */
  protected canRenderLive(screen: NodeJS.WriteStream = process.stdout): boolean {
    return !this.jsonEnabled() && !envFlag(process.env.CI) && Boolean(process.stdin.isTTY && screen.isTTY)
  }

  /** Every failure leaves here: one clear message (or a JSON error object), the documented exit code, no stack. */
  protected override async catch(error: Error & {oclif?: {exit?: number}; exitCode?: number}): Promise<never> {
    if (error instanceof Errors.ExitError) throw error
    const signal = terminatedBy()
    // A command cancelled by a signal exits as shells report that signal (130 for Ctrl-C, 143, 129).
    const exit =
      signal && error instanceof CancelledError
        ? SIGNAL_EXIT[signal]
        : error instanceof AppError
          ? error.exit
          : (error.oclif?.exit ?? EXIT.failure)
    const suggestions = error instanceof AppError ? error.suggestions : []
    const code = error instanceof AppError ? (error.code ?? null) : exit === EXIT.usage ? 'usage' : 'error'
    const message =
      error instanceof AppError ? error.message : error.message.replace(/\n\s*See more help with --help$/, '')
    const excerpt = error instanceof AppError ? error.excerpt : undefined
    if (this.jsonEnabled()) {
      process.stdout.write(
        `${escapeJsonText(JSON.stringify({error: {message, code, exit, suggestions, ...(excerpt ? {excerpt} : {})}}, null, 2))}\n`,
      )
    } else {
      const hints = [
        ...suggestions,
        ...(exit === EXIT.usage && !(error instanceof CancelledError)
          ? [`See \`${this.config.bin} ${this.id?.replaceAll(':', ' ') ?? ''} --help\`.`]
          : []),
      ]
      process.stderr.write(
        escapeForTerminal(
          `Error: ${message}\n${excerpt ? `${excerpt}\n` : ''}${hints.map((hint) => `  › ${hint}\n`).join('')}`,
        ),
      )
      if (process.env.DEBUG?.includes('aiclient') && error.stack)
        process.stderr.write(escapeForTerminal(`${error.stack}\n`))
    }
    return this.exit(exit)
  }
}
