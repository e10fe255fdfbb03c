//go:build mutant

// Seeded bug settings-last-writer-wins (gate B): the settings row is upserted, so every starting instance overwrites the recorded money settings with its own and never finds them different

package pgstore

import (
	"context"
)

// KeepSettings records body under name unless the database holds settings
// of that name already, and returns what it holds (the first instance's).
func (s *Store) KeepSettings(ctx context.Context, name string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opt.OpTimeout)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `INSERT INTO settings (name, body) VALUES ($1, $2::jsonb) ON CONFLICT (name) DO UPDATE SET body = EXCLUDED.body`, name, string(body)); err != nil {
		return nil, unavailable("record settings", err)
	}
	var have string
	if err := s.pool.QueryRow(ctx, `SELECT body::text FROM settings WHERE name = $1`, name).Scan(&have); err != nil {
		return nil, unavailable("read settings", err)
	}
	return []byte(have), nil
}
