-- Orchestrator run log: the current SQLite schema, written as numbered migrations.
--
-- adw_database.init_schema reads this file. A new database runs every section below in one
-- transaction; a database at version N runs the sections after N, each in its own transaction
-- that also sets PRAGMA user_version. To change the schema, append a section
-- "-- migration <N+1>: <why>" and raise SCHEMA_VERSION in adw_sqlite.py; never edit an old one.
--
-- Conventions: ids are canonical lower-case UUID text; timestamps are fixed-width ISO 8601 text
-- (YYYY-MM-DDTHH:MM:SS.ffffff+00:00), so text order is time order; metadata is a JSON object as
-- text or NULL. The CHECKs mirror the validation in orch_database_models.py so that rows written
-- by other tools obey the same rules. Emptiness is tested with <> '', never length(): length()
-- of TEXT stops at the first NUL character, which the models allow.

-- migration 1: tables and constraints

CREATE TABLE orchestrator_agents (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE CHECK (trim(name) <> ''),
    description TEXT,
    status      TEXT NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'inactive', 'archived')),
    metadata    TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE agents (
    id                    TEXT PRIMARY KEY NOT NULL,
    orchestrator_agent_id TEXT NOT NULL
                          REFERENCES orchestrator_agents (id) ON DELETE CASCADE,
    session_id            TEXT NOT NULL CHECK (session_id <> ''),
    name                  TEXT,
    model                 TEXT,
    status                TEXT NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    created_at            TEXT NOT NULL,
    started_at            TEXT,
    completed_at          TEXT,
    metadata              TEXT
);

CREATE TABLE prompts (
    id            TEXT PRIMARY KEY NOT NULL,
    agent_id      TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    content       TEXT NOT NULL,
    response      TEXT,
    status        TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    tokens_input  INTEGER NOT NULL DEFAULT 0 CHECK (tokens_input >= 0),
    tokens_output INTEGER NOT NULL DEFAULT 0 CHECK (tokens_output >= 0),
    cost_usd      REAL NOT NULL DEFAULT 0.0 CHECK (cost_usd >= 0.0),
    created_at    TEXT NOT NULL,
    completed_at  TEXT
);

CREATE TABLE agent_logs (
    id         TEXT PRIMARY KEY NOT NULL,
    agent_id   TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    log_type   TEXT NOT NULL CHECK (log_type IN ('step_start', 'step_end', 'event', 'error')),
    message    TEXT NOT NULL,
    metadata   TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE system_logs (
    id         TEXT PRIMARY KEY NOT NULL,
    log_level  TEXT NOT NULL
               CHECK (log_level IN ('debug', 'info', 'warning', 'error', 'critical')),
    message    TEXT NOT NULL,
    source     TEXT,
    metadata   TEXT,
    created_at TEXT NOT NULL
);

-- migration 2: indexes for the queries the repositories run
-- Every list() is "WHERE <filters> ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?" and every
-- count() is "WHERE <filters>"; an index on (filter column, created_at) answers both without a
-- sort. The child-side foreign-key indexes also make ON DELETE CASCADE a lookup, not a scan.

-- AgentRepository.list(): the most recent runs (what a status command shows first).
CREATE INDEX idx_agents_created ON agents (created_at);
-- AgentRepository.list/count(orchestrator_agent_id=...); cascade from orchestrator_agents.
CREATE INDEX idx_agents_orchestrator_created ON agents (orchestrator_agent_id, created_at);
-- AgentRepository.list/count(status=...), e.g. the runs still "running".
CREATE INDEX idx_agents_status_created ON agents (status, created_at);
-- AgentRepository.list/count(session_id=...): the runs of one Claude session.
CREATE INDEX idx_agents_session_created ON agents (session_id, created_at);
-- PromptRepository.list/count(agent_id=...); cascade from agents.
CREATE INDEX idx_prompts_agent_created ON prompts (agent_id, created_at);
-- AgentLogRepository.list(agent_id=..., limit=50): the latest logs of one run (also with
-- log_type=...); cascade from agents. agent_logs is the hot write table, one commit per event,
-- so it deliberately has no further index: each one adds a page write to every commit.
CREATE INDEX idx_agent_logs_agent_created ON agent_logs (agent_id, created_at);
-- SystemLogRepository.list(): the tail of the system log, newest first.
CREATE INDEX idx_system_logs_created ON system_logs (created_at);
-- SystemLogRepository.list/count(log_level=...): recent warnings and errors.
CREATE INDEX idx_system_logs_level_created ON system_logs (log_level, created_at);

-- migration 3: token detail, turns, duration and models of each prompt
-- With prompt caching most input is cache traffic: tokens_input keeps the uncached input (the
-- API's input_tokens) and the cache reads and writes get their own counts. num_turns and
-- duration_ms are the agent CLI's; models lists the model ids the call used (comma-separated,
-- NULL when unknown). ADD COLUMN keeps old rows (their counts read back as 0) and gives a migrated
-- file the same sqlite_master as a fresh one.
ALTER TABLE prompts ADD COLUMN tokens_cache_read INTEGER NOT NULL DEFAULT 0
    CHECK (tokens_cache_read >= 0);
ALTER TABLE prompts ADD COLUMN tokens_cache_creation INTEGER NOT NULL DEFAULT 0
    CHECK (tokens_cache_creation >= 0);
ALTER TABLE prompts ADD COLUMN num_turns INTEGER NOT NULL DEFAULT 0 CHECK (num_turns >= 0);
ALTER TABLE prompts ADD COLUMN duration_ms INTEGER NOT NULL DEFAULT 0 CHECK (duration_ms >= 0);
ALTER TABLE prompts ADD COLUMN models TEXT CHECK (models IS NULL OR trim(models) <> '');

-- migration 4: find a workflow run's Agents by their ADW id
-- The observatory lists runs (one per adw_id in the metadata, newest first) and opens one run by
-- its id; without this index both read the whole agents table. The expression is the one its
-- queries use (observatory/store.py: ADW_ID_SQL), character for character, or SQLite ignores
-- the index; invalid JSON reads as NULL instead of failing. JSON functions are built into SQLite
-- since 3.38 and into every supported Python's SQLite before that.
CREATE INDEX idx_agents_adw_id ON agents (CASE WHEN json_valid(metadata) THEN json_extract(metadata, '$.adw_id') END, created_at);

-- migration 5: the task text of prompts, indexed for the observatory's search
-- The observatory's text search looks for the words in the <task> block of a run's prompts.
-- Without this index that reads the content of every prompt (0.4 s at 10,000 runs); with it,
-- only the index: per prompt that has a <task> block, its Agent and the text between the first
-- <task> and the next </task> ('' when it is not closed). SQLite keeps an index up to date
-- itself, so every writer (hooks, workflows, bulk inserts) stays as it is; creating it fills it
-- for the prompts already written. A partial index on an expression: the queries must repeat
-- the WHERE and the expression character for character (observatory: TASK_INDEX_SQL), or SQLite
-- ignores it; no new table or column, so the data model is unchanged. SQLite-specific in form:
-- PostgreSQL would index the same expression (strpos / substr) with pg_trgm's GIN operator class.
CREATE INDEX idx_prompts_task ON prompts (agent_id, substr(content, instr(content, '<task>') + 6, max(instr(substr(content, instr(content, '<task>') + 6), '</task>') - 1, 0))) WHERE instr(content, '<task>') > 0;
