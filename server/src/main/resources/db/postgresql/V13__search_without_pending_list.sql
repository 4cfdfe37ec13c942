-- The search index (V9) without GIN's pending list. With fastupdate on (PostgreSQL's default) an
-- insert appends its words to a list that the next insert past gin_pending_list_limit (4 MB) merges
-- into the index, inside that insert's commit: every few thousand messages one commit took tens of
-- milliseconds, and every ack queued behind it (p99 25 to 33 ms against 9 without the index, one node
-- at 1,000 messages a second). Off, each insert adds its words to the index itself, at about the
-- same CPU: p99 11 ms (docs/BENCHMARKS.md entry 50). PostgreSQL only; db/h2 has this version's H2 side.
ALTER INDEX messages_search SET (fastupdate = off);
