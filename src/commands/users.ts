import { Type as T } from '@sinclair/typebox'
import { colorOf, isBanned } from '../auth/permissions.ts'
import { defineCommand } from '../protocol/command.ts'
import { isCracked, visibleStatus } from '../views/user.ts'

export const usersList = defineCommand({
  cmd: 'users_list',
  schema: T.Object({}),
  async run(ctx) {
    const roles = await ctx.roles()
    const users = (await ctx.store.users.list())
      .filter((user) => !isBanned(user.roles))
      .map((user) => ({
        username: user.username,
        nickname: user.nickname ?? null,
        roles: user.roles,
        color: colorOf(user.roles, roles),
        status: visibleStatus(user, ctx.hub.isOnline(user.id)),
        cracked: isCracked(user),
        pfp: user.pfp_url ?? null,
      }))
    return { reply: { cmd: 'users_list', users } }
  },
})

/** One entry per online user (upstream repeated users with several tabs); invisible users are left out. */
export const usersOnline = defineCommand({
  cmd: 'users_online',
  schema: T.Object({}),
  async run(ctx) {
    const roles = await ctx.roles()
    const users = []
    for (const id of ctx.hub.onlineAnywhere()) {
      const user = await ctx.store.users.get(id)
      if (!user || user.status?.status === 'invisible') continue
      users.push({
        username: user.username,
        nickname: user.nickname ?? null,
        roles: user.roles,
        color: colorOf(user.roles, roles),
        status: visibleStatus(user, true),
      })
    }
    return { reply: { cmd: 'users_online', users } }
  },
})

export const userCommands = [usersList, usersOnline]
