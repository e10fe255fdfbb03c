package target

import (
	"context"
	"path/filepath"

	"github.com/creditgate/creditgate/internal/repo"
)

// Binary returns the creditd binary a process or container target of cfg
// runs: cfg.Binary (CREDITGATE_BINARY, e.g. a verify-gates mutant) or the
// one built from the repository (once per process). Gate checks that must
// start creditd themselves with a configuration the target would not use
// (e.g. a listen address the target owns) run this binary.
func Binary(ctx context.Context, cfg Config) (string, error) {
	cfg = cfg.withDefaults()
	if cfg.Binary != "" {
		return filepath.Abs(cfg.Binary)
	}
	root := cfg.Context
	if root == "" {
		var err error
		if root, err = repo.Root(); err != nil {
			return "", err
		}
	}
	return buildBinary(ctx, root, cfg.Logger)
}
