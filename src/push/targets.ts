import { channelAllows, isBanned } from '../auth/permissions.ts'
import type { ChannelRecord, UserRepo } from '../store/types.ts'

/** What a new message can notify, handed over once the message is stored (Effects.push). */
export interface PushJob {
  senderId: string
  senderName: string
  /** The channel, or a thread's parent channel (data.md §13). */
  channel: ChannelRecord
  content: string
  /** Mentioned users that exist, by ID. */
  userIds: string[]
  roles: string[]
  /** The replied-to author, when the reply pings them. */
  repliedUserId?: string
}

export interface Notification {
  userId: string
  payload: string
}

export interface TargetLimits {
  max_role_members: number
  max_targets_per_message: number
}

/** The body is the start of the content, counted in characters (code points) as upstream's slice. */
const BODY_LENGTH = 120

/**
 * Who gets a push for `job` and with which title: mentioned users, then members of mentioned
 * roles, then the replied-to author; a user named twice gets one push, with the first reason.
 * Never the sender, never anyone who cannot view the channel, nor the banned. `isOnline` users
 * are left out: they see the message live. Roles bigger than `max_role_members` notify nobody.
 */
export async function notifications(job: PushJob, users: UserRepo, limits: TargetLimits, isOnline: (userId: string) => boolean): Promise<Notification[]> {
  const prefix = `#${job.channel.name} \u2014 ${job.senderName}`
  const titles = new Map<string, string>()
  const add = (userId: string, title: string) => {
    if (userId === job.senderId || titles.has(userId) || titles.size >= limits.max_targets_per_message) return
    titles.set(userId, title)
  }
  for (const userId of job.userIds) add(userId, prefix)
  if (job.roles.length > 0) {
    const everyone = await users.list()
    for (const role of job.roles) {
      const members = everyone.filter((user) => user.roles.includes(role))
      if (members.length > limits.max_role_members) continue
      for (const member of members) add(member.id, `${prefix} mentioned @${role}`)
    }
  }
  if (job.repliedUserId !== undefined) add(job.repliedUserId, `${prefix} replied`)
  const body = [...job.content].slice(0, BODY_LENGTH).join('')
  const out: Notification[] = []
  for (const [userId, title] of titles) {
    if (isOnline(userId)) continue
    const user = await users.get(userId)
    if (!user || isBanned(user.roles) || !channelAllows(job.channel, 'view', user.roles)) continue
    out.push({ userId, payload: JSON.stringify({ title, body, channelName: job.channel.name }) })
  }
  return out
}
