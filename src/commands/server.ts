import type { AnyCommand } from '../protocol/command.ts'

export const serverCommands: AnyCommand[] = []
