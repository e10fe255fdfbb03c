package pgstore

// migrations[i] brings the schema from version i to i+1. Append only: a
// released migration is never edited.
var migrations = []string{
	// 1: the event stream.
	`CREATE TABLE events (
		seq             bigint PRIMARY KEY CHECK (seq > 0),
		idempotency_key text   NOT NULL,
		event_id        text   NOT NULL,
		event_type      text   NOT NULL,
		line            bytea  NOT NULL,
		committed_at    timestamptz NOT NULL DEFAULT now(),
		CONSTRAINT events_idempotency_key_key UNIQUE (idempotency_key),
		CONSTRAINT events_event_id_key UNIQUE (event_id)
	)`,
	// 2: settings every instance must share (recorded by the first).
	`CREATE TABLE settings (
		name        text PRIMARY KEY,
		body        jsonb NOT NULL,
		recorded_at timestamptz NOT NULL DEFAULT now()
	)`,
}

// SchemaVersion is the newest schema this binary knows.
var SchemaVersion = len(migrations)
