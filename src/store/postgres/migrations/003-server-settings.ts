/** Server settings that `server_update` changes, shared by every node (see config/shared-server.ts); a NULL value is a cleared field. */
export default `
CREATE TABLE server_settings (
  key TEXT PRIMARY KEY,
  value TEXT
);
`
