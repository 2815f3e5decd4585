import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {UsageError} from '../../core/errors.js'
import {TYPE_FIELDS} from '../../core/pools/fields.js'
import {addInstance, parseProviderType, parseRoutingFlags} from '../../core/pools/operations.js'
import {PROVIDER_TYPES} from '../../core/pools/types.js'
import {maskSecrets} from '../../core/secrets.js'
import {ROUTING_FLAGS} from '../../routing-flags.js'
import {readStdin} from '../../stdin.js'

/** Far above any real API key, so that `--key - < /dev/zero` fails instead of filling memory. */
const MAX_KEY_BYTES = 64 * 1024

const KEY_TYPES = PROVIDER_TYPES.filter((type) => TYPE_FIELDS[type].keyField).join(', ')
const OAUTH_TYPES = PROVIDER_TYPES.filter((type) => TYPE_FIELDS[type].credsField).join(', ')

export default class PoolAdd extends BaseCommand<typeof PoolAdd> {
  static override summary = 'Add a provider instance to the pool'
  static override description = `Adds one instance of TYPE (${PROVIDER_TYPES.join(', ')}) to provider_pools.json and prints its new uuid.

Key types take --key; keep keys out of your shell history with --key - (read from stdin) or the AICLIENT_KEY environment variable. OAuth types take --creds-file, a credential file written by \`aiclient auth login\` (or by the vendor's own CLI); it must exist and parse. Default base URLs are written into the file explicitly.`
  static override examples = [
    '<%= config.bin %> pool add openai-custom --key sk-... --name work',
    'printf %s "$OPENAI_KEY" | <%= config.bin %> pool add openai-custom --key - --base-url https://openrouter.ai/api/v1',
    'printf %s "$OPENAI_KEY" | <%= config.bin %> pool add openaiResponses-custom --key - --name codex',
    'AICLIENT_KEY=sk-ant-... <%= config.bin %> pool add claude-custom --check-model claude-haiku-4-5',
    '<%= config.bin %> pool add gemini-cli-oauth --creds-file ~/.gemini/oauth_creds.json --project-id my-project',
    '<%= config.bin %> pool add openai-qwen-oauth --creds-file ~/.qwen/oauth_creds.json --json',
    'AICLIENT_KEY=sk-... <%= config.bin %> pool add openai-custom --name paid-backup --priority=-1',
  ]
  static override enableJsonFlag = true
  static override args = {
    type: Args.string({description: 'provider type', required: true}),
  }
  static override flags = {
    key: Flags.string({
      description: `API key (${KEY_TYPES}); "-" reads it from stdin`,
      env: 'AICLIENT_KEY',
    }),
    'base-url': Flags.string({description: 'upstream base URL (default per type; the OpenAI types include /v1)'}),
    'creds-file': Flags.string({
      description: `OAuth credential file (${OAUTH_TYPES})`,
    }),
    'project-id': Flags.string({description: 'Google Cloud project for gemini-cli-oauth (discovered when omitted)'}),
    name: Flags.string({description: 'a name to refer to the instance by (stored as customName)'}),
    'check-model': Flags.string({description: 'model used by health checks (stored as checkModelName)'}),
    disabled: Flags.boolean({description: 'add the instance disabled (isDisabled: true)'}),
    'allow-duplicate': Flags.boolean({description: 'allow a key that is already in the pool of this type'}),
    ...ROUTING_FLAGS,
  }

  async run() {
    const type = parseProviderType(this.args.type)
    const routing = parseRoutingFlags(this.flags)
    let key = this.flags.key
    if (key === '-') {
      if (process.stdin.isTTY)
        throw new UsageError('--key - reads the key from stdin, but stdin is a terminal. Pipe the key in.')
      key = (await readStdin(MAX_KEY_BYTES, 'an API key')).replace(/\r?\n$/, '')
      if (!key) throw new UsageError('--key - read an empty key from stdin.', {code: 'missing_flag'})
    }
    const store = await this.poolStore()
    const instance = await addInstance(store, {
      type,
      key,
      baseUrl: this.flags['base-url'],
      credsFile: this.flags['creds-file'],
      projectId: this.flags['project-id'],
      name: this.flags.name,
      checkModel: this.flags['check-model'],
      disabled: this.flags.disabled,
      allowDuplicate: this.flags['allow-duplicate'],
      routing,
    })
    this.log(instance.uuid)
    return {type, ...maskSecrets(instance.raw)}
  }
}
