/**
 * Usernames people can tell apart. Names are NFKC-normalised (fullwidth and other compatibility
 * forms become their plain letters), and a name whose look-alike skeleton equals another user's
 * is refused: `аdmin` with a Cyrillic а, `AIice` with a capital i, `paypa1`.
 */

/** Letters from other scripts (and digits) that render like a Latin letter, by what they resemble. */
const LOOKALIKES: Record<string, string> = {
  // Cyrillic
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  і: 'i', ї: 'i', ј: 'j', ѕ: 's', ԁ: 'd', һ: 'h', ӏ: 'l', ԛ: 'q', ԝ: 'w', ɡ: 'g', ү: 'y', ℓ: 'l',
  // Greek
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ω: 'w',
  // Digits and symbols that pass for letters
  '0': 'o', '1': 'l', '|': 'l', '$': 's', '5': 's',
}

/** Letter pairs that read as one letter in most fonts. */
const DIGRAPHS: Array<[RegExp, string]> = [
  [/rn/g, 'm'],
  [/vv/g, 'w'],
]

/** How a name is stored and compared: compatibility forms folded (NFKC), surrounding space trimmed. */
export const normalizeName = (name: string) => name.normalize('NFKC').trim()

/**
 * The look-alike skeleton: two names with the same skeleton are too easily mistaken for each
 * other. Upper-case I is read as l before case folding (in most fonts they are one glyph);
 * accents are dropped.
 */
export function skeleton(name: string): string {
  let text = normalizeName(name).replaceAll('I', 'l').toLowerCase().normalize('NFD').replace(/\p{M}/gu, '')
  text = [...text].map((char) => LOOKALIKES[char] ?? char).join('')
  for (const [pair, letter] of DIGRAPHS) text = text.replace(pair, letter)
  return text
}

/** Characters no name may contain: controls, format characters (zero-width, bidi), separators, spaces. */
const INVISIBLE_OR_SPACE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Z}\s]/u

export const MAX_USERNAME = 64

/** Nicknames may hold spaces, but nothing invisible or line-breaking. */
export const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u

/** `user_update`'s rules for a new username; the error text, or undefined when the name is fine. */
export function usernameError(name: string): string | undefined {
  const length = [...name].length
  if (length < 1 || length > MAX_USERNAME) return `Username must be 1-${MAX_USERNAME} characters`
  if (INVISIBLE_OR_SPACE.test(name)) return 'Username contains invalid characters'
  return undefined
}
