-- Search (issue 21): a GIN index of the words of each message, for GET /api/search (PROTOCOL.md 3.7).
-- PostgreSQL only; db/h2 has this version's H2 side. The expression is store.SearchQuery.TSVECTOR, which
-- every search spells the same way: ASCII punctuation becomes spaces (so that a URL, an address or
-- foo_bar is several words, as on H2), and the 'simple' configuration only lower-cases the words (no
-- stemming, no stop words: a chat mixes languages and names). PostgreSQL keeps it on INSERT and on
-- UPDATE (an edited text is found by its new words, an emptied one by none). Room events (kind set)
-- are never searched, so they are not indexed.
CREATE INDEX messages_search ON messages USING GIN (to_tsvector('simple', translate(text, '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', '                                '))) WHERE kind IS NULL;
