package target

import (
	"context"
	"fmt"

	"github.com/creditgate/creditgate/internal/pglaunch"
)

// newPostgres launches the throwaway PostgreSQL a cluster target owns.
// Small on purpose: 50 connections; fsync stays on.
//
// wal_writer_delay=10s: a commit acknowledged before its WAL record was
// written (a backend whose sessions set synchronous_commit=off) stays in
// PostgreSQL's WAL buffers until a page fills or 10 s pass, so the
// database crash of the cluster specs loses it for certain instead of only
// inside the default 200 ms window. Synchronous commits write and flush
// their own WAL and are unaffected.
func newPostgres(ctx context.Context) (*pglaunch.Server, error) {
	if err := pglaunch.Installed(); err != nil {
		return nil, fmt.Errorf("target: cluster needs %w", err)
	}
	return pglaunch.Start(ctx, pglaunch.Options{MaxConnections: 50, DataChecksums: true,
		Settings: []string{"synchronous_commit=on", "wal_writer_delay=10s"}})
}
