import { Type as T } from '@sinclair/typebox'
import { attachmentView } from '../attachments/view.ts'
import { defineCommand, type Context } from '../protocol/command.ts'
import { fail } from '../protocol/errors.ts'

const Request = T.Object({ attachment_id: T.Optional(T.Unknown()) })

/** `Invalid <cmd> command: <detail>` for a missing or non-string ID (commands.md §13). */
function attachmentId(cmd: string, value: unknown): string {
  if (value === undefined || value === null) fail(`Invalid ${cmd} command: attachment_id is required`)
  if (typeof value !== 'string') fail(`Invalid ${cmd} command: attachment_id must be a string`)
  const id = value.trim()
  if (id === '') fail(`Invalid ${cmd} command: attachment_id is required`)
  return id
}

const live = async (ctx: Context, id: string) => {
  const record = await ctx.store.attachments.get(id)
  return record && record.expires_at > ctx.services.attachments.now() ? record : undefined
}

/** Any authenticated user with the ID may read it, as anyone with it may download it (capability URL). */
export const attachmentGet = defineCommand({
  cmd: 'attachment_get',
  schema: Request,
  validate: (_ctx, p) => void attachmentId('attachment_get', p.attachment_id),
  async run(ctx, p) {
    const record = (await live(ctx, attachmentId('attachment_get', p.attachment_id))) ?? fail('Attachment not found or expired')
    return { reply: { cmd: 'attachment_info', attachment: attachmentView(record, ctx.config) } }
  },
})

/** The uploader, or someone holding the literal `owner` or `admin` role now (upstream read the roles cached at login). */
export const attachmentDelete = defineCommand({
  cmd: 'attachment_delete',
  throttle: true,
  schema: Request,
  validate: (_ctx, p) => void attachmentId('attachment_delete', p.attachment_id),
  async run(ctx, p) {
    const record = (await live(ctx, attachmentId('attachment_delete', p.attachment_id))) ?? fail('Attachment not found')
    const staff = ctx.user.roles.includes('owner') || ctx.user.roles.includes('admin')
    if (record.uploader_id !== ctx.user.id && !staff) fail('You can only delete your own attachments')
    if (!(await ctx.services.attachments.remove(record))) fail('Failed to delete attachment')
    return { reply: { cmd: 'attachment_deleted', attachment_id: record.id, deleted: true } }
  },
})

export const attachmentCommands = [attachmentGet, attachmentDelete]
