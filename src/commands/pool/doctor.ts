import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {diagnose, repairUuids, type PoolProblem, type UuidFix} from '../../core/pools/doctor.js'
import {PoolStore} from '../../core/pools/store.js'

export default class PoolDoctor extends BaseCommand<typeof PoolDoctor> {
  static override summary = 'Find (and fix) problems in the pool file'
  static override description = `Checks provider_pools.json without contacting any upstream: fields of the wrong type, entries without a uuid, entries whose uuid an earlier entry already has (a hand-copied entry), two entries of a type with one name, and credential files that are missing or unusable. Exits 1 when it finds a problem.

--fix gives each entry without a uuid, and each copy of a duplicated uuid, a new uuid — the first entry with a uuid keeps it — and changes nothing else. It writes under the pool file's lock, atomically, so it is safe while \`serve\` runs. The other problems need an edit by hand.`
  static override examples = [
    '<%= config.bin %> pool doctor',
    '<%= config.bin %> pool doctor --fix',
    "<%= config.bin %> pool doctor --json | jq -r '.problems[].path'",
  ]
  static override enableJsonFlag = true
  static override flags = {
    fix: Flags.boolean({description: 'give entries without a uuid and copies of a duplicated uuid a new uuid'}),
  }

  async run() {
    // Its own store, without the usual warnings: the duplicates are what this command reports.
    const store = new PoolStore((await this.poolsFile()).value)
    const fixed: UuidFix[] = this.flags.fix ? await repairUuids(store) : []
    const {doc, exists} = await store.readRaw()
    const problems = exists ? await diagnose(doc, store.dir) : []
    if (!this.jsonEnabled()) this.report(store.file, exists, fixed, problems)
    if (problems.length > 0) process.exitCode = 1
    return {file: store.file, fixed, problems}
  }

  private report(file: string, exists: boolean, fixed: UuidFix[], problems: PoolProblem[]): void {
    for (const fix of fixed) {
      this.log(
        `Fixed ${fix.path}: ${fix.was === null ? 'it had no uuid' : `it repeated ${fix.was}`}; it is now ${fix.uuid}.`,
      )
    }
    if (!exists) return this.log(`${file} does not exist; there is nothing to check.`)
    if (problems.length === 0) return this.log(`${file}: no problems found.`)
    this.log(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:`)
    for (const p of problems) this.log(`  ${p.path}: ${p.problem}${p.fixable ? ' (--fix repairs this)' : ''}`)
    const fixable = problems.filter((p) => p.fixable).length
    if (fixable > 0)
      this.log(
        `Run \`${this.config.bin} pool doctor --fix\` to repair ${fixable === problems.length ? (fixable === 1 ? 'it' : 'them') : `${fixable} of them`}.`,
      )
  }
}
