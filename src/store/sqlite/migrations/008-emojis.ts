/**
 * Custom emojis. `emoji_ids.next` is the next ID to hand out: IDs are never reused, so a client
 * that cached `/emojis/<id>` never sees another emoji's image under it. Names are unique
 * case-insensitively (they are ASCII, which NOCASE folds exactly).
 */
export default `
CREATE TABLE emojis (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  file_name TEXT NOT NULL UNIQUE
);
CREATE UNIQUE INDEX emojis_name ON emojis (name COLLATE NOCASE);
CREATE TABLE emoji_ids (next INTEGER NOT NULL);
INSERT INTO emoji_ids (next) VALUES (0);
`
