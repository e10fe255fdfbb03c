//go:build mutant

// Seeded bug pg-acknowledges-before-wal-flush (gate B, check CL6d): the
// store's sessions commit with synchronous_commit=off: an append is
// acknowledged before its WAL record is flushed, so a database crash loses
// acknowledged events (only those whose WAL the writer had not yet handed to
// the OS when the crash landed: up to 3 runs).

package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
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
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
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
