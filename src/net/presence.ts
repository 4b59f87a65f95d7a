import type { Bus } from '../bus/types.ts'
import { quote, type Logger } from '../log.ts'
import type { Context, Login } from '../protocol/command.ts'
import { readyUser, userSummary } from '../views/user.ts'
import type { Hub } from './hub.ts'
import type { Session } from './session.ts'
import { topics } from './topics.ts'

/**
 * The authentication success sequence and the disconnect announcement (protocol README
 * §2.6–2.7). Presence is counted per user: `user_connect` on the first live connection,
 * `user_disconnect` when the last one closes.
 */
export class Presence {
  constructor(
    private readonly hub: Hub,
    private readonly bus: Bus,
    private readonly log: Logger,
  ) {}

  async login(ctx: Context, { user, cracked, isNew }: Login) {
    const session = ctx.session
    const first = await this.hub.authenticated(session, { id: user.id, username: user.username, cracked })
    if (first === undefined) return
    this.hub.send(session, { cmd: 'auth_success', val: 'Authentication successful' })
    this.hub.send(session, { cmd: 'ready', user: readyUser(user, cracked), validator: user.validator })
    const summary = userSummary(user, await ctx.roles())
    const { password_hash: _hash, validator: _validator, ...record } = user
    const event = { ...summary, user_id: user.id, user: record }
    if (isNew) {
      this.bus.publish(topics.users, { cmd: 'user_join', user: summary })
      ctx.plugins.emit('user_join', session, event)
    }
    if (first) {
      this.bus.publish(topics.users, { cmd: 'user_connect', user: summary })
      ctx.plugins.emit('user_connect', session, event)
    }
    this.log.info(`connection ${session.id} authenticated as ${quote(user.username)}${isNew ? ' (new account)' : ''}`)
  }

  closed(session: Session, code: number) {
    const gone = this.hub.closed(session)
    if (gone) this.bus.publish(topics.users, { cmd: 'user_disconnect', username: gone.username })
    this.log.info(`connection ${session.id} closed (${code})${session.user ? ` user ${quote(session.user.username)}` : ''}`)
  }
}
