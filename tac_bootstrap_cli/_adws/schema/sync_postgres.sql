-- The shared server's side of adw_sync (local SQLite run logs shipped to one PostgreSQL).
--
-- adw_sync applies these sections after adw_postgres.init_schema, each in its own transaction
-- under an advisory lock, recording them in sync_schema_version (separate from schema_version:
-- a database used through the repositories alone never needs them). Append a section
-- "-- sync migration <N+1>: <why>" and raise SYNC_SCHEMA_VERSION in adw_sync_server.py; never
-- edit one.
-- PostgreSQL only: the local SQLite files keep the orchestrator schema as it is (their change log
-- and high-water mark are adw_sync's own local tables).

-- sync migration 1: the machines and the origin of every row
-- A machine is one local database file (one clone on one host): its id is made by the first sync
-- of that file and kept in it (sync_state). rows_sent counts every row sent, re-sends included.
CREATE TABLE sync_machines (
    machine       UUID PRIMARY KEY,
    hostname      TEXT NOT NULL,
    source        TEXT NOT NULL,
    first_sync_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_sync_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seq      BIGINT NOT NULL DEFAULT 0,
    rows_sent     BIGINT NOT NULL DEFAULT 0
);
-- machine: which machine's log the row came from (NULL: written on the server directly);
-- sync_seq: the local change counter at which the shipped version was read. An upsert replaces a
-- row only with a later version (sync_seq grows), so a late or repeated send never goes back.
-- Adding a NULL column is a catalog change only: instant on a large table.
ALTER TABLE orchestrator_agents ADD COLUMN machine UUID, ADD COLUMN sync_seq BIGINT;
ALTER TABLE agents ADD COLUMN machine UUID, ADD COLUMN sync_seq BIGINT;
ALTER TABLE prompts ADD COLUMN machine UUID, ADD COLUMN sync_seq BIGINT;
ALTER TABLE agent_logs ADD COLUMN machine UUID, ADD COLUMN sync_seq BIGINT;
ALTER TABLE system_logs ADD COLUMN machine UUID, ADD COLUMN sync_seq BIGINT;
-- The runs of one machine, newest first (what a team view filters by).
CREATE INDEX idx_agents_machine_created ON agents (machine, created_at, rowid);

-- sync migration 2: the rowid of the tables the observatory watches, indexed
-- The team view (tac-bootstrap observe --team) asks for the newest rowid of agents, prompts and
-- agent_logs on every page and poll, and reads ranges of them (what was added since): SQLite
-- answers from its table's b-tree, PostgreSQL without an index reads the whole table (1M events:
-- ~100 ms each time). A unique index on the identity column makes each an index lookup.
CREATE UNIQUE INDEX idx_agents_rowid ON agents (rowid);
CREATE UNIQUE INDEX idx_prompts_rowid ON prompts (rowid);
CREATE UNIQUE INDEX idx_agent_logs_rowid ON agent_logs (rowid);

-- sync migration 3: the Agents' text a search narrows by, trigram-indexed
-- The observatory's search first finds the runs with an Agent whose id, name or metadata text
-- holds the longest space-free piece of the text (observatory/listing.py, _SCOPE_RUNS_SQL); on
-- PostgreSQL that is a LIKE (the piece anywhere) over exactly this expression (dialect.py,
-- PG_SCOPE_TEXT_SQL: the planner uses the index for that expression only). Without the index it
-- reads every Agent's metadata text (10,000 runs: 75-300 ms a search); pg_trgm's GIN index (the
-- extension is there: the orchestrator schema's migration 5) finds a piece of 3+ characters.
CREATE INDEX idx_agents_search ON agents USING gin ((lower(coalesce(metadata::text, '') || ' ' || coalesce(name, '') || ' ' || id::text)) gin_trgm_ops);
