import type { AnyCommand } from '../protocol/command.ts'

export const memberCommands: AnyCommand[] = []
