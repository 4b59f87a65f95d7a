import { Type as T } from '@sinclair/typebox'
import { defineCommand } from '../protocol/command.ts'

export const ping = defineCommand({
  cmd: 'ping',
  schema: T.Object({}),
  run: () => ({ reply: { cmd: 'pong', val: 'pong' } }),
})

export const sessionCommands = [ping]
