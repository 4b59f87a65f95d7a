import { setDefaultTimeout } from 'bun:test'

// Tests wait on events, never on time; this only stops a slow CI machine from failing a test
// that is still making progress (Bun's default is 5 s per test).
setDefaultTimeout(60_000)
