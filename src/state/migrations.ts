/**
 * The state database's schema, as an ordered list of migrations. Each runs once, in its own
 * transaction, and bumps `schema_version`; never edit a released migration, append a new one.
 *
 * Nothing here ever holds a raw identifier: findings keep the mask and the keyed fingerprint,
 * subjects are stored masked, errors carry context (folder, location), never content.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: runs, sources, mailboxes, messages (latest scan), per-run scans, findings, errors, checkpoints.
  `
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    -- running (or killed: never finished) | complete | incomplete (exit 3) | interrupted (SIGINT/SIGTERM;
    -- 'aborted' up to 0.1.0) | output-closed (the reader of stdout went away); errors counts failed items only
    status TEXT NOT NULL DEFAULT 'running',
    sources TEXT NOT NULL,            -- JSON array of SOURCE specs (credentials are never in them)
    since_last INTEGER NOT NULL DEFAULT 0,
    min_confidence TEXT NOT NULL,
    messages INTEGER,
    messages_with_phi INTEGER,
    errors INTEGER
  );
  CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    spec TEXT NOT NULL UNIQUE
  );
  CREATE TABLE mailboxes (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources(id),
    name TEXT NOT NULL,
    UNIQUE (source_id, name)
  );
  -- One row per distinct message (mailbox, folder, Message-ID) ever scanned; its latest scan's figures.
  CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
    folder TEXT NOT NULL,
    message_id TEXT NOT NULL,
    date TEXT,
    masked_subject TEXT,
    locator TEXT NOT NULL,
    first_run INTEGER NOT NULL,
    last_run INTEGER NOT NULL,
    findings INTEGER NOT NULL,
    categories TEXT NOT NULL,         -- sorted, comma-separated
    UNIQUE (mailbox_id, folder, message_id)
  );
  -- Every scan of a message, so a report or diff can show the picture as of any run.
  CREATE TABLE scans (
    message INTEGER NOT NULL REFERENCES messages(id),
    run_id INTEGER NOT NULL REFERENCES runs(id),
    findings INTEGER NOT NULL,
    categories TEXT NOT NULL,
    PRIMARY KEY (message, run_id)
  ) WITHOUT ROWID;
  CREATE INDEX scans_run ON scans(run_id);
  CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    message INTEGER NOT NULL REFERENCES messages(id),
    run_id INTEGER NOT NULL REFERENCES runs(id),
    location TEXT NOT NULL,
    rule TEXT NOT NULL,
    category TEXT NOT NULL,
    confidence TEXT NOT NULL,
    masked TEXT NOT NULL,
    fingerprint TEXT NOT NULL
  );
  CREATE INDEX findings_message ON findings(message, run_id);
  CREATE TABLE errors (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    mailbox_id INTEGER REFERENCES mailboxes(id),
    source TEXT NOT NULL,
    folder TEXT,
    message INTEGER REFERENCES messages(id),
    message_id TEXT,
    location TEXT,
    code TEXT NOT NULL,
    error TEXT NOT NULL
  );
  CREATE INDEX errors_message ON errors(message, run_id);
  CREATE INDEX errors_run ON errors(run_id);
  -- The mailbox records a run wrote (messages scanned in that run): the trend across runs.
  CREATE TABLE run_mailboxes (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
    messages INTEGER NOT NULL,
    messages_with_phi INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    by_category TEXT NOT NULL,        -- JSON
    PRIMARY KEY (run_id, mailbox_id)
  ) WITHOUT ROWID;
  -- Where each unit (a folder of a mailbox) stopped; the cursor's meaning belongs to its source.
  CREATE TABLE checkpoints (
    unit_id TEXT PRIMARY KEY,
    cursor TEXT NOT NULL,
    run_id INTEGER,
    updated_at TEXT NOT NULL
  );
  `,
  // 2 (helper people: breach sizing in people): each finding's identity (people/facts.ts, saved
  // with it so counts never read rule ids) and the roster line it matched (scan --edm); the
  // people of each message scan as records of keyed fingerprints (people/records.ts).
  `
  ALTER TABLE findings ADD COLUMN identity TEXT NOT NULL DEFAULT 'context';
  ALTER TABLE findings ADD COLUMN roster_row INTEGER;
  -- Findings stored before identities were saved: as the counts of that version read them.
  UPDATE findings SET identity = CASE
    WHEN category IN ('ssn', 'medicare-id') OR (category = 'insurance' AND rule LIKE '%member%') THEN 'direct'
    WHEN category = 'medical-record-number' THEN 'link'
    WHEN category = 'date-of-birth' THEN 'quasi'
    ELSE 'context' END;
  -- A message scan whose people were worked out (its records may be none); scans without a row
  -- here (older versions, library scans without a key) count each direct identifier as a person.
  CREATE TABLE people_scans (
    message INTEGER NOT NULL REFERENCES messages(id),
    run_id INTEGER NOT NULL REFERENCES runs(id),
    records INTEGER NOT NULL,
    PRIMARY KEY (message, run_id)
  ) WITHOUT ROWID;
  -- One row per key of a record: kind:fingerprint (keyed HMACs, never a value), e:LINE a roster line.
  CREATE TABLE person_keys (
    message INTEGER NOT NULL,
    run_id INTEGER NOT NULL,
    record INTEGER NOT NULL,
    key TEXT NOT NULL
  );
  CREATE INDEX person_keys_message ON person_keys(message, run_id);
  `,
  // 3 (remediation): messages gone from a folder a later full scan read (resolved by absence), and
  // the actions `remediate --apply` took (remediation progress per mailbox).
  `
  CREATE TABLE gone (
    message INTEGER PRIMARY KEY REFERENCES messages(id),
    run_id INTEGER NOT NULL REFERENCES runs(id)   -- the full scan that no longer found it
  );
  CREATE TABLE remediations (
    id INTEGER PRIMARY KEY,
    message INTEGER NOT NULL REFERENCES messages(id),
    action TEXT NOT NULL,             -- move | tag | delete
    destination TEXT,                 -- move: the quarantine folder or output folder
    done_at TEXT NOT NULL,
    log TEXT NOT NULL                 -- the audit log that holds the entry
  );
  CREATE INDEX remediations_message ON remediations(message);
  `,
  // 4 (issue 18): each finding's explanation (score, part, why: rule names and keywords, never a
  // value) as JSON, for a run whose own report is json; NULL otherwise. Held here, not in memory.
  `
  ALTER TABLE findings ADD COLUMN detail TEXT;
  `,
];
