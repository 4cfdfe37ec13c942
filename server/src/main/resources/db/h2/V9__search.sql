-- Search (issue 21), the embedded H2's side of version 9 (db/postgresql has PostgreSQL's index): none.
-- H2 searches by reading the messages of the rooms searched (store.MessageSearch says why): an index
-- of words kept by each group commit cost about seven times an append's own work. This file only
-- keeps the versions of both databases in step.
SELECT 1;
