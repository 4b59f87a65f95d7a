/** The attachment IDs a stored message lists (its `attachments` are client objects, imported ones included). */
export function attachmentIds(attachments: unknown[] | undefined): string[] {
  if (!Array.isArray(attachments)) return []
  const ids: string[] = []
  for (const item of attachments) {
    const id = typeof item === 'object' && item !== null ? (item as { id?: unknown }).id : undefined
    if (typeof id === 'string' && id !== '') ids.push(id)
  }
  return ids
}
