import type { Logger } from '../log.ts'
import { SchemaProblem, parseDefinition, type SlashDefinition } from '../slash/definition.ts'
import type { Holder, PluginRun, Registered, SlashChange, SlashRegistry } from '../slash/registry.ts'

/**
 * The slash commands of one loaded plugin instance. Commands registered during `setup()` wait
 * until the instance is in place, then go in together (a reload swaps the old version's set for
 * the new one's; a version that fails to load never registers anything). Unloading withdraws them.
 */
export class PluginSlashCommands {
  private readonly mine: Registered[] = []
  private active = false

  constructor(
    private readonly registry: SlashRegistry,
    private readonly plugin: string,
    /** Tells clients (`slash_remove` / `slash_add` to every authenticated user). */
    private readonly announce: (change: SlashChange) => void,
    private readonly log: Logger,
  ) {}

  /** Throws an Error naming the problem when the definition is invalid or the name is taken. */
  register(value: unknown, run: PluginRun) {
    let definition: SlashDefinition
    try {
      definition = parseDefinition(value)
    } catch (error) {
      throw error instanceof SchemaProblem ? new Error(`Invalid command schema: ${error.message}`) : error
    }
    const next = [...this.mine, { definition, holder: this.holder(run) }]
    const refused = this.registry.refusal(this.holder(run), next.map((entry) => entry.definition))
    if (refused) throw new Error(refused)
    this.mine.push(next.at(-1)!)
    if (this.active) this.announce(this.registry.replace(this.holder(run), this.mine))
  }

  /** The instance is now the plugin's running version. */
  activate() {
    this.active = true
    if (this.mine.length === 0) return
    const holder = this.mine[0]!.holder
    // Another holder may have taken a name while this version was loading.
    const refused = this.registry.refusal(holder, this.mine.map((entry) => entry.definition))
    if (refused) {
      this.log.error(`slash commands not registered: ${refused}`)
      return
    }
    this.announce(this.registry.replace(holder, this.mine))
  }

  withdraw() {
    this.active = false
    const change = this.registry.withdraw(({ holder }) => holder.kind === 'plugin' && holder.instance === this)
    if (change.removed.length > 0) this.announce(change)
  }

  private holder(run: PluginRun): Holder {
    return { kind: 'plugin', plugin: this.plugin, instance: this, run }
  }
}
