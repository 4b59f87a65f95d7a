import { expect, test } from 'bun:test'
import { parseConfig } from '../../src/config/load.ts'
import { landingPage, websocketAddress } from '../../src/net/landing-page.ts'

const configWith = (url?: string) => parseConfig({ server: { name: 'x', url } })

test('the WebSocket address follows server.url, else the address the browser used', () => {
  expect(websocketAddress(configWith(), 'http://127.0.0.1:5613')).toBe('ws://127.0.0.1:5613/')
  expect(websocketAddress(configWith(), 'https://chat.example.org:8443')).toBe('wss://chat.example.org:8443/')
  expect(websocketAddress(configWith('https://Chat.Example.org/'), 'http://127.0.0.1:5613')).toBe('wss://chat.example.org/')
  expect(websocketAddress(configWith('wss://chat.example.org'), 'http://127.0.0.1:5613')).toBe('wss://chat.example.org/')
  expect(websocketAddress(configWith('http://lan-box:5613'), 'http://127.0.0.1:5613')).toBe('ws://lan-box:5613/')
})

test('only http(s) icons are shown', () => {
  const page = (icon: string) => landingPage({ name: 'n', icon }, 'ws://h/')
  expect(page('https://example.com/i.png')).toContain('<img src="https://example.com/i.png"')
  expect(page('javascript:alert(1)')).not.toContain('<img')
  expect(page('')).not.toContain('<img')
})
