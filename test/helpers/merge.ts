/** `extra` laid over `base`, objects merged key by key (arrays and other values replaced): config overrides. */
export function merge(base: Record<string, any>, extra: Record<string, any>): Record<string, any> {
  const out = { ...base }
  for (const [key, value] of Object.entries(extra)) {
    out[key] = value && typeof value === 'object' && !Array.isArray(value) && typeof base[key] === 'object' ? merge(base[key], value) : value
  }
  return out
}
