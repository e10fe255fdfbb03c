package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/store"
)

// Advisory lock keys (pg_advisory_xact_lock(bigint)).
const (
	// AppendLock serializes every append on the database.
	AppendLock int64 = 0x637265646974 // "credit"
	// migrateLock serializes schema migrations of instances starting together.
	migrateLock int64 = 0x6d6967726174 // "migrat"
)

// ErrSchemaTooNew: the database was migrated by a newer creditd.
var ErrSchemaTooNew = errors.New("pgstore: database schema is newer than this binary")

// Options tune the store. The zero value is valid.
type Options struct {
	// MaxConns bounds the pool (default 6: commands hold at most one
	// connection per instance; the rest serve GET /events).
	MaxConns int32
	// OpTimeout bounds one append transaction or one read batch (default 5s),
	// so an unreachable database turns into a 503, not a hung request.
	OpTimeout time.Duration
	// IdleInTxTimeout is the server-side idle_in_transaction_session_timeout
	// of the store's sessions (default 2s): an instance cut off from the
	// database mid-append (partition, frozen process) must not hold the
	// append lock, and so stall every other instance, until TCP notices.
	IdleInTxTimeout time.Duration
}

// Store is a PostgreSQL event store. Safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	opt  Options
}

var (
	_ store.Store     = (*Store)(nil)
	_ store.KeyLooker = (*Store)(nil)
)

// Open connects to url (postgres://…), checks and migrates the schema and
// returns the store.
func Open(ctx context.Context, url string, opt Options) (*Store, error) {
	if opt.MaxConns <= 0 {
		opt.MaxConns = 6
	}
	if opt.OpTimeout <= 0 {
		opt.OpTimeout = 5 * time.Second
	}
	if opt.IdleInTxTimeout <= 0 {
		opt.IdleInTxTimeout = 2 * time.Second
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pgstore: parse url: %w", err)
	}
	cfg.MaxConns = opt.MaxConns
	// An append is acknowledged only after its commit is flushed to disk,
	// whatever the server default says.
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	cfg.ConnConfig.RuntimeParams["application_name"] = "creditd"
	cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = fmt.Sprint(opt.IdleInTxTimeout.Milliseconds())
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = opt.OpTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	s := &Store{pool: pool, opt: opt}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// migrate applies the missing migrations in one transaction.
func (s *Store) migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
			return fmt.Errorf("pgstore: migrate: lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version    int PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("pgstore: migrate: schema_version: %w", err)
		}
		var have int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&have); err != nil {
			return fmt.Errorf("pgstore: migrate: read version: %w", err)
		}
		if have > SchemaVersion {
			return fmt.Errorf("%w: database is at version %d, this creditd knows up to %d; upgrade creditd",
				ErrSchemaTooNew, have, SchemaVersion)
		}
		for v := have; v < SchemaVersion; v++ {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return fmt.Errorf("pgstore: migrate to version %d: %w", v+1, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, v+1); err != nil {
				return fmt.Errorf("pgstore: migrate: record version %d: %w", v+1, err)
			}
		}
		return nil
	})
}

// KeepSettings records body under name unless the database holds settings
// of that name already, and returns what it holds (the first instance's).
func (s *Store) KeepSettings(ctx context.Context, name string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opt.OpTimeout)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `INSERT INTO settings (name, body) VALUES ($1, $2::jsonb) ON CONFLICT (name) DO NOTHING`, name, string(body)); err != nil {
		return nil, unavailable("record settings", err)
	}
	var have string
	if err := s.pool.QueryRow(ctx, `SELECT body::text FROM settings WHERE name = $1`, name).Scan(&have); err != nil {
		return nil, unavailable("read settings", err)
	}
	return []byte(have), nil
}

// Describe names the database (host:port/name, no credentials).
func (s *Store) Describe() store.Description {
	c := s.pool.Config().ConnConfig
	return store.Description{Kind: "postgresql", Location: fmt.Sprintf("%s:%d/%s", c.Host, c.Port, c.Database)}
}

// Shared is true: other instances append to the same table.
func (s *Store) Shared() bool { return true }

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Begin starts an append under the global append lock and hands over the
// events after `after`. BEGIN, the lock and the catch-up read go to the
// server in one pipeline: one round trip, whatever the lock wait.
func (s *Store) Begin(ctx context.Context, after uint64, apply func(*event.Envelope) error) (store.Tx, error) {
	// The transaction outlives a cancelled request only up to OpTimeout: a
	// half-done append is rolled back by the server when the connection is
	// released, never left holding the lock.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opt.OpTimeout)
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		cancel()
		return nil, unavailable("begin", err)
	}
	t := &pgTx{conn: conn, ctx: ctx, cancel: cancel, next: after + 1}
	// The scan starts at `after` itself: a store that no longer holds the
	// appender's last seq went backwards (it lost acknowledged events: a
	// database restored or crashed with fsync off). Appending after it
	// would write a gap every other instance stops at, so the appender is
	// told to reload instead. In READ COMMITTED the scan's snapshot is taken
	// when it starts, after the lock is granted, so it sees every commit of
	// the lock's previous holder.
	sql, args := scanSQL(after, after > 0, 0)
	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL READ COMMITTED`)
	b.Queue(`SELECT pg_advisory_xact_lock($1)`, AppendLock)
	b.Queue(sql, args...)
	br := conn.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		t.Rollback()
		return nil, unavailable("begin", err)
	}
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		t.Rollback()
		return nil, unavailable("append lock", err)
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		t.Rollback()
		return nil, unavailable("read events", err)
	}
	last, err := scanRows(rows, after, after > 0, func(_ []byte, ev *event.Envelope) (bool, error) {
		if apply != nil {
			if err := apply(ev); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	if cerr := br.Close(); err == nil && cerr != nil {
		err = unavailable("read events", cerr)
	}
	if err != nil {
		t.Rollback()
		return nil, err
	}
	if last > after {
		t.next = last + 1
	}
	return t, nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// scanSQL is the query for the events with seq > after (>= with
// holdsAfter), at most limit of them (0 = all).
func scanSQL(after uint64, holdsAfter bool, limit int) (string, []any) {
	sql := `SELECT seq, line FROM events WHERE seq > $1 ORDER BY seq`
	if holdsAfter {
		sql = `SELECT seq, line FROM events WHERE seq >= $1 ORDER BY seq`
	}
	args := []any{int64(after)}
	if limit > 0 {
		sql += ` LIMIT $2`
		args = append(args, limit)
	}
	return sql, args
}

// scan reads events with seq > after (at most limit, 0 = all) and calls fn
// for each in seq order. It returns the last seq passed to fn. With
// holdsAfter it also requires the store to hold seq `after` itself
// (store.ErrStale otherwise); that row is not passed to fn.
func (s *Store) scan(ctx context.Context, q querier, after uint64, holdsAfter bool, limit int, fn func(line []byte, ev *event.Envelope) (bool, error)) (uint64, error) {
	sql, args := scanSQL(after, holdsAfter, limit)
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return 0, unavailable("read events", err)
	}
	return scanRows(rows, after, holdsAfter, fn)
}

// scanRows is scan's reading half; it closes rows.
func scanRows(rows pgx.Rows, after uint64, holdsAfter bool, fn func(line []byte, ev *event.Envelope) (bool, error)) (uint64, error) {
	type row struct {
		seq  int64
		line []byte
	}
	var got []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.seq, &r.line); err != nil {
			rows.Close()
			return 0, unavailable("read events", err)
		}
		got = append(got, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, unavailable("read events", err)
	}
	if holdsAfter {
		if len(got) == 0 || got[0].seq != int64(after) {
			return after, fmt.Errorf("%w: the store does not hold seq %d, the appender's last: it went backwards", store.ErrStale, after)
		}
		got = got[1:]
	}
	last := after
	for _, r := range got {
		ev, err := event.Decode(r.line)
		if err != nil {
			return last, fmt.Errorf("pgstore: event seq %d: %w", r.seq, err)
		}
		if ev.Seq != uint64(r.seq) {
			return last, fmt.Errorf("pgstore: row seq %d holds an event with seq %d", r.seq, ev.Seq)
		}
		ok, err := fn(r.line, &ev)
		if err != nil {
			return last, err
		}
		last = ev.Seq
		if !ok {
			break
		}
	}
	return last, nil
}

// iterateBatch is how many events one Iterate query reads.
const iterateBatch = 1000

// Iterate reads committed events in batches, without the append lock.
func (s *Store) Iterate(after uint64, fn func(line []byte, ev *event.Envelope) bool) error {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), s.opt.OpTimeout)
		n, stopped := 0, false
		last, err := s.scan(ctx, s.pool, after, false, iterateBatch, func(line []byte, ev *event.Envelope) (bool, error) {
			n++
			if !fn(line, ev) {
				stopped = true
				return false, nil
			}
			return true, nil
		})
		cancel()
		if err != nil || stopped || n < iterateBatch {
			return err
		}
		after = last
	}
}

// pgTx is one append transaction holding the append lock.
type pgTx struct {
	conn   *pgxpool.Conn
	ctx    context.Context
	cancel context.CancelFunc
	next   uint64 // the seq the first committed line must carry
	done   bool
}

// Commit inserts the records and commits, in one round trip (one
// multi-row insert and COMMIT pipelined). It resolves before returning.
func (t *pgTx) Commit(recs []store.Record) <-chan error {
	res := make(chan error, 1)
	res <- t.commit(recs)
	return res
}

func (t *pgTx) commit(recs []store.Record) error {
	defer t.Rollback()
	n := len(recs)
	seqs, keys, ids, types, lines := make([]int64, n), make([]string, n), make([]string, n), make([]string, n), make([][]byte, n)
	for i, r := range recs {
		if r.Seq != t.next+uint64(i) {
			return fmt.Errorf("%w: record %d has seq %d, the store's next is %d", store.ErrStale, i, r.Seq, t.next+uint64(i))
		}
		seqs[i], keys[i], ids[i], types[i], lines[i] = int64(r.Seq), r.Key, r.EventID, r.Type, r.Line
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO events (seq, idempotency_key, event_id, event_type, line)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bytea[])`,
		seqs, keys, ids, types, lines)
	b.Queue(`COMMIT`)
	br := t.conn.SendBatch(t.ctx, b)
	_, err := br.Exec()
	if err != nil {
		_ = br.Close()
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			switch pe.ConstraintName {
			case "events_idempotency_key_key":
				return &store.DuplicateKeyError{Key: duplicateKey(pe.Detail), Detail: pe.Detail}
			case "events_pkey":
				return fmt.Errorf("%w: %s", store.ErrStale, pe.Detail)
			}
		}
		return unavailable("insert", err)
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil || tag.String() != "COMMIT" {
		// The outcome is unknown when the connection broke during COMMIT.
		return unavailable("commit", fmt.Errorf("%v (tag %q)", err, tag.String()))
	}
	t.done = true
	return nil
}

// LookupKeys finds the transactions of keys by the unique index on
// idempotency_key: one query for the primaries, one more for the derived
// events of the multi-event ones (a transaction's events are consecutive
// seqs, committed together).
func (s *Store) LookupKeys(ctx context.Context, keys []string) (map[string][][]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opt.OpTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT idempotency_key, seq, line FROM events WHERE idempotency_key = ANY($1)`, keys)
	if err != nil {
		return nil, unavailable("lookup keys", err)
	}
	type primary struct {
		seq  int64
		line []byte
	}
	got := map[string]primary{}
	for rows.Next() {
		var k string
		var p primary
		if err := rows.Scan(&k, &p.seq, &p.line); err != nil {
			rows.Close()
			return nil, unavailable("lookup keys", err)
		}
		got[k] = p
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, unavailable("lookup keys", err)
	}
	out := make(map[string][][]byte, len(got))
	for k, p := range got {
		ev, err := event.Decode(p.line)
		if err != nil {
			return nil, fmt.Errorf("pgstore: event seq %d: %w", p.seq, err)
		}
		lines := [][]byte{p.line}
		if ev.TxSize > 1 {
			rows, err := s.pool.Query(ctx, `SELECT idempotency_key, line FROM events WHERE seq > $1 AND seq < $2 ORDER BY seq`, p.seq, p.seq+int64(ev.TxSize))
			if err != nil {
				return nil, unavailable("lookup keys", err)
			}
			for rows.Next() {
				var dk string
				var line []byte
				if err := rows.Scan(&dk, &line); err != nil {
					rows.Close()
					return nil, unavailable("lookup keys", err)
				}
				if dk != fmt.Sprintf("%s#%d", k, len(lines)) {
					rows.Close()
					return nil, fmt.Errorf("pgstore: transaction of key %q: seq %d holds key %q", k, p.seq+int64(len(lines)), dk)
				}
				lines = append(lines, line)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, unavailable("lookup keys", err)
			}
		}
		out[k] = lines
	}
	return out, nil
}

// duplicateKey extracts the key from a unique violation's detail,
// "Key (idempotency_key)=(k) already exists."; "" when it has another shape.
func duplicateKey(detail string) string {
	const pre, post = "Key (idempotency_key)=(", ") already exists."
	if strings.HasPrefix(detail, pre) && strings.HasSuffix(detail, post) {
		return detail[len(pre) : len(detail)-len(post)]
	}
	return ""
}

// Rollback releases the lock without writing and returns the connection
// (the pool drops one left inside a transaction).
func (t *pgTx) Rollback() {
	if t.conn == nil {
		return
	}
	if !t.done {
		t.done = true
		if t.conn.Conn().PgConn().TxStatus() != 'I' {
			_, _ = t.conn.Exec(t.ctx, `ROLLBACK`)
		}
	}
	t.conn.Release()
	t.conn = nil
	t.cancel()
}

func unavailable(op string, err error) error {
	return fmt.Errorf("%w: %s: %v", store.ErrUnavailable, op, err)
}

// SynchronousCommit reports the synchronous_commit setting of the store's
// sessions (for tests and /api/health diagnostics).
func SynchronousCommit(ctx context.Context, s *Store) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&v)
	return v, err
}
