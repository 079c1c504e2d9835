import type { Migration } from './migrations.ts'

/**
 * Tables of the secret store (version 7): one row per secret, its value encrypted with AES-256-GCM
 * (a random 96-bit nonce per value, the name as associated data), and one row of metadata: a counter
 * every change bumps (other processes compare it to know their cache is stale) and a check value of
 * the key the secrets are encrypted with (an HMAC, not the key), so a wrong key is named as such.
 */
export const SECRET_MIGRATIONS: readonly Migration[] = [
  {
    version: 7,
    name: 'encrypted secrets',
    sql: `
CREATE TABLE secrets (
  name TEXT PRIMARY KEY,
  nonce BLOB NOT NULL,
  ciphertext BLOB NOT NULL,
  tag BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE secret_meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL,
  key_check TEXT
);
INSERT INTO secret_meta (id, version) VALUES (1, 0);
`,
  },
]
