-- PostgreSQL's V13 turns its search index's pending list off; H2 has no search index (V9), so
-- nothing changes here. The version exists so that both stores stand at the same schema version.
SELECT 1;
