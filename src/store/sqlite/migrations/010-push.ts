/**
 * Web Push subscriptions (data.md §13). An endpoint is one browser's push channel, so it belongs
 * to one user at a time; a device fingerprint, when known, holds at most one subscription per
 * user. Deleting a user deletes their subscriptions.
 */
export default `
CREATE TABLE push_subscriptions (
  endpoint TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  p256dh TEXT NOT NULL,
  auth TEXT NOT NULL,
  device_fingerprint TEXT,
  last_used INTEGER NOT NULL
);
CREATE UNIQUE INDEX push_subscriptions_device ON push_subscriptions (user_id, device_fingerprint) WHERE device_fingerprint IS NOT NULL;
CREATE INDEX push_subscriptions_last_used ON push_subscriptions (last_used);
`
