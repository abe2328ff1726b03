-- Orchestrator run log on PostgreSQL: the sections that are not translated from SQLite.
--
-- adw_postgres builds PostgreSQL's migrations from schema_orchestrator.sql (the one source): each
-- "-- migration N:" section there is translated (UUID, TIMESTAMPTZ, JSONB, BIGINT, a rowid column,
-- indexes ending in rowid; see specs/postgres.md). A section with the same number here REPLACES
-- that translation, for a migration whose SQLite form has no direct PostgreSQL equivalent. Each
-- section here says why. The translator refuses SQL it does not know, so a new SQLite-only
-- migration fails the tests until it gets a section here.

-- migration 5: the task text of prompts, indexed for the observatory's search
-- SQLite's form is a B-tree over the text between <task> and </task> (instr, two-argument max):
-- read instead of every prompt's content. A PostgreSQL B-tree entry is limited to ~2.7 kB, so the
-- same index would refuse a prompt with a long task; and what the search asks (words anywhere in
-- the task) is what pg_trgm's GIN index answers. pg_trgm is a trusted extension (PostgreSQL 13+):
-- a database owner may create it. The expression is SQLite's, with strpos for instr and GREATEST
-- for the scalar max; agent_id is left out (GIN has no uuid operator class without btree_gin):
-- idx_prompts_agent_created finds a run's prompts.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX idx_prompts_task ON prompts USING gin ((substr(content, strpos(content, '<task>') + 6, GREATEST(strpos(substr(content, strpos(content, '<task>') + 6), '</task>') - 1, 0))) gin_trgm_ops) WHERE strpos(content, '<task>') > 0;
