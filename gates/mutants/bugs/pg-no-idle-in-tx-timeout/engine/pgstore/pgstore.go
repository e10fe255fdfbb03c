//go:build mutant

// Seeded bug pg-no-idle-in-tx-timeout (gate D): the store's sessions run without idle_in_transaction_session_timeout, so an instance frozen inside its append transaction holds the append lock, and stalls every other instance, until TCP notices

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
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	cfg.ConnConfig.RuntimeParams["application_name"] = "creditd"
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
