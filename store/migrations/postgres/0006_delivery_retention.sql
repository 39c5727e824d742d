-- Processed deliveries are kept for a retention window only (Telegram redelivers within a
-- day; the stored replies are most of a database's size): an index to prune by age.
CREATE INDEX deliveries_by_time ON deliveries (at);
