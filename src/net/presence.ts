import { isBanned } from '../auth/permissions.ts'
import type { Bus } from '../bus/types.ts'
import type { Roster } from '../cluster/types.ts'
import { quote, type Logger } from '../log.ts'
import type { Context, Login } from '../protocol/command.ts'
import { E, authError } from '../protocol/errors.ts'
import { presenceUser, readyUser, withoutSecrets } from '../views/user.ts'
import { CloseCode, type Hub } from './hub.ts'
import type { Session } from './session.ts'
import { topics } from './topics.ts'

/**
 * The authentication success sequence and the disconnect announcement (protocol README
 * §2.6–2.7). Presence is counted per user: `user_connect` on the first live connection,
 * `user_disconnect` when the last one closes.
 */
export class Presence {
  /** What else a closing connection takes with it, announced before `user_disconnect` (README §2.7). */
  private readonly leaving: Array<(session: Session) => void> = []

  constructor(
    private readonly hub: Hub,
    private readonly bus: Bus,
    private readonly log: Logger,
    /** Cluster mode: counts sessions over every node, so each announcement is made once in all. */
    private readonly roster?: Roster,
  ) {}

  async login(ctx: Context, { user, cracked, isNew }: Login) {
    const session = ctx.session
    const local = await this.hub.authenticated(session, { id: user.id, username: user.username, cracked })
    if (local === undefined) return
    const first = this.roster ? await this.roster.joined(session) : local
    // Closed while Redis counted it: its leaving is already announced, an arrival now would come after it.
    if (this.roster && !this.hub.sockets.has(session)) return
    // A ban applied after the login command's own check but before the socket was registered
    // could not reach this socket; from here on it would (hub.disconnectUser), so look once more.
    const current = await ctx.store.users.get(user.id)
    if (!current || isBanned(current.roles)) {
      this.hub.send(session, authError(E.banned))
      session.ws.close(CloseCode.normal)
      return
    }
    this.hub.send(session, { cmd: 'auth_success', val: 'Authentication successful' })
    this.hub.send(session, { cmd: 'ready', user: readyUser(user, cracked), validator: user.validator })
    const summary = presenceUser(user, await ctx.roles())
    const event = { ...summary, user_id: user.id, user: withoutSecrets(user) }
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

  /** Runs `hook` for every connection that closes, in the order hooks were added. */
  onLeave(hook: (session: Session) => void) {
    this.leaving.push(hook)
  }

  private announceGone(username: string) {
    this.bus.publish(topics.users, { cmd: 'user_disconnect', username })
  }

  closed(session: Session, code: number) {
    const gone = this.hub.closed(session)
    for (const hook of this.leaving) hook(session)
    if (this.roster && session.user) void this.roster.left(session).then((last) => last && this.announceGone(session.user!.username))
    else if (gone) this.announceGone(gone.username)
    this.log.info(`connection ${session.id} closed (${code})${session.user ? ` user ${quote(session.user.username)}` : ''}`)
  }
}
