import type { Database } from 'bun:sqlite'
import initial from './001-initial.ts'
import defaults from './002-defaults.ts'
import modlog from './003-modlog.ts'
import threads from './004-threads.ts'
import polls from './005-polls.ts'
import unreads from './006-unreads.ts'
import attachments from './007-attachments.ts'
import emojis from './008-emojis.ts'
import webhooks from './009-webhooks.ts'
import push from './010-push.ts'

export interface Migration {
  version: number
  name: string
  up: string | ((db: Database) => void)
}

/** Forward-only and never edited once released; imported so the compiled binary carries them. */
export const migrations: Migration[] = [
  { version: 1, name: 'initial', up: initial },
  { version: 2, name: 'defaults', up: defaults },
  { version: 3, name: 'modlog', up: modlog },
  { version: 4, name: 'threads', up: threads },
  { version: 5, name: 'polls', up: polls },
  { version: 6, name: 'unreads', up: unreads },
  { version: 7, name: 'attachments', up: attachments },
  { version: 8, name: 'emojis', up: emojis },
  { version: 9, name: 'webhooks', up: webhooks },
  { version: 10, name: 'push', up: push },
]
