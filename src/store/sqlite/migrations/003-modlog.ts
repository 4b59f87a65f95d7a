/** The moderation log: one row per moderation or management action. */
export default `
CREATE TABLE modlog (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  action TEXT NOT NULL,
  category TEXT NOT NULL,
  actor_id TEXT NOT NULL,
  actor_name TEXT NOT NULL,
  target_id TEXT,
  target_name TEXT,
  details TEXT NOT NULL,
  timestamp REAL NOT NULL
);
CREATE INDEX modlog_time ON modlog (timestamp);
CREATE INDEX modlog_category_time ON modlog (category, timestamp);
`
