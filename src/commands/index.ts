import type { AnyCommand } from '../protocol/command.ts'
import { attachmentCommands } from './attachments.ts'
import { authCommands } from './auth.ts'
import { channelCommands } from './channels.ts'
import { emojiCommands } from './emojis.ts'
import { memberCommands } from './members.ts'
import { messageCommands } from './messages.ts'
import { modlogCommands } from './modlog.ts'
import { passwordCommands } from './password.ts'
import { moderationCommands } from './moderation.ts'
import { pinCommands } from './pins.ts'
import { pluginCommands } from './plugins.ts'
import { pollCommands } from './polls.ts'
import { pushCommands } from './push.ts'
import { rateLimitCommands } from './rate-limit.ts'
import { reactionCommands } from './reactions.ts'
import { roleCommands } from './roles.ts'
import { searchCommands } from './search.ts'
import { serverCommands } from './server.ts'
import { sessionCommands } from './session.ts'
import { slashCommands } from './slash.ts'
import { statusCommands } from './status.ts'
import { threadCommands } from './threads.ts'
import { unreadCommands } from './unreads.ts'
import { userCommands } from './users.ts'
import { voiceCommands } from './voice.ts'
import { webhookCommands } from './webhooks.ts'

/** The one command table. The router refuses duplicates at boot. */
export const allCommands: AnyCommand[] = [
  ...authCommands,
  ...passwordCommands,
  ...sessionCommands,
  ...messageCommands,
  ...threadCommands,
  ...reactionCommands,
  ...pinCommands,
  ...pollCommands,
  ...searchCommands,
  ...channelCommands,
  ...userCommands,
  ...moderationCommands,
  ...memberCommands,
  ...statusCommands,
  ...roleCommands,
  ...serverCommands,
  ...modlogCommands,
  ...pluginCommands,
  ...rateLimitCommands,
  ...slashCommands,
  ...unreadCommands,
  ...voiceCommands,
  ...attachmentCommands,
  ...emojiCommands,
  ...webhookCommands,
  ...pushCommands,
]
