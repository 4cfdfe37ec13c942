-- The seq of the event that made each reaction: history lists a message's reactions (its emoji,
-- and the users of each) in the order of their events, as live clients saw them. reacted_at came
-- from each node's clock, which two nodes need not agree on, and ties fell to each database's
-- collation. Null for the reactions made before this column: they come first, in their old order.
ALTER TABLE message_reactions ADD COLUMN reacted_seq BIGINT;
